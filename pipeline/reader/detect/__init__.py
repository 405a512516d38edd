"""Reading a registered page: every checkbox's state and every free-text area's ink.

`read_boxes` measures each box (pipeline/reader/detect/marks.py: outline search, local paper/ink normalisation and several
SDAPS-style metrics, decided per box), then applies the printed marking convention per question: "postaw
krzyżyk w kratce; pomyłka? zamaluj całą błędną kratkę i postaw krzyżyk we właściwej". A fully filled box
next to a cross in the same single-choice question, grid row or multi question is a correction and reads
as empty; a filled box with no cross beside it could be either, so a person decides. Two crosses in a
single-choice question or a grid row are reported, never resolved: only a reviewer may call an answer
invalid.

`read_text_areas` says whether each handwriting area holds ink (printed guide lines, specks and JPEG
noise excluded) and keeps a small grey crop of the areas that do, for the reviewer and for OCR.

Input images are upright 8-bit grey at any resolution; the registration says where the frozen geometry
(points) lands in pixels. Everything is measured on patches resampled upright at a fixed resolution, so
thresholds are in millimetres whatever the scanner did.
"""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.base import config as C
from pipeline.reader.detect import marks, patches
from pipeline.records.form_geometry import PageGeometry, TextAreaGeom
from pipeline.records.layout import FormLayout
from pipeline.records.reading import BoxReading, BoxState, Registration, TextReading

CANCELLED_REASON = "anulowane (zamalowane)"
FILLED_ALONE_REASON = "zamalowana kratka bez krzyżyka obok – odpowiedź czy anulowanie?"
FILLED_NEXT_TO_UNSURE_REASON = "zamalowana kratka, a drugi znak w pytaniu niepewny – anulowanie?"
MULTIPLE_MARKS = "więcej niż jedno zaznaczenie"


# --- boxes ---------------------------------------------------------------------------------------

def read_boxes(image: np.ndarray, reg: Registration, page: PageGeometry,
               layout: FormLayout) -> tuple[tuple[BoxReading, ...], tuple[str, ...]]:
    """Read every box of the page; return the readings (in page.boxes order) and question-level issues.

    Issues are Polish, prefixed with the question id ("q1: więcej niż jedno zaznaczenie"); a question with
    nothing marked raises none (whether an answer was required is not the reader's business).
    """
    if not page.boxes:
        return (), ()
    grey = _as_grey(image)
    h = patches.homography(reg.matrix)
    evidence = marks.measure_boxes(grey, h, [b.rect for b in page.boxes], reg.scale_px_per_pt)
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


