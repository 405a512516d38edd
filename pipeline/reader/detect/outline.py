"""Step 2 of reading a box: where its printed outline really is in its patch.

The outline is searched around where registration puts it with a square template, the printed line band
minus a paper ring just outside it (SDAPS, NOTES.md): paper surrounds a printed box, so a filled box, a
cross or a label nearby never fits better than the outline. `locate` samples a stack of patches (step 1)
and finds every outline in it; the measuring (step 3) uses the outline found here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.base import config as C
from pipeline.base.geometry import Rect
from pipeline.reader.detect.sampling import RES, Floats, Grey, Matrix, row_order_stats, sample_many

# --- finding the printed outline -------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """Patch geometry for one box size and search reach, in patch pixels (the same for every such box)."""

    size: int                   # patch is size x size, box centre at (centre, centre) when registration is exact
    centre: int
    search: int                 # outline search ±search
    squares: tuple[int, int, int, int]   # half-sizes: outline band inner/outer, paper ring inner/outer
    ring_y: NDArray[np.int64]   # offsets of the outline band's pixels from the box centre
    ring_x: NDArray[np.int64]
    inner: int                  # measured square: centre ± inner
    penalty: NDArray[np.float64]  # tie-break towards zero shift, per shift
    band_weights: tuple[float, float]  # 1 / pixel count of the outline band and of the paper ring (their means)


@cache
def outline_plan(box_mm: float, search_mm: float) -> Plan:
    """The patch geometry for boxes of box_mm with the outline searched ±search_mm."""
    line_px = C.BOX_LINE_WIDTH_PT / C.PT_PER_MM * RES
    half_box = box_mm / 2 * RES
    search = max(round(search_mm * RES), 1)
    band = line_px / 2 + C.DETECT_OUTLINE_SLACK_MM * RES
    a_out = round(half_box + band)
    a_in = max(round(half_box - band), 1)
    b_in = a_out + max(round(C.DETECT_RING_GAP_MM * RES), 1)
    b_out = b_in + max(round(C.DETECT_RING_WIDTH_MM * RES), 2)
    centre = b_out + search + 2
    # the outline's own pixels (for the ink reference): the printed line ±1 px
    r_out, r_in = round(half_box + line_px / 2 + 1), round(half_box - line_px / 2 - 1)
    yy, xx = np.mgrid[-r_out:r_out + 1, -r_out:r_out + 1]
    ring = np.maximum(abs(yy), abs(xx)) > r_in
    shifts = np.arange(-search, search + 1)
    dist_mm = np.sqrt(shifts[:, None] ** 2 + shifts[None, :] ** 2) / RES
    return Plan(
        size=2 * centre + 1, centre=centre, search=search, squares=(a_in, a_out, b_in, b_out),
        ring_y=yy[ring].astype(np.int64), ring_x=xx[ring].astype(np.int64),
        inner=round(half_box - C.DETECT_INNER_INSET_LINES * line_px),
        penalty=C.DETECT_SHIFT_PENALTY_PER_MM * dist_mm,
        band_weights=(1.0 / ((2 * a_out + 1) ** 2 - (2 * a_in + 1) ** 2), 1.0 / ((2 * b_out + 1) ** 2 - (2 * b_in + 1) ** 2)),
    )


def _coarse_square_sums(ii: NDArray[np.int32], first: int, count: int, step: int, half: int,
                        out: NDArray[np.int32]) -> NDArray[np.int32]:
    """Per patch, the sum over the square [c-half, c+half]^2 for every c = first + step*(0..count-1), in both
    axes, into `out`: strided slices of the integral images (the centres form a regular grid)."""
    lo, hi = first - half, first + half + 1
    span = step * (count - 1) + 1
    np.subtract(ii[:, hi:hi + span:step, hi:hi + span:step], ii[:, lo:lo + span:step, hi:hi + span:step], out=out)
    out -= ii[:, hi:hi + span:step, lo:lo + span:step]
    out += ii[:, lo:lo + span:step, lo:lo + span:step]
    return out


def _outline_scores_at(ii: NDArray[np.int32], plan: Plan, ys: NDArray[np.int64], xs: NDArray[np.int64]) -> NDArray[np.float64]:
    """Template score (line band mean minus paper ring mean, in darkness x paper level) of each patch at the
    centres ys x xs (per patch: (n, k) rows and (n, k) columns, giving (n, k, k)), by integral-image lookups."""
    n, side = ii.shape[0], ii.shape[1]
    flat = ii.reshape(-1)
    base = (np.arange(n, dtype=np.int64) * side * side)[:, None, None]

    def square(half: int) -> NDArray[np.int64]:
        y0, y1 = (ys - half)[:, :, None] * side, (ys + half + 1)[:, :, None] * side
        x0, x1 = (xs - half)[:, None, :], (xs + half + 1)[:, None, :]
        return (flat[base + y1 + x1].astype(np.int64) - flat[base + y0 + x1] - flat[base + y1 + x0] + flat[base + y0 + x0])

    a_in, a_out, b_in, b_out = plan.squares
    return ((square(a_out) - square(a_in)) * plan.band_weights[0] - (square(b_out) - square(b_in)) * plan.band_weights[1])


def find_outlines(dark: Grey, inv_white: NDArray[np.floating[Any]],
                   plan: Plan) -> tuple[NDArray[np.int64], NDArray[np.int64], Floats, Floats]:
    """Slide a square-outline template ±½ box around every patch's centre (SDAPS); return dy, dx, score, quality.

    The template is the printed line band (positive) minus a ring just outside it (negative): paper
    surrounds a printed box, so a filled box, a cross or a label nearby never fits better than the outline.
    `dark` is paper level minus grey (saturated at 0), so the integral images are exact integers.

    Coarse to fine: every DETECT_OUTLINE_COARSE_STEP_PX-th shift first, for every box at once (strided slices
    of the integral images), then every shift within DETECT_OUTLINE_FINE_RADIUS_PX of the best of those. The
    printed line sits in a band ~6 px wide, so the true fit's score spreads over more than a coarse step
    and the nearest coarse shift scores close to it; the fine pass then finds the same shift as trying all
    (2·search+1)² of them (tests compare both), at a quarter of the cost.
    """
    n, size = dark.shape[0], dark.shape[1]
    ii = np.empty((n, size + 1, size + 1), dtype=np.int32)
    for d, out in zip(dark, ii, strict=True):
        cv2.integral(d, out, sdepth=cv2.CV_32S)
    a_in, a_out, b_in, b_out = plan.squares
    step, search = C.DETECT_OUTLINE_COARSE_STEP_PX, plan.search
    count = 2 * search // step + 1
    first = plan.centre - search
    band, inner, ring, outer = (np.empty((n, count, count), dtype=np.int32) for _ in range(4))
    _coarse_square_sums(ii, first, count, step, a_out, band)
    band -= _coarse_square_sums(ii, first, count, step, a_in, inner)
    _coarse_square_sums(ii, first, count, step, b_out, ring)
    ring -= _coarse_square_sums(ii, first, count, step, b_in, outer)
    coarse = (band * plan.band_weights[0] - ring * plan.band_weights[1]) * inv_white[:, None, None]
    coarse -= plan.penalty[:step * count:step, :step * count:step]
    k = np.argmax(coarse.reshape(n, -1), axis=1)
    cy, cx = k // count * step - search, k % count * step - search          # best coarse shift

    r = C.DETECT_OUTLINE_FINE_RADIUS_PX
    w = np.arange(-r, r + 1)
    sy, sx = cy[:, None] + w[None], cx[:, None] + w[None]                        # (n, 2r+1) shifts per axis
    inside = ((np.abs(sy) <= search)[:, :, None] & (np.abs(sx) <= search)[:, None, :]).reshape(n, -1)
    sy, sx = np.clip(sy, -search, search), np.clip(sx, -search, search)
    raw = _outline_scores_at(ii, plan, plan.centre + sy, plan.centre + sx) * inv_white[:, None, None]
    fine = raw - plan.penalty[(sy + search)[:, :, None], (sx + search)[:, None, :]]
    fine = np.where(inside, fine.reshape(n, -1), -np.inf)
    best = np.argmax(fine, axis=1)
    side = 2 * r + 1
    dy, dx = sy[np.arange(n), best // side], sx[np.arange(n), best % side]
    top = raw.reshape(n, -1)[np.arange(n), best].astype(np.float32)
    lo, hi = C.DETECT_OUTLINE_CONTRAST_MIN_RATIO, C.DETECT_OUTLINE_CONTRAST_GOOD_RATIO
    quality = np.clip((top - lo) / (hi - lo), 0, 1)
    # at the edge of the search window the real outline may lie beyond it
    quality = np.where(np.maximum(abs(dy), abs(dx)) >= search - 1, quality * C.DETECT_EDGE_QUALITY_RATIO,
                       quality).astype(np.float32)
    return dy, dx, top, quality


@dataclass(frozen=True)
class Located:
    """A stack of box patches sampled for one plan, with each box's printed outline found in its patch."""

    plan: Plan
    dark: Floats                # (n, size, size) darkness 0..1 relative to the paper level
    white: Floats               # paper level (grey) per patch
    dy: NDArray[np.int64]       # outline found at centre + (dy, dx), patch px
    dx: NDArray[np.int64]
    score: Floats
    quality: Floats


