"""Reading a registered page's free-text areas: whether each holds handwriting (printed guide lines, specks
and JPEG noise excluded) and, for those that do, a small grey crop for the reviewer and for OCR."""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.base import config as C
from pipeline.reader.detect.measure import drop_specks
from pipeline.reader.detect.sampling import Grey, Matrix, as_grey, homography, paper_level, row_order_stats, sample
from pipeline.records.form_geometry import PageGeometry, TextAreaGeom
from pipeline.records.reading import Registration, TextReading


def read_text_areas(image: np.ndarray, reg: Registration, page: PageGeometry) -> tuple[TextReading, ...]:
    """Whether each handwriting area holds ink, how much, and (only if it does) a grey PNG crop of it."""
    if not page.text_areas:
        return ()
    grey = as_grey(image)
    h = homography(reg.matrix)
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


def _row_median_darkness(grey: Grey, white: float) -> np.ndarray:
    """np.median of each row's _darkness, from the grey levels' order statistics: darkness falls as grey rises,
    so the middle one or two grey levels give the middle darkness values. The same numbers as the median of
    the darkness array, ~4x faster."""
    k = grey.shape[1]
    middle = row_order_stats(grey, [(k - 1) // 2, k // 2])   # one position twice if k is odd
    return _darkness(middle, white).mean(axis=1)


def _text_ink(grey: Grey, h: Matrix, area: TextAreaGeom) -> tuple[float, bool]:
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
    patch = sample(grey, h, r.x - margin_mm * C.PT_PER_MM, r.y - margin_mm * C.PT_PER_MM, w_px, h_px, res)
    white = max(paper_level(patch, C.DETECT_PAPER_PERCENTILE), C.DETECT_MIN_PAPER_GREY_LEVEL)
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
    kept, extent_px = drop_specks(ink, C.DETECT_TEXT_SPECK_MAX_MM * res)
    count = int(kept.sum())
    has_ink = count / (res * res) >= C.DETECT_TEXT_MIN_INK_MM2 and extent_px / res >= C.DETECT_TEXT_MIN_EXTENT_MM
    return count / float(max(kept.size, 1)), bool(has_ink)


def _crop_png(grey: Grey, h: Matrix, area: TextAreaGeom, src_px_per_mm: float) -> bytes:
    """The area plus a margin, upright, grey, at the scan's resolution but never above DETECT_CROP_DPI."""
    res = min(C.DETECT_CROP_DPI / 25.4, src_px_per_mm)
    m = C.DETECT_CROP_MARGIN_MM
    r = area.rect
    w_px = round((r.w / C.PT_PER_MM + 2 * m) * res)
    h_px = round((r.h / C.PT_PER_MM + 2 * m) * res)
    crop = sample(grey, h, r.x - m * C.PT_PER_MM, r.y - m * C.PT_PER_MM, w_px, h_px, res)
    # run-length strategy: 2x faster than the default and ~15 % smaller on scanned handwriting (measured)
    ok, buf = cv2.imencode(".png", crop, [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE])
    return bytes(buf) if ok else b""
