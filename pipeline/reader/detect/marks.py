"""Reading one printed checkbox: measuring the ink inside its outline and deciding its state.

Follows SDAPS (NOTES.md, "How established OMR systems read marks"): every box is resampled from the scan
into a small upright patch at a fixed resolution (so every threshold below is in millimetres, whatever the
scan's DPI or skew) and its printed outline is found in the patch (pipeline/reader/detect/patches.py): first within
DETECT_NEAR_SEARCH_MM of where registration puts it, and ±½ box for a box not found clearly there. Only
the inside of the box, shrunk by 1.5 line widths, is measured, normalised by the paper level around
the box and the darkness of its own printed outline. Several metrics look at that ink:

- coverage: share of the inside that is ink, after dropping specks (scanner dust, toner spray) and the
  fringe a blurred outline leaves along the border;
- extent_mm: size of the largest single ink structure (a cross spans the box, dust and slips do not);
- lines_residual: share of the ink left after erasing the strongest straight strokes (SDAPS: a cross,
  tick or slash nearly vanishes, a fill does not). With marker-wide strokes it separates less well than
  the two below, which decide, so it is evidence for a person only: measured for the boxes a person may
  look at (uncertain, or filled) and absent from the others (it was ~5 % of the whole read);
- white_share: share of the inside far from any ink (empty = 1, cross 0.1-0.8, filled = 0);
- solid_share: share of the inside deep inside a blob of ink (filled ~1, pen crosses ~0, markers <= 0.5);
- faint_extent_mm, specks/spread_mm: traces too pale, or too broken up (pencil in a bilevel scan), to be
  ink; they never make a mark, only keep a box from being called empty (so they are measured only in
  boxes that could be empty, and are 0 in the others);
- darkness: mean darkness above the noise floor (recorded for the reviewer and for tuning).

`classify` turns them into a state with a confidence; anything between the clear regions is "uncertain"
with a Polish reason, because a wrong confident answer is the one error a reviewer never sees.
This module is detect's helper: it knows nothing about questions (detect.py applies those rules).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.base import config as C
from pipeline.base.geometry import Rect
from pipeline.reader.detect import patches
from pipeline.reader.detect.patches import RES, Floats, Grey, Located, Matrix

# --- measuring the inside ------------------------------------------------------------------------

@cache
def _projections(n: int) -> tuple[NDArray[np.float32], NDArray[np.int64], int]:
    """For an n x n square and each angle: every pixel's signed distance from the line through the centre,
    and its Radon bin (rounded distance, offset per angle so one bincount counts all angles)."""
    angles = np.arange(C.DETECT_LINE_ANGLES) * np.pi / C.DETECT_LINE_ANGLES
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) - (n - 1) / 2.0
    proj = (np.cos(angles)[:, None, None] * xx[None] + np.sin(angles)[:, None, None] * yy[None]).reshape(len(angles), -1)
    nbins = int(np.ceil(n * 0.75)) * 2 + 1
    bins = np.clip(np.rint(proj).astype(np.int64) + nbins // 2, 0, nbins - 1)
    bins += (np.arange(len(angles), dtype=np.int64) * nbins)[:, None]
    return proj.astype(np.float32), bins, nbins


def lines_residual(ink: NDArray[np.bool_], width_px: float, px_per_mm: float) -> float:
    """Share of the ink left after erasing up to DETECT_LINES_ERASED strongest straight strokes of width_px.

    A discrete Radon transform over the ink pixels: votes per (angle, offset), summed over a stroke's
    width so a thick stroke counts as one line; the best band is erased and the votes recounted (SDAPS).
    """
    proj, all_bins, nbins = _projections(ink.shape[0])
    flat = np.flatnonzero(ink.ravel())
    total = flat.size
    if total == 0:
        return 0.0
    n_angles = proj.shape[0]
    half = nbins // 2
    bins = all_bins[:, flat]                             # angles x ink pixels
    size = n_angles * nbins
    votes = np.bincount(bins.ravel(), minlength=size).reshape(n_angles, nbins)
    alive = np.ones(total, dtype=bool)
    w = max(round(width_px), 1)
    min_votes = C.DETECT_LINE_MIN_LENGTH_MM * px_per_mm * width_px
    reach = width_px / 2 + C.DETECT_LINE_ERASE_SLACK_MM * px_per_mm
    cum = np.zeros((n_angles, nbins + 1), dtype=np.int64)
    for _ in range(C.DETECT_LINES_ERASED):
        np.cumsum(votes, axis=1, out=cum[:, 1:])
        band = cum[:, w:] - cum[:, :-w]                  # votes in w consecutive offsets
        k, b = divmod(int(np.argmax(band)), band.shape[1])
        if band[k, b] < min_votes:
            break
        erased = alive & (np.abs(proj[k, flat] - (b + (w - 1) / 2.0 - half)) <= reach)
        alive &= ~erased
        votes -= np.bincount(bins[:, erased].ravel(), minlength=size).reshape(n_angles, nbins)
    return float(alive.sum()) / total


def drop_specks(mask: NDArray[np.bool_], max_extent_px: float, core_px: int = 0) -> tuple[NDArray[np.bool_], float]:
    """Remove specks; return the remaining ink and the size (px) of its largest single structure.

    Ink pixels closer than DETECT_STROKE_GAP_MM are grouped first (a pencil or bilevel stroke breaks up),
    then groups no wider/taller than max_extent_px are dropped as dust. The size is per group, never of
    the union: four dust specks in four corners must not look like one mark spanning the box. With
    core_px, groups must also reach further than core_px from the border: a blurred box outline leaves a
    thin fringe along the border, a mark does not stay there.
    """
    mask_u8 = mask.view(np.uint8)
    gap = round(C.DETECT_STROKE_GAP_MM * RES)
    grouped = cv2.dilate(mask_u8, np.ones((gap + 1, gap + 1), np.uint8)) if gap > 0 else mask_u8
    count, labels, stats, _ = cv2.connectedComponentsWithStats(grouped, connectivity=8)
    if count <= 1:
        return mask, 0.0
    size = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) - gap
    size[0] = 0
    keep = size > max_extent_px
    if core_px > 0:
        core = labels[core_px:labels.shape[0] - core_px, core_px:labels.shape[1] - core_px]
        keep &= np.bincount((core * mask_u8[core_px:labels.shape[0] - core_px, core_px:labels.shape[1] - core_px]).ravel(),
                            minlength=count)[:count] > 0
    if not keep.any():
        return np.zeros_like(mask), 0.0
    return mask & keep[labels], float(size[keep].max())


def _scatter(mask: NDArray[np.bool_]) -> tuple[int, float]:
    """How many separate bits of ink (grouped as in drop_specks) and how far apart they spread (px)."""
    gap = round(C.DETECT_STROKE_GAP_MM * RES)
    grouped = cv2.dilate(mask.view(np.uint8), np.ones((gap + 1, gap + 1), np.uint8))
    count = cv2.connectedComponents(grouped, connectivity=8)[0] - 1
    ys, xs = np.nonzero(mask)
    if count <= 0:
        return 0, 0.0
    return count, float(max(ys.max() - ys.min(), xs.max() - xs.min()) + 1)


@dataclass(frozen=True)
class BoxEvidence:
    """One box's measurements (what BoxReading.metrics stores) and its verdict without question context.

    `state` is "marked", "empty", "filled" (a fully filled box: an answer or a cancellation, detect decides
    from the other boxes of the question) or "uncertain".
    """

    state: str
    confidence: float
    reason: str
    metrics: dict[str, float]


def measure_boxes(image: Grey, h: Matrix, rects: Sequence[Rect], px_per_pt: float) -> list[BoxEvidence]:
    """Sample every box, find its outline, measure the inside and classify it (no question context).

    Boxes of one size are processed as one stack; only boxes with some ink get the per-box shape metrics.
    """
    out: list[BoxEvidence | None] = [None] * len(rects)
    groups: dict[float, list[int]] = {}
    for i, r in enumerate(rects):
        # printed boxes are square; a frozen rect's w and h differ only by rounding
        groups.setdefault(round((r.w + r.h) / 2 / C.PT_PER_MM, 2), []).append(i)
    for box_mm, idx in groups.items():
        for i, ev in zip(idx, _measure_group(image, h, [rects[i] for i in idx], box_mm, px_per_pt), strict=True):
            out[i] = ev
    return [ev for ev in out if ev is not None]


def _measure_group(image: Grey, h: Matrix, rects: Sequence[Rect], box_mm: float, px_per_pt: float) -> list[BoxEvidence]:
    """Near first: every box is sampled with room for a ±DETECT_NEAR_SEARCH_MM outline search, 58 % of the
    pixels the ±½ box search needs (registration puts boxes within 0.2 mm on every bench page; the
    sampling and search were a third of the whole read). A box whose outline is not found clearly, or only
    at the edge of that window, is sampled again and searched ±½ box (SDAPS), so a box displaced further
    (a stretched or lifted sheet, a poor marker fit) is still found, or flagged."""
    full = patches.outline_plan(box_mm, box_mm * C.DETECT_SEARCH_BOX_RATIO)
    near = patches.outline_plan(box_mm, min(C.DETECT_NEAR_SEARCH_MM, box_mm * C.DETECT_SEARCH_BOX_RATIO))
    out: list[BoxEvidence | None] = [None] * len(rects)
    loc = patches.locate(image, h, rects, near)
    # (boxes so small that ±½ box is within the near reach have nothing wider to be searched in)
    settled = ((np.maximum(abs(loc.dy), abs(loc.dx)) < near.search - 1) & (loc.quality >= 1.0)
               | (near.search >= full.search))
    kept = np.flatnonzero(settled)
    for i, ev in zip(kept.tolist(), _evidence(loc, kept, px_per_pt), strict=True):
        out[i] = ev
    rest = np.flatnonzero(~settled).tolist()
    if rest:
        wide = patches.locate(image, h, [rects[i] for i in rest], full)
        for i, ev in zip(rest, _evidence(wide, np.arange(len(rest)), px_per_pt), strict=True):
            out[i] = ev
    return [ev for ev in out if ev is not None]


def _evidence(loc: Located, idx: NDArray[np.int64], px_per_pt: float) -> list[BoxEvidence]:
    """Measure the inside of the boxes `idx` of a located stack and classify them."""
    if not idx.size:
        return []
    plan, dark = loc.plan, loc.dark
    dy, dx, white = loc.dy[idx], loc.dx[idx], loc.white[idx]
    cy, cx = plan.centre + dy, plan.centre + dx

    # Normalise by the printed outline's own darkness: a pale photocopy or a light scanner setting makes
    # the outline and the marks paler together.
    ring = dark[idx[:, None], cy[:, None] + plan.ring_y[None], cx[:, None] + plan.ring_x[None]]
    k = int(ring.shape[1] * C.DETECT_OUTLINE_PERCENTILE / 100.0)
    ink_ref = np.clip(np.partition(ring, k, axis=1)[:, k], C.DETECT_MIN_INK_REFERENCE_RATIO, 1.0)

    k_in = plan.inner       # the measured square, sliced per box (fancy indexing all at once was 10x slower)
    inner = np.stack([dark[j, y - k_in:y + k_in + 1, x - k_in:x + k_in + 1]
                      for j, y, x in zip(idx.tolist(), cy.tolist(), cx.tolist(), strict=True)])
    inner = np.minimum(inner / ink_ref[:, None, None], 1.0)
    raw = inner >= C.DETECT_INK_RATIO
    # Faint traces are looked for a little further in: a blurred outline's fringe is faint too.
    fi = round(C.DETECT_BORDER_FRINGE_MM * RES)
    faint = inner[:, fi:inner.shape[1] - fi, fi:inner.shape[2] - fi] >= C.DETECT_FAINT_INK_RATIO
    n_px = float(inner.shape[1] * inner.shape[2])
    raw_cov = raw.sum(axis=(1, 2)) / n_px
    darkness = np.maximum(inner - C.DETECT_NOISE_FLOOR_RATIO, 0.0).mean(axis=(1, 2))
    has_faint = faint.any(axis=(1, 2))
    score, quality = loc.score[idx], loc.quality[idx]
    to_px = C.PT_PER_MM / RES * px_per_pt
    result = []
    no_ink: tuple[str, float, float] | None = None
    for i in range(len(idx)):
        m: dict[str, float] = {
            "dx_px": float(dx[i]) * to_px, "dy_px": float(dy[i]) * to_px,
            "position_quality": float(quality[i]), "outline_score": float(score[i]),
            "paper_level": float(white[i]), "ink_reference": float(ink_ref[i]),
            "coverage_raw": float(raw_cov[i]), "coverage": 0.0, "coverage_strong": 0.0,
            "darkness": float(darkness[i]), "extent_mm": 0.0, "faint_extent_mm": 0.0, "specks": 0.0, "spread_mm": 0.0,
            "stroke_mm": 0.0, "white_share": 1.0, "solid_share": 0.0,
        }
        if raw_cov[i] > 0 or has_faint[i]:
            ink = _shape_metrics(inner[i], raw[i], faint[i], m)
            state, conf, reason = classify(m)
            if ink is not None and state in ("uncertain", "filled"):
                m["lines_residual"] = _lines_metric(ink, m["stroke_mm"])
        else:
            # no ink at all: the shape metrics are their defaults, so the support is the same for every such box
            no_ink = no_ink or support(m)
            state, conf, reason = decide(m, *no_ink)
        result.append(BoxEvidence(state, conf, reason, m))
    return result


def _shape_metrics(inner: Floats, raw: NDArray[np.bool_], faint: NDArray[np.bool_],
                   m: dict[str, float]) -> NDArray[np.bool_] | None:
    """The metrics that need the ink's shape, for one box with some ink (filled into m); returns the ink
    left after dropping specks, None if none is left."""
    speck_px = C.DETECT_SPECK_MAX_MM * RES
    ink, extent_px = drop_specks(raw, speck_px, round(C.DETECT_BORDER_FRINGE_MM * RES))
    count = int(ink.sum())
    m["coverage"] = count / float(ink.size)
    m["coverage_strong"] = int((ink & (inner >= C.DETECT_STRONG_INK_RATIO)).sum()) / float(ink.size)
    m["extent_mm"] = extent_px / RES
    if m["coverage"] < C.DETECT_EMPTY_COVERAGE_MAX_RATIO and m["extent_mm"] < C.DETECT_EMPTY_EXTENT_MAX_MM:
        # Could still be empty: look for traces too pale or too broken up to be ink (left at 0 otherwise).
        _, faint_px = drop_specks(faint, speck_px)
        m["faint_extent_mm"] = faint_px / RES
        # A grainy pencil stroke in a bilevel scan is a dotted line of specks: each too small to count,
        # together a trace. Dust is one to a few specks.
        groups, spread_px = _scatter(raw)
        m["specks"], m["spread_mm"] = float(groups), spread_px / RES
    if count == 0:
        return None
    # Paper outside the measured square counts as paper for white_share and as ink for solid_share (it is
    # the printed outline): a fill reaching the edges is then solid throughout.
    ink_u8 = ink.view(np.uint8)
    white_dist = cv2.distanceTransform(1 - ink_u8, cv2.DIST_L2, 3)
    ink_dist = cv2.distanceTransform(cv2.copyMakeBorder(ink_u8, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=1), cv2.DIST_L2,
                                     3)[1:-1, 1:-1]
    ink_dist = np.minimum(ink_dist, float(ink.shape[0]))
    # a band of width w has mean distance-to-paper ~ w/4 (+ half a pixel of discretisation)
    stroke = max(4.0 * float(ink_dist[ink].mean()) - 2.0, 1.0)
    m["stroke_mm"] = stroke / RES
    m["white_share"] = float((white_dist >= C.DETECT_WHITE_RADIUS_MM * RES).mean())
    m["solid_share"] = float((ink_dist >= C.DETECT_SOLID_RADIUS_MM * RES).mean())
    return ink


def _lines_metric(ink: NDArray[np.bool_], stroke_mm: float) -> float:
    """lines_residual of a box's ink, erasing strokes as wide as the ink's own (within sane pen widths)."""
    erase = min(max(stroke_mm * RES, C.DETECT_STROKE_MIN_MM * RES), C.DETECT_STROKE_MAX_MM * RES)
    # at half resolution (OR-pooled, so no thin stroke is lost): a quarter of the pixels, the same answer
    k = ink.shape[0] // 2 * 2
    pooled = ink[:k:2, :k:2] | ink[1:k:2, :k:2] | ink[:k:2, 1:k:2] | ink[1:k:2, 1:k:2]
    return lines_residual(pooled, erase / 2, RES / 2)


# --- the decision --------------------------------------------------------------------------------

def ramp(x: float, lo: float, hi: float) -> float:
    """0 at lo, 1 at hi, linear between (hi below lo gives a falling ramp)."""
    return min(max((x - lo) / (hi - lo), 0.0), 1.0)


def classify(m: dict[str, float]) -> tuple[str, float, str]:
    """State, confidence 0..1 and a Polish reason from one box's metrics (no question context).

    Each state gets a support 0..1 from the metrics (SDAPS maps each metric to a state and a quality); the
    best wins, its confidence is reduced by the runner-up's support and capped by the position quality.
    Below DETECT_MIN_CONFIDENCE_RATIO the box is "uncertain": a person looks at it.
    """
    return decide(m, *support(m))


def support(m: dict[str, float]) -> tuple[str, float, float]:
    """The best-supported state, its support and the runner-up's (classify's first half: not the position)."""
    cov, white, solid, extent = m["coverage"], m["white_share"], m["solid_share"], m["extent_mm"]
    empty = min(
        ramp(cov, C.DETECT_EMPTY_COVERAGE_MAX_RATIO, C.DETECT_EMPTY_COVERAGE_CLEAR_RATIO),
        ramp(extent, C.DETECT_EMPTY_EXTENT_MAX_MM, C.DETECT_EMPTY_EXTENT_CLEAR_MM),
        ramp(m["faint_extent_mm"], C.DETECT_FAINT_EXTENT_MAX_MM, C.DETECT_FAINT_EXTENT_CLEAR_MM),
        max(ramp(m["specks"], C.DETECT_TRACE_SPECKS_MAX, C.DETECT_TRACE_SPECKS_CLEAR),
            ramp(m["spread_mm"], C.DETECT_TRACE_SPREAD_MAX_MM, C.DETECT_TRACE_SPREAD_CLEAR_MM)),
    )
    # Much ink must still look like strokes to be a cross: paper left between them, no solid core.
    strokes = min(ramp(solid, C.DETECT_CROSS_SOLID_MAX_RATIO, C.DETECT_CROSS_SOLID_CLEAR_RATIO),
                  ramp(white, C.DETECT_CROSS_WHITE_MIN_RATIO, C.DETECT_CROSS_WHITE_CLEAR_RATIO))
    mark = min(
        ramp(cov, C.DETECT_MARK_COVERAGE_MIN_RATIO, C.DETECT_MARK_COVERAGE_CLEAR_RATIO),
        ramp(extent, C.DETECT_MARK_EXTENT_MIN_MM, C.DETECT_MARK_EXTENT_CLEAR_MM),
        max(ramp(cov, C.DETECT_DENSE_COVERAGE_FULL_RATIO, C.DETECT_DENSE_COVERAGE_MIN_RATIO), strokes),
    )
    solid_fill = min(ramp(cov, C.DETECT_FILL_COVERAGE_MIN_RATIO, C.DETECT_FILL_COVERAGE_CLEAR_RATIO),
                     ramp(white, C.DETECT_FILL_WHITE_MAX_RATIO, C.DETECT_FILL_WHITE_CLEAR_RATIO),
                     ramp(solid, C.DETECT_FILL_SOLID_MIN_RATIO, C.DETECT_FILL_SOLID_CLEAR_RATIO))
    hatched = min(ramp(cov, C.DETECT_HATCH_COVERAGE_MIN_RATIO, C.DETECT_HATCH_COVERAGE_CLEAR_RATIO),
                  ramp(white, C.DETECT_HATCH_WHITE_MAX_RATIO, C.DETECT_HATCH_WHITE_CLEAR_RATIO))
    support = {"empty": empty, "marked": mark, "filled": max(solid_fill, hatched)}
    ranked = sorted(support.items(), key=lambda kv: kv[1], reverse=True)
    (state, best), (_, second) = ranked[0], ranked[1]
    return state, best, second


def decide(m: dict[str, float], state: str, best: float, second: float) -> tuple[str, float, str]:
    """classify's second half: the confidence, capped by the position quality, and the reason if uncertain."""
    cov, extent = m["coverage"], m["extent_mm"]
    position = m["position_quality"]
    conf = min(best * (1.0 - second), position)
    if conf >= C.DETECT_MIN_CONFIDENCE_RATIO:
        return state, conf, ""
    if position < C.DETECT_MIN_CONFIDENCE_RATIO and position < best * (1.0 - second):
        reason = "nie odnaleziono ramki kratki – sprawdź położenie"
    elif cov >= C.DETECT_DENSE_COVERAGE_MIN_RATIO:
        reason = "gęsto zamalowane – krzyżyk czy zamalowanie kratki?"
    elif extent < C.DETECT_MARK_EXTENT_CLEAR_MM and cov >= C.DETECT_EMPTY_COVERAGE_CLEAR_RATIO:
        reason = "mały lub niepełny znak"
    elif cov < C.DETECT_MARK_COVERAGE_MIN_RATIO and m["faint_extent_mm"] >= C.DETECT_FAINT_EXTENT_CLEAR_MM:
        reason = "bardzo słaby ślad (np. jasny ołówek)"
    elif cov < C.DETECT_MARK_COVERAGE_MIN_RATIO and m["specks"] > C.DETECT_TRACE_SPECKS_CLEAR:
        reason = "przerywany ślad (np. ołówek w skanie czarno-białym)"
    else:
        reason = "mało tuszu – znak niepewny"
    return "uncertain", max(min(conf, C.DETECT_MIN_CONFIDENCE_RATIO - 0.01), 0.0), reason