def locate(image: Grey, h: Matrix, rects: Sequence[Rect], plan: Plan) -> Located:
    """Sample a patch of `plan`'s size centred on each box (rects: boxes of one size), measure its paper
    level and find the box's printed outline in it."""
    n = len(rects)
    corner_pt = (plan.centre + 0.5) / RES * C.PT_PER_MM
    patches = sample_many(image, h, [(r.center.x - corner_pt, r.center.y - corner_pt) for r in rects], plan.size, RES)
    # the paper level: a high percentile of every third pixel (plenty for a percentile, and 3x faster)
    rows = patches.reshape(n, -1)[:, ::3]
    kth = int(rows.shape[1] * C.DETECT_PAPER_PERCENTILE / 100.0)
    white = np.maximum(row_order_stats(rows, [kth])[:, 0].astype(np.float32), C.DETECT_MIN_PAPER_GREY_LEVEL)
    inv = 1.0 / white
    # paper level minus grey, saturated at 0 (paper brighter than the level): exact integers for the outline
    # search, and (scaled by the paper level, capped at 1) the darkness every other measure uses
    level = white.astype(np.uint8)[:, None, None]
    dark_u8 = np.minimum(patches, level, out=patches)
    np.subtract(level, dark_u8, out=dark_u8)
    dy, dx, score, quality = find_outlines(dark_u8, inv, plan)
    dark = dark_u8.astype(np.float32)            # in place from here: no page-sized temporaries
    dark *= inv[:, None, None]
    np.minimum(dark, 1.0, out=dark)
    return Located(plan, dark, white, dy, dx, score, quality)
