"""Step 3 of reading a box: measuring the ink inside its printed outline (found in step 2).

Follows SDAPS (NOTES.md, "How established OMR systems read marks"): only the inside of the box, shrunk by
1.5 line widths, is measured, normalised by the paper level around the box and the darkness of its own
printed outline. Several metrics look at that ink:

- coverage: share of the inside that is ink, after dropping specks (scanner dust, toner spray) and the
  fringe a blurred outline leaves along the border;
- extent_mm: size of the largest single ink structure (a cross spans the box, dust and slips do not);
- lines_residual: share of the ink left after erasing the strongest straight strokes (SDAPS: a cross,
  tick or slash nearly vanishes, a fill does not). With marker-wide strokes it separates less well than
  the two below, which decide, so it is evidence for a person only: measured for the boxes a person may
  look at (uncertain, or filled: `lines_metric`, after step 4) and absent from the others;
- white_share: share of the inside far from any ink (empty = 1, cross 0.1-0.8, filled = 0);
- solid_share: share of the inside deep inside a blob of ink (filled ~1, pen crosses ~0, markers <= 0.5);
- faint_extent_mm, specks/spread_mm: traces too pale, or too broken up (pencil in a bilevel scan), to be
  ink; they never make a mark, only keep a box from being called empty (so they are measured only in
  boxes that could be empty, and are 0 in the others);
- darkness: mean darkness above the noise floor (recorded for the reviewer and for tuning).

Step 4 (classify) turns them into a state. Text areas use `drop_specks` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.base import config as C
from pipeline.reader.detect.outline import Located
from pipeline.reader.detect.sampling import RES, Floats

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
class Measured:
    """One box's metrics (what BoxReading.metrics stores; `lines_residual` is added after step 4 where a
    person may look) and its ink after dropping specks (None when there is none)."""

    metrics: dict[str, float]
    ink: NDArray[np.bool_] | None


def inside(loc: Located, idx: NDArray[np.int64], px_per_pt: float) -> list[Measured]:
    """Measure the inside of the boxes `idx` of a located stack."""
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
    for i in range(len(idx)):
        m: dict[str, float] = {
            "dx_px": float(dx[i]) * to_px, "dy_px": float(dy[i]) * to_px,
            "position_quality": float(quality[i]), "outline_score": float(score[i]),
            "paper_level": float(white[i]), "ink_reference": float(ink_ref[i]),
            "coverage_raw": float(raw_cov[i]), "coverage": 0.0, "coverage_strong": 0.0,
            "darkness": float(darkness[i]), "extent_mm": 0.0, "faint_extent_mm": 0.0, "specks": 0.0, "spread_mm": 0.0,
            "stroke_mm": 0.0, "white_share": 1.0, "solid_share": 0.0,
        }
        # no ink at all: the shape metrics keep their defaults
        ink = _shape_metrics(inner[i], raw[i], faint[i], m) if raw_cov[i] > 0 or has_faint[i] else None
        result.append(Measured(m, ink))
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


def lines_metric(ink: NDArray[np.bool_], stroke_mm: float) -> float:
    """lines_residual of a box's ink, erasing strokes as wide as the ink's own (within sane pen widths)."""
    erase = min(max(stroke_mm * RES, C.DETECT_STROKE_MIN_MM * RES), C.DETECT_STROKE_MAX_MM * RES)
    # at half resolution (OR-pooled, so no thin stroke is lost): a quarter of the pixels, the same answer
    k = ink.shape[0] // 2 * 2
    pooled = ink[:k:2, :k:2] | ink[1:k:2, :k:2] | ink[:k:2, 1:k:2] | ink[1:k:2, 1:k:2]
    return lines_residual(pooled, erase / 2, RES / 2)
