"""Stage: recognise a scanned page as one of our sheets and turn it upright.

Finds the four ArUco corner markers (ids 0-3, clockwise from top-left), decides from how the markers are
drawn which way up the sheet went through the scanner, reads the QR page code from where the markers say it
must be, and returns the upright image with the marker corners. Pages that are not ours are rejected with a
stable code: "blank" (e.g. the empty back of a duplex scan), "foreign" (a letter, another form, someone
else's QR code) or "unreadable-code" (at least two of our markers, but the page code cannot be read: rescan;
two rather than three, so that a sheet with a folded corner and a smudged code is not filed as foreign).

Pixel coordinates follow OpenCV: the centre of pixel (i, j) is at (i, j).
"""

from __future__ import annotations

import math
from functools import cache

import cv2
import numpy as np
import zxingcpp
from numpy.typing import NDArray

from pipeline.base import config as C
from pipeline.base.errors import PageRejected
from pipeline.records.form_geometry import standard_code_rect, standard_markers
from pipeline.records.page_code import PageIdentity, parse_page_code
from pipeline.records.reading import Identification, MarkerHit, SourcePage

Gray = NDArray[np.uint8]
Corners = NDArray[np.float64]          # (4, 2): TL, TR, BR, BL of a marker as printed, in pixels
Similarity = NDArray[np.float64]       # (2, 3): points -> pixels

MM_PER_IN = 25.4
PT_PER_IN = 72.0

MSG_BLANK = (
    "Pusta strona (np. czysta odwrotna strona kartki przy skanowaniu dwustronnym). Nie trzeba nic robić; "
    "jeśli to miała być ankieta, sprawdź, czy kartka nie została włożona do skanera odwrotną stroną."
)
MSG_FOREIGN = (
    "Strona nie jest ankietą z tego systemu: nie ma na niej znaczników narożnych ani kodu strony "
    "(np. pismo lub inny formularz). Odłóż ją do właściwych dokumentów. Jeśli to jednak ankieta, sprawdź, "
    "czy nie jest kserokopią z obciętymi rogami, i zeskanuj ją ponownie w całości."
)
MSG_FOREIGN_QR = (
    "Na stronie jest kod QR, ale nie jest to kod strony ankiety, więc strona pochodzi z innego dokumentu. "
    "Odłóż ją do właściwych dokumentów."
)
MSG_UNREADABLE = (
    "Znaleziono znaczniki narożne ankiety ({found} z 4), ale nie da się odczytać kodu strony (kwadratowy kod "
    "w prawym górnym rogu). Zeskanuj stronę ponownie w rozdzielczości co najmniej 200 DPI, bez silnej "
    "kompresji; sprawdź, czy kod nie jest zabrudzony, przekreślony ani zagięty."
)


@cache
def _detector(min_perimeter_rate: float | None = None) -> cv2.aruco.ArucoDetector:
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, C.MARKER_DICTIONARY))
    params = cv2.aruco.DetectorParameters()
    params.adaptiveThreshWinSizeMin = params.adaptiveThreshWinSizeMax = C.IDENTIFY_ARUCO_WINDOW_PX
    if min_perimeter_rate is not None:
        params.minMarkerPerimeterRate = min_perimeter_rate
    return cv2.aruco.ArucoDetector(dictionary, params)


@cache
def _marker_corners_pt() -> dict[int, Corners]:
    return {m.id: np.array([(p.x, p.y) for p in m.rect.corners()], dtype=np.float64) for m in standard_markers()}


