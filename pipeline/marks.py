"""Reading one printed checkbox: sampling it upright, finding its outline, measuring the ink inside.

Follows SDAPS (NOTES.md, "How established OMR systems read marks"): every box is resampled from the scan
into a small upright patch at a fixed resolution (so every threshold below is in millimetres, whatever the
scan's DPI or skew), the printed outline is searched for ±½ box around where registration puts it, and
only the inside of the box, shrunk by 1.5 line widths, is measured, normalised by the paper level around
the box and the darkness of its own printed outline. Several metrics look at that ink:

- coverage: share of the inside that is ink, after dropping specks (scanner dust, toner spray) and the
  fringe a blurred outline leaves along the border;
- extent_mm: size of the largest single ink structure (a cross spans the box, dust and slips do not);
- lines_residual: share of the ink left after erasing the strongest straight strokes (SDAPS: a cross,
  tick or slash nearly vanishes, a fill does not — recorded; with marker-wide strokes it separates less
  well than the two below, which decide);
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

from pipeline import config as C
from pipeline.geometry import Rect

Matrix = NDArray[np.float64]
Grey = NDArray[np.uint8]
Floats = NDArray[np.float32]

RES = C.DETECT_RES_PX_PER_MM


# --- sampling ------------------------------------------------------------------------------------

def homography(matrix: tuple[tuple[float, ...], ...]) -> Matrix:
    """Registration matrix (points -> pixel edges) as numpy, shifted to OpenCV's pixel-centre convention."""
    h = np.asarray(matrix, dtype=np.float64)
    # Registration maps a point to continuous pixel coordinates whose pixel i spans [i, i+1); OpenCV's warps
    # put pixel centres on integers, hence the half-pixel shift.
    return np.array([[1.0, 0.0, -0.5], [0.0, 1.0, -0.5], [0.0, 0.0, 1.0]]) @ h


def sample(image: Grey, h: Matrix, x0_pt: float, y0_pt: float, w_px: int, h_px: int, px_per_mm: float,
           border: int | None = None) -> Grey:
    """Resample the page region whose top-left is (x0_pt, y0_pt) upright at `px_per_mm`, w_px x h_px pixels.

    Goes through the full homography, so scan skew and perspective disappear in the patch. When the scan is
    much finer than the patch, the source crop is first area-averaged: plain bilinear sampling would alias
    thin strokes and JPEG noise at 600 DPI. Outside the scan: the nearest scan pixel, or `border` (a grey level).
    """
    m = h @ _patch_to_page(x0_pt, y0_pt, px_per_mm)      # patch pixel -> image pixel
    out = np.empty((h_px, w_px), dtype=np.uint8)
    _warp_into(out, image, m, _scan_per_patch(m[None])[0], border)
    return out


def sample_many(image: Grey, h: Matrix, origins_pt: Sequence[tuple[float, float]], size_px: int,
                px_per_mm: float) -> NDArray[np.uint8]:
    """sample() for many square patches of one size at once, into one (n, size, size) stack: the matrix
    arithmetic is done for all patches together and each warp writes straight into the stack (a page's ~45
    boxes spent as long in per-call numpy overhead and the final stack copy as in the warps themselves)."""
    k = C.PT_PER_MM / px_per_mm
    a = np.zeros((len(origins_pt), 3, 3))
    a[:, 0, 0] = a[:, 1, 1] = k
    a[:, :2, 2] = np.asarray(origins_pt, dtype=np.float64).reshape(-1, 2) + 0.5 * k
    a[:, 2, 2] = 1.0
    ms = h[None] @ a
    out = np.empty((len(ms), size_px, size_px), dtype=np.uint8)
    for patch, m, ratio in zip(out, ms, _scan_per_patch(ms), strict=True):
        _warp_into(patch, image, m, float(ratio), None)
    return out


def _patch_to_page(x0_pt: float, y0_pt: float, px_per_mm: float) -> Matrix:
    k = C.PT_PER_MM / px_per_mm
    return np.array([[k, 0.0, x0_pt + 0.5 * k], [0.0, k, y0_pt + 0.5 * k], [0.0, 0.0, 1.0]])


def _scan_per_patch(ms: NDArray[np.float64]) -> NDArray[np.float64]:
    """Scan pixels per patch pixel (linear) of each patch -> image matrix, at the patch's origin."""
    lin = ms[:, :2, :2] / ms[:, 2:3, 2:3]
    return np.sqrt(np.abs(lin[:, 0, 0] * lin[:, 1, 1] - lin[:, 0, 1] * lin[:, 1, 0]))