def _as_grey(image: np.ndarray) -> patches.Grey:
    """Accept what a caller may reasonably pass: uint8 grey, or a colour / 16-bit array by mistake."""
    img = np.asarray(image)
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY if img.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
    if img.dtype != np.uint8:
        scale = 255.0 / 65535.0 if img.dtype == np.uint16 else 1.0
        img = np.clip(img.astype(np.float32) * scale, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(img)


# --- free-text areas -----------------------------------------------------------------------------

def read_text_areas(image: np.ndarray, reg: Registration, page: PageGeometry) -> tuple[TextReading, ...]:
    """Whether each handwriting area holds ink, how much, and (only if it does) a grey PNG crop of it."""
    if not page.text_areas:
        return ()
    grey = _as_grey(image)
    h = patches.homography(reg.matrix)
    src_px_per_mm = reg.scale_px_per_pt * C.PT_PER_MM
    out = []
    for area in page.text_areas:
        ink_ratio, has_ink = _text_ink(grey, h, area)
        crop = _crop_png(grey, h, area, src_px_per_mm) if has_ink else b""
        out.append(TextReading(area_id=area.id, has_ink=has_ink, ink_ratio=round(ink_ratio, 5), crop_png=crop))
    return tuple(out)


def _darkness(grey: np.ndarray, white: float) -> np.ndarray:
    """Darkness 0..1 relative to the paper level `white` (float32)."""
    return np.clip((white - grey.astype(np.float32)) / white, 0.0, 1.0)


def _row_median_darkness(grey: patches.Grey, white: float) -> np.ndarray:
    """np.median of each row's _darkness, from the grey levels' order statistics: darkness falls as grey rises,
    so the middle one or two grey levels give the middle darkness values. The same numbers as the median of
    the darkness array, ~4x faster."""
    k = grey.shape[1]
    middle = patches.row_order_stats(grey, [(k - 1) // 2, k // 2])   # one position twice if k is odd
    return _darkness(middle, white).mean(axis=1)


def _text_ink(grey: patches.Grey, h: patches.Matrix, area: TextAreaGeom) -> tuple[float, bool]:
    """Share of the area that is handwriting, and whether that is enough to call it written in.

    The printed guide lines are found near where they should be — by the row whose median darkness peaks,
    which handwriting crossing a line barely moves — and their common offset corrects the registration
    locally (up to DETECT_GUIDE_SEARCH_MM): otherwise the label printed just above the area would slide into
    it. The lines themselves are then masked out.
    """
    res = C.DETECT_TEXT_RES_PX_PER_MM
    r = area.rect
    margin_mm = C.DETECT_GUIDE_SEARCH_MM + C.DETECT_TEXT_BELOW_MM
    m = round(margin_mm * res)
    w_px = round(r.w / C.PT_PER_MM * res) + 2 * m
    h_px = round(r.h / C.PT_PER_MM * res) + 2 * m
    patch = patches.sample(grey, h, r.x - margin_mm * C.PT_PER_MM, r.y - margin_mm * C.PT_PER_MM, w_px, h_px, res)
    white = max(patches.paper_level(patch, C.DETECT_PAPER_PERCENTILE), C.DETECT_MIN_PAPER_GREY_LEVEL)
    dark = _darkness(patch, white)
    row_median = _row_median_darkness(patch[:, m:w_px - m:4], white)    # every 4th column is plenty for a median
    n_lines = max(round(r.h / C.PT_PER_MM / C.TEXT_LINE_PITCH_MM), 1)
    expected = [m + round(n * C.TEXT_LINE_PITCH_MM * res) for n in range(1, n_lines + 1)]
    reach = round(C.DETECT_GUIDE_SEARCH_MM * res)
    found: list[int] = []
    for e in expected:
        lo, hi = max(e - reach, 0), min(e + reach + 1, h_px)
        at = lo + int(np.argmax(row_median[lo:hi]))
        if row_median[at] >= C.DETECT_GUIDE_MIN_DARKNESS_RATIO:
            found.append(at - e)
    dy = int(np.median(found)) if found else 0
    top = m + dy + round(C.DETECT_TEXT_TOP_SKIP_MM * res)
    bottom = m + dy + round((r.h / C.PT_PER_MM + C.DETECT_TEXT_BELOW_MM) * res)
    ink = dark[top:bottom, m:w_px - m] >= C.DETECT_TEXT_INK_RATIO
    band = round(C.DETECT_GUIDE_BAND_MM * res)
    for e in expected:
        # each line where it was found (it may bow a little), else where the others say it is
        lo, hi = max(e + dy - reach // 2, 0), min(e + dy + reach // 2 + 1, h_px)
        at = lo + int(np.argmax(row_median[lo:hi]))
        if row_median[at] < C.DETECT_GUIDE_MIN_DARKNESS_RATIO:
            at = e + dy
        ink[max(at - band - top, 0):max(at + band + 1 - top, 0), :] = False
    if not ink.any():
        return 0.0, False       # the usual case, without the connected-components pass over the whole area
    kept, extent_px = marks.drop_specks(ink, C.DETECT_TEXT_SPECK_MAX_MM * res)
    count = int(kept.sum())
    has_ink = count / (res * res) >= C.DETECT_TEXT_MIN_INK_MM2 and extent_px / res >= C.DETECT_TEXT_MIN_EXTENT_MM
    return count / float(max(kept.size, 1)), bool(has_ink)


def _crop_png(grey: patches.Grey, h: patches.Matrix, area: TextAreaGeom, src_px_per_mm: float) -> bytes:
    """The area plus a margin, upright, grey, at the scan's resolution but never above DETECT_CROP_DPI."""
    res = min(C.DETECT_CROP_DPI / 25.4, src_px_per_mm)
    m = C.DETECT_CROP_MARGIN_MM
    r = area.rect
    w_px = round((r.w / C.PT_PER_MM + 2 * m) * res)
    h_px = round((r.h / C.PT_PER_MM + 2 * m) * res)
    crop = patches.sample(grey, h, r.x - m * C.PT_PER_MM, r.y - m * C.PT_PER_MM, w_px, h_px, res)
    # run-length strategy: 2x faster than the default and ~15 % smaller on scanned handwriting (measured)
    ok, buf = cv2.imencode(".png", crop, [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE])
    return bytes(buf) if ok else b""