def _as_gray(image: object) -> Gray:
    arr = np.asarray(image)
    if arr.ndim == 3:
        # ingest promises greyscale; accept BGR anyway rather than fail on a caller's shortcut
        arr = cv2.cvtColor(arr, cv2.COLOR_BGR2GRAY if arr.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"page image must be a 2-D greyscale array, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)


def _resize(gray: Gray, factor: float) -> tuple[Gray, float, float]:
    """Downscale by `factor` (area averaging keeps thin lines); returns the image and the exact x/y factors."""
    if factor >= 0.95:
        return gray, 1.0, 1.0
    h, w = gray.shape
    n = round(1.0 / factor)
    if n >= 2 and abs(n * factor - 1.0) < C.IDENTIFY_INTEGER_FACTOR_TOLERANCE_RATIO and w >= n and h >= n:
        # 300 or 600 DPI to 150: an exact integer factor takes OpenCV's block-averaging path, ~20x faster than a
        # fractional one (it was a third of identify's time). The last < n rows/columns are left out; a small
        # pixel j is then exactly full pixels j*n .. j*n+n-1, so the factors are exactly 1/n.
        small = np.asarray(cv2.resize(gray[: h // n * n, : w // n * n], (w // n, h // n), interpolation=cv2.INTER_AREA),
                           dtype=np.uint8)
        return small, 1.0 / n, 1.0 / n
    nw, nh = max(1, round(w * factor)), max(1, round(h * factor))
    small = np.asarray(cv2.resize(gray, (nw, nh), interpolation=cv2.INTER_AREA), dtype=np.uint8)
    return small, nw / w, nh / h


# --- markers ---------------------------------------------------------------------------------------

def _sharpen(gray: Gray, sigma_px: float) -> Gray:
    """Unsharp mask: restores the edges a blurry scanner softened (rounded marker corners, merged QR modules)."""
    return np.asarray(cv2.addWeighted(gray, 2.0, cv2.GaussianBlur(gray, (0, 0), sigma_px), -1.0, 0), dtype=np.uint8)


def _detect(gray: Gray, factor: float, sharpen_px: float = 0.0, marker_px: float = 0.0) -> dict[int, Corners]:
    """Markers 0-3 found on a copy scaled by `factor`, corners mapped back to full-resolution pixels.

    With `marker_px` (the printed marker's side in `gray` pixels, from the stated DPI) outlines much smaller
    than a marker are not even considered: letters and box outlines near the corners were most of ArUco's
    candidates (1.7 -> 0.7 ms a corner region). The rescue searches pass none, in case the DPI is wrong.
    """
    small, fx, fy = _resize(gray, factor)
    if sharpen_px > 0:
        small = _sharpen(small, sharpen_px)
    rate = None
    if marker_px > 0:
        # ArUco counts the minimum perimeter in units of the image's longer side; floored to 0.01 (cache key)
        min_perimeter = 4 * marker_px * fx * C.IDENTIFY_MARKER_MIN_SIZE_RATIO
        rate = max(math.floor(min_perimeter / max(small.shape) * 100) / 100, 0.01)
    corners, ids, _ = _detector(rate).detectMarkers(small)
    found: dict[int, Corners] = {}
    if ids is None:
        return found
    for quad, mid in zip(corners, ids.ravel(), strict=True):
        marker_id = int(mid)
        if marker_id not in C.MARKER_IDS:
            continue
        c = quad.reshape(4, 2).astype(np.float64)
        # pixel centres sit at integers: scale about the pixel edge, not the centre of pixel 0
        c[:, 0] = (c[:, 0] + 0.5) / fx - 0.5
        c[:, 1] = (c[:, 1] + 0.5) / fy - 0.5
        # two detections of one id: the larger is the printed marker, a small one is a look-alike in text
        if marker_id not in found or cv2.contourArea(c.astype(np.float32)) > cv2.contourArea(found[marker_id].astype(np.float32)):
            found[marker_id] = c
    return found


def _refine(gray: Gray, hits: dict[int, Corners], dpi: float) -> dict[int, Corners]:
    """Sub-pixel corner positions at full resolution; the work copy alone is ~1 px off at 300 DPI."""
    px_per_mm = dpi / MM_PER_IN
    half = max(2, round(C.IDENTIFY_CORNER_WINDOW_MM * px_per_mm))
    max_shift = max(1.0, C.IDENTIFY_CORNER_MAX_SHIFT_MM * px_per_mm)
    h, w = gray.shape
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.01)
    out: dict[int, Corners] = {}
    for mid, c in hits.items():
        inside = np.all((c[:, 0] > half + 1) & (c[:, 0] < w - half - 2) & (c[:, 1] > half + 1) & (c[:, 1] < h - half - 2))
        if not inside:
            out[mid] = c
            continue
        ref = cv2.cornerSubPix(gray, c.astype(np.float32).reshape(-1, 1, 2), (half, half), (-1, -1), criteria)
        ref64 = ref.reshape(4, 2).astype(np.float64)
        # a corner that wandered off has locked onto a neighbouring edge: keep the detector's estimate there
        moved = np.linalg.norm(ref64 - c, axis=1) > max_shift
        ref64[moved] = c[moved]
        out[mid] = ref64
    return out


def _detect_in_corners(gray: Gray, factor: float, marker_px: float) -> dict[int, Corners]:
    """Markers looked for only in the four corner regions of the scan: the printed markers sit there even on a
    skewed, shifted or upside-down page, and searching a fifth of the pixels is ~4x cheaper than the page."""
    h, w = gray.shape
    cw, ch = round(w * C.IDENTIFY_CORNER_REGION_RATIO), round(h * C.IDENTIFY_CORNER_REGION_RATIO)
    found: dict[int, Corners] = {}
    for x0, y0 in ((0, 0), (w - cw, 0), (w - cw, h - ch), (0, h - ch)):
        for mid, c in _detect(np.ascontiguousarray(gray[y0:y0 + ch, x0:x0 + cw]), factor, marker_px=marker_px).items():
            c = c + np.array([x0, y0], dtype=np.float64)
            if mid not in found or cv2.contourArea(c.astype(np.float32)) > cv2.contourArea(found[mid].astype(np.float32)):
                found[mid] = c
    return found


def _find_markers(gray: Gray, dpi: float) -> dict[int, Corners]:
    """Markers 0-3 at full-resolution corner precision; a blank page is rejected on the way (cheaply)."""
    factor = min(1.0, C.IDENTIFY_WORK_DPI / dpi)
    marker_px = C.MARKER_SIZE_MM * dpi / MM_PER_IN
    hits = _detect_in_corners(gray, factor, marker_px)
    if len(hits) < 4:
        # a marker outside its corner region (an unusual scan area) or a look-alike: search the whole page
        whole = _detect(gray, factor, marker_px=marker_px)
        hits = whole if len(whole) >= len(hits) else hits
    if not hits and _ink_ratio(gray, dpi) < C.BLANK_MAX_INK_RATIO:
        # blank duplex backs are common: reject before the finer search, which costs ~150 ms on paper noise
        raise PageRejected("blank", MSG_BLANK)
    if len(hits) < 3 and factor < 0.95:
        # a low-contrast copy can hide markers at the work resolution: one more look, finer
        finer = _detect(gray, min(1.0, 2 * factor))
        hits = finer if len(finer) > len(hits) else hits
    if len(hits) < 3:
        # heavy blur rounds the marker corners off; sharpened, 9 of 40 such 150 DPI scans gained their markers
        sharp = _detect(gray, factor, C.IDENTIFY_SHARPEN_SIGMA_MM * dpi * factor / MM_PER_IN)
        hits = sharp if len(sharp) > len(hits) else hits
    return _refine(gray, hits, dpi) if hits else hits


def _quarter_turns(hits: dict[int, Corners]) -> int:
    """How many quarter turns clockwise the sheet lies in the image (0 upright, 2 upside down).

    Each marker's corners come back in the order they were printed, so the direction of its top edge is the
    direction of the page's top edge, whatever the page's position.
    """
    v = sum((c[1] - c[0] for c in hits.values()), np.zeros(2))
    angle = math.degrees(math.atan2(v[1], v[0]))
    return round(angle / 90.0) % 4


_ROTATE_BACK = {1: cv2.ROTATE_90_COUNTERCLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_CLOCKWISE}


def _turn_points(pts: NDArray[np.float64], turns: int, shape: tuple[int, ...]) -> NDArray[np.float64]:
    """Where points land after the image is rotated back by `turns` quarter turns (see _ROTATE_BACK)."""
    h, w = shape[:2]
    x, y = pts[..., 0], pts[..., 1]
    if turns == 1:
        out = np.stack([y, w - 1 - x], axis=-1)
    elif turns == 2:
        out = np.stack([w - 1 - x, h - 1 - y], axis=-1)
    elif turns == 3:
        out = np.stack([h - 1 - y, x], axis=-1)
    else:
        out = pts.copy()
    return out


def _fit_similarity(hits: dict[int, Corners]) -> Similarity:
    """Least-squares rotation + uniform scale + shift from the printed marker corners (points) to pixels.

    The closed form (Umeyama without the reflection case): with both point sets centred, x' = p x - q y and
    y' = q x + p y minimise the squared error for p = sum(x.x') / sum(|x|^2), q = sum(x cross x') / sum(|x|^2).
    """
    ref = _marker_corners_pt()
    src = np.concatenate([ref[m] for m in hits])
    dst = np.concatenate(list(hits.values()))
    s_mean, d_mean = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - s_mean, dst - d_mean
    norm = float((s * s).sum())
    p = float((s[:, 0] * d[:, 0] + s[:, 1] * d[:, 1]).sum()) / norm
    q = float((s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum()) / norm
    tx = d_mean[0] - (p * s_mean[0] - q * s_mean[1])
    ty = d_mean[1] - (q * s_mean[0] + p * s_mean[1])
    return np.array([[p, -q, tx], [q, p, ty]])


def _scale(m: Similarity) -> float:
    return float(math.hypot(m[0, 0], m[1, 0]))


def _apply(m: Similarity, pts: NDArray[np.float64]) -> NDArray[np.float64]:
    return pts @ m[:, :2].T + m[:, 2]


def _drop_outliers(hits: dict[int, Corners]) -> dict[int, Corners]:
    """Remove a marker that does not sit where the others say it should (a false detection)."""
    hits = dict(hits)
    ref = _marker_corners_pt()
    while len(hits) >= 2:
        m = _fit_similarity(hits)
        limit_px = C.IDENTIFY_MARKER_OUTLIER_MM * C.PT_PER_MM * _scale(m)
        err = {mid: float(np.sqrt(np.mean(np.sum((_apply(m, ref[mid]) - c) ** 2, axis=1)))) for mid, c in hits.items()}
        worst = max(err, key=lambda k: err[k])
        if err[worst] <= limit_px:
            return hits
        if len(hits) == 2:
            return {}      # two disagreeing markers: no way to tell which one lies
        del hits[worst]
    return hits


# --- page code -------------------------------------------------------------------------------------

_QR = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def _read_qr(gray: Gray, binarizer: zxingcpp.Binarizer = zxingcpp.Binarizer.LocalAverage) -> list[zxingcpp.Barcode]:
    return list(zxingcpp.read_barcodes(gray, formats=_QR, binarizer=binarizer))


def _code_crop(gray: Gray, m: Similarity) -> Gray:
    r = standard_code_rect()
    margin = C.IDENTIFY_CODE_MARGIN_MM * C.PT_PER_MM
    corners = np.array([(p.x, p.y) for p in r.inset(-margin).corners()])
    px = _apply(m, corners)
    h, w = gray.shape
    x0, y0 = (max(0, int(v)) for v in px.min(axis=0))
    x1, y1 = int(min(w, px[:, 0].max() + 1)), int(min(h, px[:, 1].max() + 1))
    return gray[y0:y1, x0:x1] if x1 > x0 and y1 > y0 else gray[0:0, 0:0]


def _crop_attempts(crop: Gray, dpi: float) -> list[list[zxingcpp.Barcode]]:
    """Decode the crop as is, then with a global threshold, then enlarged and sharpened.

    The last one rescues heavily blurred low-resolution scans (measured at 150 DPI with a 0.4 mm blur:
    43/60 codes read as is, 60/60 enlarged 3x with an unsharp mask).
    """
    if crop.size == 0:
        return []
    attempts = [_read_qr(crop)]
    if not attempts[-1]:
        attempts.append(_read_qr(crop, zxingcpp.Binarizer.GlobalHistogram))
    if not attempts[-1]:
        factor = max(1.0, C.IDENTIFY_QR_SHARPEN_DPI / dpi)
        big = np.asarray(cv2.resize(crop, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC), dtype=np.uint8)
        attempts.append(_read_qr(_sharpen(big, C.IDENTIFY_SHARPEN_SIGMA_MM * dpi * factor / MM_PER_IN)))
    return attempts


def _ours(codes: list[zxingcpp.Barcode]) -> PageIdentity | None:
    for code in codes:
        ident = parse_page_code(code.text)
        if ident is not None:
            return ident
    return None


# --- ink -------------------------------------------------------------------------------------------

def _ink_ratio(gray: Gray, dpi: float) -> float:
    """Share of the sheet covered by real marks, ignoring a dark scanner-lid border, the sheet edge and speckle."""
    sheet, sx, sy = _resize(gray, C.INK_SHEET_DPI / dpi)
    paper = float(np.percentile(sheet, 95))
    if paper < C.INK_MIN_PAPER_GREY:
        return 1.0
    bright = (sheet >= paper * C.INK_SHEET_BRIGHT_RATIO).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(bright, connectivity=4)
    if n < 2:
        return 1.0
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    bx, by, bw, bh = (int(v) for v in stats[best, :4])
    # the sheet is the largest bright region; count ink only well inside it (lid shadow, punch holes, edges)
    m = C.INK_EDGE_MARGIN_MM * dpi / MM_PER_IN
    x0, x1 = bx / sx + m, (bx + bw) / sx - m
    y0, y1 = by / sy + m, (by + bh) / sy - m
    if x1 - x0 < 10 or y1 - y0 < 10:
        return 1.0
    work, wx, wy = _resize(gray, C.IDENTIFY_WORK_DPI / dpi)
    inner = work[int(y0 * wy):int(y1 * wy), int(x0 * wx):int(x1 * wx)]
    paper_inner = float(np.percentile(inner, 95))
    dark = (inner < paper_inner * C.INK_DARK_RATIO).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    areas, bw_px, bh_px = stats[1:, cv2.CC_STAT_AREA], stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    work_px_per_mm = dpi * wx / MM_PER_IN
    real = areas >= C.INK_MIN_SPOT_MM2 * work_px_per_mm ** 2
    # a long hair-thin straight mark along the feed direction is dirt on the scanner glass, not writing
    long_px, thin_px = C.INK_STREAK_MIN_LENGTH_MM * work_px_per_mm, C.INK_STREAK_MAX_WIDTH_MM * work_px_per_mm
    streak = ((bh_px >= long_px) & (bw_px <= thin_px)) | ((bw_px >= long_px) & (bh_px <= thin_px))
    return float(areas[real & ~streak].sum()) / float(inner.size)


# --- the stage -------------------------------------------------------------------------------------

def _reject_unmarked(gray: Gray, dpi: float, codes: list[zxingcpp.Barcode]) -> PageRejected:
    if codes:
        return PageRejected("foreign", MSG_FOREIGN_QR)
    if _ink_ratio(gray, dpi) < C.BLANK_MAX_INK_RATIO:
        return PageRejected("blank", MSG_BLANK)
    return PageRejected("foreign", MSG_FOREIGN)


def _upright(gray: Gray, turns: int) -> Gray:
    return gray if turns == 0 else np.ascontiguousarray(cv2.rotate(gray, _ROTATE_BACK[turns]))


def identify(page: SourcePage) -> Identification:
    """Recognise `page` as one of our sheets: identity from the page code, upright image, marker corners.

    Raises PageRejected with code "blank", "foreign" or "unreadable-code". A page whose code reads but whose
    markers are partly missing is still identified; register() decides whether it can be measured.
    """
    gray = _as_gray(page.image)
    dpi = page.dpi if page.dpi > 0 else gray.shape[1] / C.ASSUMED_PAGE_WIDTH_IN
    hits = _find_markers(gray, dpi)
    turns = _quarter_turns(hits) if hits else 0
    hits = _drop_outliers({mid: _turn_points(c, turns, gray.shape) for mid, c in hits.items()})
    upright = _upright(gray, turns)

    found: list[zxingcpp.Barcode] = []
    ident: PageIdentity | None = None
    sim: Similarity | None = None
    if hits:
        sim = _fit_similarity(hits)
        for codes in _crop_attempts(_code_crop(upright, sim), dpi):
            found += codes
            ident = _ours(codes)
            if ident is not None:
                break
    if ident is None:
        # the crop missed (markers hidden or misplaced): the whole page is slower but finds a code anywhere
        codes = _read_qr(upright)
        found += codes
        ident = _ours(codes)
        if ident is not None and not hits:
            # no markers to tell which way up: the code itself is oriented
            code = next(c for c in codes if parse_page_code(c.text) is not None)
            turns = round(code.orientation / 90.0) % 4
            upright = _upright(gray, turns)
    if ident is None:
        if len(hits) >= 2 and not found:
            raise PageRejected("unreadable-code", MSG_UNREADABLE.format(found=len(hits)))
        raise _reject_unmarked(upright, dpi, found)

    used_dpi = page.dpi
    if sim is not None:
        measured = _scale(sim) * PT_PER_IN
        # a file's DPI can be a writer default (JFIF 72/96): the marker spacing is the truth when they disagree
        if not page.dpi_from_file or page.dpi <= 0 or abs(measured / page.dpi - 1.0) > C.IDENTIFY_DPI_AGREEMENT_RATIO:
            used_dpi = measured
    elif page.dpi <= 0:
        used_dpi = dpi
    markers = tuple(
        MarkerHit(mid, tuple((float(x), float(y)) for x, y in hits[mid])) for mid in sorted(hits)
    )
    return Identification(identity=ident, image=upright, markers=markers, rotated_180=turns == 2, dpi=float(used_dpi))
