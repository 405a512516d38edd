"""Reading a registered page's checkboxes, top to bottom: every box goes through

1. sampling (`sampling`): resampled upright at a fixed resolution, with its paper level;
2. locating (`outline`): its printed outline found in the patch, first within DETECT_NEAR_SEARCH_MM of
   where registration puts it, then ±½ box for a box not found clearly there;
3. measuring (`measure`): the ink inside the outline, normalised by paper and outline;
4. classifying (`classify`): marked / empty / filled / uncertain with a confidence, box by box;
5. the question rules (here): the printed marking convention per question, "postaw krzyżyk w kratce;
   pomyłka? zamaluj całą błędną kratkę i postaw krzyżyk we właściwej". A fully filled box next to a cross in
   the same single-choice question, grid row or multi question is a correction and reads as empty; a filled
   box with no cross beside it could be either, so a person decides. Two crosses in a single-choice question
   or a grid row are reported, never resolved: only a reviewer may call an answer invalid.

Input images are upright 8-bit grey at any resolution; the registration says where the frozen geometry
(points) lands in pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pipeline.base import config as C
from pipeline.base.geometry import Rect
from pipeline.reader.detect import measure
from pipeline.reader.detect.classify import classify
from pipeline.reader.detect.outline import Located, locate, outline_plan
from pipeline.reader.detect.sampling import Grey, Matrix, as_grey, homography
from pipeline.records.form_geometry import PageGeometry
from pipeline.records.layout import FormLayout
from pipeline.records.reading import BoxReading, BoxState, Registration

CANCELLED_REASON = "anulowane (zamalowane)"
FILLED_ALONE_REASON = "zamalowana kratka bez krzyżyka obok – odpowiedź czy anulowanie?"
FILLED_NEXT_TO_UNSURE_REASON = "zamalowana kratka, a drugi znak w pytaniu niepewny – anulowanie?"
MULTIPLE_MARKS = "więcej niż jedno zaznaczenie"


@dataclass(frozen=True)
class BoxEvidence:
    """One box's measurements (what BoxReading.metrics stores) and its verdict without question context.

    `state` is "marked", "empty", "filled" (a fully filled box: an answer or a cancellation, the question
    rules decide from the other boxes of the question) or "uncertain".
    """

    state: str
    confidence: float
    reason: str
    metrics: dict[str, float]


def _evidence(image: Grey, h: Matrix, rects: Sequence[Rect], px_per_pt: float) -> list[BoxEvidence]:
    """Steps 1-4 for every box, without question context. Boxes of one size are processed as one stack."""
    out: list[BoxEvidence | None] = [None] * len(rects)
    groups: dict[float, list[int]] = {}
    for i, r in enumerate(rects):
        # printed boxes are square; a frozen rect's w and h differ only by rounding
        groups.setdefault(round((r.w + r.h) / 2 / C.PT_PER_MM, 2), []).append(i)
    for box_mm, idx in groups.items():
        for i, ev in zip(idx, _group_evidence(image, h, [rects[i] for i in idx], box_mm, px_per_pt), strict=True):
            out[i] = ev
    return [ev for ev in out if ev is not None]


def _group_evidence(image: Grey, h: Matrix, rects: Sequence[Rect], box_mm: float, px_per_pt: float) -> list[BoxEvidence]:
    """Near first: every box is sampled with room for a ±DETECT_NEAR_SEARCH_MM outline search, 58 % of the
    pixels the ±½ box search needs (registration puts boxes within 0.2 mm on every bench page; the
    sampling and search were a third of the whole read). A box whose outline is not found clearly, or only
    at the edge of that window, is sampled again and searched ±½ box (SDAPS), so a box displaced further
    (a stretched or lifted sheet, a poor marker fit) is still found, or flagged."""
    full = outline_plan(box_mm, box_mm * C.DETECT_SEARCH_BOX_RATIO)
    near = outline_plan(box_mm, min(C.DETECT_NEAR_SEARCH_MM, box_mm * C.DETECT_SEARCH_BOX_RATIO))
    out: list[BoxEvidence | None] = [None] * len(rects)
    loc = locate(image, h, rects, near)                                                   # steps 1-2
    # (boxes so small that ±½ box is within the near reach have nothing wider to be searched in)
    settled = ((np.maximum(abs(loc.dy), abs(loc.dx)) < near.search - 1) & (loc.quality >= 1.0)
               | (near.search >= full.search))
    kept = np.flatnonzero(settled)
    for i, ev in zip(kept.tolist(), _judge(loc, kept, px_per_pt), strict=True):
        out[i] = ev
    rest = np.flatnonzero(~settled).tolist()
    if rest:
        wide = locate(image, h, [rects[i] for i in rest], full)                           # steps 1-2 again
        for i, ev in zip(rest, _judge(wide, np.arange(len(rest)), px_per_pt), strict=True):
            out[i] = ev
    return [ev for ev in out if ev is not None]


def _judge(loc: Located, idx: NDArray[np.int64], px_per_pt: float) -> list[BoxEvidence]:
    """Steps 3-4 for the boxes `idx` of a located stack: measure, classify, and where a person may look
    (uncertain, or filled) add the straight-strokes evidence."""
    out = []
    for m in measure.inside(loc, idx, px_per_pt):                                          # step 3
        state, conf, reason = classify(m.metrics)                                          # step 4
        if m.ink is not None and state in ("uncertain", "filled"):
            m.metrics["lines_residual"] = measure.lines_metric(m.ink, m.metrics["stroke_mm"])
        out.append(BoxEvidence(state, conf, reason, m.metrics))
    return out


# --- step 5: the question rules ----------------------------------------------------------------------

def read_boxes(image: np.ndarray, reg: Registration, page: PageGeometry,
               layout: FormLayout) -> tuple[tuple[BoxReading, ...], tuple[str, ...]]:
    """Read every box of the page; return the readings (in page.boxes order) and question-level issues.

    Issues are Polish, prefixed with the question id ("q1: więcej niż jedno zaznaczenie"); a question with
    nothing marked raises none (whether an answer was required is not the reader's business).
    """
    if not page.boxes:
        return (), ()
    evidence = _evidence(as_grey(image), homography(reg.matrix), [b.rect for b in page.boxes], reg.scale_px_per_pt)
    kinds = {q.id: q.kind for q in layout.questions}
    states = [ev.state for ev in evidence]
    confs = [ev.confidence for ev in evidence]
    reasons = [ev.reason for ev in evidence]

    groups: dict[tuple[str, str | None], list[int]] = {}
    for i, b in enumerate(page.boxes):
        groups.setdefault((b.question, b.row), []).append(i)
    issues: list[str] = []
    for (qid, row), idx in groups.items():
        crosses = [i for i in idx if states[i] == "marked"]
        fills = [i for i in idx if states[i] == "filled"]
        unsure = any(states[i] == "uncertain" for i in idx)
        for i in fills:
            if crosses:
                # the convention's correction: confident only as far as both the fill and the cross are
                states[i], reasons[i] = "empty", CANCELLED_REASON
                confs[i] = min(confs[i], max(confs[c] for c in crosses))
            else:
                states[i], reasons[i] = "uncertain", FILLED_NEXT_TO_UNSURE_REASON if unsure else FILLED_ALONE_REASON
                confs[i] = min(confs[i], C.DETECT_MIN_CONFIDENCE_RATIO - 0.01)
        # a question missing from the layout gets no one-answer rule: better no issue than a false one
        if kinds.get(qid, "multi") in ("single", "grid") and len(crosses) > 1:
            where = f"wiersz „{row}” – " if row is not None else ""
            issues.append(f"{qid}: {where}{MULTIPLE_MARKS}")

    readings = tuple(
        BoxReading(
            box_id=b.id, state=_box_state(states[i]),
            confidence=round(confs[i], 3), metrics={**ev.metrics, "filled": 1.0 if ev.state == "filled" else 0.0},
            reason=reasons[i],
        )
        for i, (b, ev) in enumerate(zip(page.boxes, evidence, strict=True))
    )
    return readings, tuple(issues)


def _box_state(state: str) -> BoxState:
    """After the question rules no box is "filled" any more; anything unexpected is for a person."""
    if state == "marked":
        return "marked"
    if state == "empty":
        return "empty"
    return "uncertain"