def _warp_into(out: Grey, image: Grey, m: Matrix, src_per_patch: float, border: int | None) -> None:
    h_px, w_px = out.shape
    src = image
    n = int(src_per_patch) if src_per_patch >= C.DETECT_PREDOWNSAMPLE_RATIO else 1
    if n > 1:
        corners = np.array([[0, 0, 1], [w_px, 0, 1], [w_px, h_px, 1], [0, h_px, 1]], dtype=np.float64).T
        pc = m @ corners
        pc = pc[:2] / pc[2]
        ih, iw = image.shape
        x0 = max(int(np.floor(pc[0].min())) - 2, 0)
        y0 = max(int(np.floor(pc[1].min())) - 2, 0)
        x1 = min(int(np.ceil(pc[0].max())) + 3, iw)
        y1 = min(int(np.ceil(pc[1].max())) + 3, ih)
        # an exact integer factor takes OpenCV's fast block-averaging path (5x faster than a fractional one)
        x1, y1 = x0 + (x1 - x0) // n * n, y0 + (y1 - y0) // n * n
        if x1 - x0 >= n and y1 - y0 >= n:
            crop = image[y0:y1, x0:x1]
            src = np.asarray(cv2.resize(crop, ((x1 - x0) // n, (y1 - y0) // n), interpolation=cv2.INTER_AREA), dtype=np.uint8)
            g = 1.0 / n
            # block averaging maps pixel centres as (x - x0 + 0.5) / n - 0.5
            m = np.array([[g, 0.0, (0.5 - x0) * g - 0.5], [0.0, g, (0.5 - y0) * g - 0.5], [0.0, 0.0, 1.0]]) @ m
    mode = cv2.BORDER_REPLICATE if border is None else cv2.BORDER_CONSTANT
    cv2.warpPerspective(src, m, (w_px, h_px), dst=out, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=mode,
                        borderValue=0 if border is None else border)


def _row_percentiles(rows: NDArray[np.uint8], percentile: float) -> NDArray[np.int64]:
    """Each row's k-th smallest grey level, k = percentile % of the row (what np.partition gives, exactly):
    from one histogram per row, 3x faster than partitioning ~45 rows of 5,000 pixels."""
    n = rows.shape[0]
    kth = int(rows.shape[1] * percentile / 100.0)
    cum = np.bincount((rows + (np.arange(n, dtype=np.intp) * 256)[:, None]).ravel(), minlength=n * 256)
    return np.argmax(cum.reshape(n, 256).cumsum(axis=1) > kth, axis=1)


def paper_level(patch: Grey, percentile: float) -> float:
    """The paper's grey level around here: a high percentile, since paper is most of any patch."""
    hist = cv2.calcHist([patch], [0], None, [256], [0, 256]).ravel()
    cum = np.cumsum(hist)
    return float(np.searchsorted(cum, percentile / 100.0 * cum[-1]))


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


@dataclass(frozen=True)
class _Plan:
    """Patch geometry for one box size, in patch pixels (the same for every box of that size)."""

    size: int                   # patch is size x size, box centre at (centre, centre) when registration is exact
    centre: int
    search: int                 # outline search ±search
    squares: tuple[int, int, int, int]   # half-sizes: outline band inner/outer, paper ring inner/outer
    ring_y: NDArray[np.int64]   # offsets of the outline band's pixels from the box centre
    ring_x: NDArray[np.int64]
    inner: int                  # measured square: centre ± inner
    penalty: NDArray[np.float64]  # tie-break towards zero shift, per shift


@cache
def _plan(box_mm: float) -> _Plan:
    line_px = C.BOX_LINE_WIDTH_PT / C.PT_PER_MM * RES
    half_box = box_mm / 2 * RES
    search = max(round(box_mm * C.DETECT_SEARCH_BOX_RATIO * RES), 1)
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
    return _Plan(
        size=2 * centre + 1, centre=centre, search=search, squares=(a_in, a_out, b_in, b_out),
        ring_y=yy[ring].astype(np.int64), ring_x=xx[ring].astype(np.int64),
        inner=round(half_box - C.DETECT_INNER_INSET_LINES * line_px),
        penalty=C.DETECT_SHIFT_PENALTY_PER_MM * dist_mm,
    )


def _square_sums(ii: NDArray[np.float64], centre: int, search: int, half: int, out: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per patch, the sum over the square [c-half, c+half]^2 for every c = centre + (-search..search)^2, into `out`.

    Slices of the integral images: the shifts form a regular grid, so no per-shift indexing is needed. In
    place: a page's fresh ~1 MB temporaries cost more in page faults than the arithmetic.
    """
    lo, hi = centre - search - half, centre - search + half + 1
    n = 2 * search + 1
    np.subtract(ii[:, hi:hi + n, hi:hi + n], ii[:, lo:lo + n, hi:hi + n], out=out)
    out -= ii[:, hi:hi + n, lo:lo + n]
    out += ii[:, lo:lo + n, lo:lo + n]
    return out


def _find_outlines(dark: Floats, plan: _Plan) -> tuple[NDArray[np.int64], NDArray[np.int64], Floats, Floats]:
    """Slide a square-outline template ±½ box around every patch's centre (SDAPS); return dy, dx, score, quality.

    The template is the printed line band (positive) minus a ring just outside it (negative): paper
    surrounds a printed box, so a filled box, a cross or a label nearby never fits better than the outline.
    Every shift of every box at once, from integral images.
    """
    n = dark.shape[0]
    # numpy's strided cumsum is 10x slower; each integral is written straight into the stack
    ii = np.empty((n, dark.shape[1] + 1, dark.shape[2] + 1), dtype=np.float64)
    for d, out in zip(dark, ii, strict=True):
        cv2.integral(d, out, sdepth=cv2.CV_64F)
    a_in, a_out, b_in, b_out = plan.squares
    side = 2 * plan.search + 1
    line, inner, ring, outer = (np.empty((n, side, side)) for _ in range(4))
    _square_sums(ii, plan.centre, plan.search, a_out, line)
    line -= _square_sums(ii, plan.centre, plan.search, a_in, inner)
    line /= float((2 * a_out + 1) ** 2 - (2 * a_in + 1) ** 2)      # mean darkness on the printed line band
    _square_sums(ii, plan.centre, plan.search, b_out, ring)
    ring -= _square_sums(ii, plan.centre, plan.search, b_in, outer)
    ring /= float((2 * b_out + 1) ** 2 - (2 * b_in + 1) ** 2)      # ... and on the paper ring outside it
    line -= ring
    score = line.reshape(n, -1)
    best = np.argmax(score - plan.penalty.reshape(1, -1), axis=1)
    dy, dx = best // side - plan.search, best % side - plan.search
    top = score[np.arange(n), best].astype(np.float32)
    lo, hi = C.DETECT_OUTLINE_CONTRAST_MIN_RATIO, C.DETECT_OUTLINE_CONTRAST_GOOD_RATIO
    quality = np.clip((top - lo) / (hi - lo), 0, 1)
    # at the edge of the search window the real outline may lie beyond it
    quality = np.where(np.maximum(abs(dy), abs(dx)) >= plan.search - 1, quality * C.DETECT_EDGE_QUALITY_RATIO,
                       quality).astype(np.float32)
    return dy, dx, top, quality


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
    plan = _plan(box_mm)
    n = len(rects)
    corner_pt = (plan.centre + 0.5) / RES * C.PT_PER_MM
    patches = sample_many(image, h, [(r.center.x - corner_pt, r.center.y - corner_pt) for r in rects], plan.size, RES)
    white = np.maximum(_row_percentiles(patches.reshape(n, -1)[:, ::3], C.DETECT_PAPER_PERCENTILE).astype(np.float32),
                       C.DETECT_MIN_PAPER_GREY_LEVEL)   # every third pixel is plenty for a percentile, and 3x faster
    inv = (1.0 / white)[:, None, None]
    dark = patches.astype(np.float32)            # in place from here: no page-sized temporaries
    np.subtract(white[:, None, None], dark, out=dark)
    dark *= inv
    np.clip(dark, 0.0, 1.0, out=dark)
    dy, dx, score, quality = _find_outlines(dark, plan)
    cy, cx = plan.centre + dy, plan.centre + dx
    nn = np.arange(n)[:, None]

    # Normalise by the printed outline's own darkness: a pale photocopy or a light scanner setting makes
    # the outline and the marks paler together.
    ring = dark[nn, cy[:, None] + plan.ring_y[None], cx[:, None] + plan.ring_x[None]]
    k = int(ring.shape[1] * C.DETECT_OUTLINE_PERCENTILE / 100.0)
    ink_ref = np.clip(np.partition(ring, k, axis=1)[:, k], C.DETECT_MIN_INK_REFERENCE_RATIO, 1.0)

    k_in = plan.inner       # the measured square, sliced per box (fancy indexing all at once was 10x slower)
    inner = np.stack([d[y - k_in:y + k_in + 1, x - k_in:x + k_in + 1]
                      for d, y, x in zip(dark, cy.tolist(), cx.tolist(), strict=True)])
    inner = np.minimum(inner / ink_ref[:, None, None], 1.0)
    raw = inner >= C.DETECT_INK_RATIO
    # Faint traces are looked for a little further in: a blurred outline's fringe is faint too.
    fi = round(C.DETECT_BORDER_FRINGE_MM * RES)
    faint = inner[:, fi:inner.shape[1] - fi, fi:inner.shape[2] - fi] >= C.DETECT_FAINT_INK_RATIO
    n_px = float(inner.shape[1] * inner.shape[2])
    raw_cov = raw.sum(axis=(1, 2)) / n_px
    darkness = np.maximum(inner - C.DETECT_NOISE_FLOOR_RATIO, 0.0).mean(axis=(1, 2))
    has_faint = faint.any(axis=(1, 2))
    to_px = C.PT_PER_MM / RES * px_per_pt
    result = []
    no_ink: tuple[str, float, float] | None = None
    for i in range(n):
        m: dict[str, float] = {
            "dx_px": float(dx[i]) * to_px, "dy_px": float(dy[i]) * to_px,
            "position_quality": float(quality[i]), "outline_score": float(score[i]),
            "paper_level": float(white[i]), "ink_reference": float(ink_ref[i]),
            "coverage_raw": float(raw_cov[i]), "coverage": 0.0, "coverage_strong": 0.0,
            "darkness": float(darkness[i]), "extent_mm": 0.0, "faint_extent_mm": 0.0, "specks": 0.0, "spread_mm": 0.0,
            "stroke_mm": 0.0, "lines_residual": 0.0, "white_share": 1.0, "solid_share": 0.0,
        }
        if raw_cov[i] > 0 or has_faint[i]:
            _shape_metrics(inner[i], raw[i], faint[i], m)
            state, conf, reason = classify(m)
        else:
            # no ink at all: the shape metrics are their defaults, so the support is the same for every such box
            no_ink = no_ink or support(m)
            state, conf, reason = decide(m, *no_ink)
        result.append(BoxEvidence(state, conf, reason, m))
    return result


def _shape_metrics(inner: Floats, raw: NDArray[np.bool_], faint: NDArray[np.bool_], m: dict[str, float]) -> None:
    """The metrics that need the ink's shape, for one box with some ink (filled into m)."""
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
        return
    # Paper outside the measured square counts as paper for white_share and as ink for solid_share (it is
    # the printed outline): a fill reaching the edges is then solid throughout.
    ink_u8 = ink.view(np.uint8)
    white_dist = cv2.distanceTransform(1 - ink_u8, cv2.DIST_L2, 3)
    ink_dist = cv2.distanceTransform(cv2.copyMakeBorder(ink_u8, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=1), cv2.DIST_L2,
                                     3)[1:-1, 1:-1]
    ink_dist = np.minimum(ink_dist, float(ink.shape[0]))
    # a band of width w has mean distance-to-paper ~ w/4 (+ half a pixel of discretisation)
    stroke = max(4.0 * float(ink_dist[ink].mean()) - 2.0, 1.0)
    erase = min(max(stroke, C.DETECT_STROKE_MIN_MM * RES), C.DETECT_STROKE_MAX_MM * RES)
    m["stroke_mm"] = stroke / RES
    # at half resolution (OR-pooled, so no thin stroke is lost): a quarter of the pixels, the same answer
    k = ink.shape[0] // 2 * 2
    pooled = ink[:k:2, :k:2] | ink[1:k:2, :k:2] | ink[:k:2, 1:k:2] | ink[1:k:2, 1:k:2]
    m["lines_residual"] = lines_residual(pooled, erase / 2, RES / 2)
    m["white_share"] = float((white_dist >= C.DETECT_WHITE_RADIUS_MM * RES).mean())
    m["solid_share"] = float((ink_dist >= C.DETECT_SOLID_RADIUS_MM * RES).mean())


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
