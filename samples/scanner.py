"""What an office scanner does to a page: paper tone, a dog-eared corner, dust, the page fed skewed,
shifted, scaled or upside down onto a bed with a dark lid, optics blur, sensor noise and the colour mode
(colour, grey, or thresholded to black and white). Plus the other pages found in real stacks: blank
backs from duplex scanning and foreign documents.

All settings are drawn up front into a frozen ScanSettings, so the plan of a set decides everything and
rendering is a pure function of it and a per-page seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.base import config as C
from pipeline.base.geometry import Rect
from pipeline.records.form_geometry import PageGeometry, standard_markers
from samples import ink as K
from samples import phrases
from samples.profiles import ColourMode, Profile

A4_MM = (210.0, 297.0)


@dataclass(frozen=True)
class Fold:
    """A dog-eared corner: the right triangle with legs a (along the top/bottom edge) and b (along the
    side) at the corner of marker `marker` is gone; what shows there is `shade` (lid, shadow or paper back)."""

    marker: int
    a_mm: float
    b_mm: float
    shade: int


@dataclass(frozen=True)
class ScanSettings:
    dpi: int
    mode: ColourMode
    rotated_180: bool = False
    skew_deg: float = 0.0
    scale: float = 1.0
    shift_mm: tuple[float, float] = (0.0, 0.0)
    noise_sigma: float = 0.0
    blur_px: float = 0.0
    jpeg_quality: int = 90
    paper: tuple[int, int, int] = (255, 255, 255)
    lid: int = 250                    # grey level of the scanner lid where no paper is
    border_mm: float = 0.0            # extra scan area round the A4 page (shows the lid)
    fold: Fold | None = None
    dust: int = 0
    threshold: int | None = None      # bilevel: a fixed threshold; None = Otsu


PAPERS = ((255, 255, 255), (250, 249, 246), (244, 243, 240), (247, 244, 232), (238, 238, 238))


def _pick(weighted: Sequence[tuple[object, float]], rng: np.random.Generator) -> object:
    values, weights = zip(*weighted, strict=True)
    return values[int(rng.choice(len(values), p=np.asarray(weights) / sum(weights)))]


def stack_settings(profile: Profile, rng: np.random.Generator, bilevel_ok: bool = True) -> tuple[int, ColourMode, bool]:
    """One scan job: resolution, colour mode and whether the dark lid shows round the pages."""
    dpi = int(_pick(profile.dpi, rng))  # type: ignore[call-overload]
    mode: ColourMode = _pick(profile.modes, rng)  # type: ignore[assignment]
    if mode == "bilevel" and not bilevel_ok:
        mode = "grey"
    return dpi, mode, bool(rng.random() < profile.p_lid_border)


def page_settings(profile: Profile, dpi: int, mode: ColourMode, dark_lid: bool, rng: np.random.Generator) -> ScanSettings:
    """Per-page scanner behaviour; the fold is added by the planner, which knows the page geometry."""
    tri = float(rng.triangular(-1, 0, 1))
    paper = PAPERS[int(rng.integers(len(PAPERS)))] if profile.paper_tone else (255, 255, 255)
    lo, hi = profile.jpeg_quality
    return ScanSettings(
        dpi=dpi, mode=mode,
        rotated_180=bool(rng.random() < profile.p_rotate_180),
        skew_deg=tri * profile.skew_deg,
        scale=1.0 + float(rng.uniform(-profile.scale, profile.scale)),
        shift_mm=(float(rng.uniform(-1, 1)) * profile.shift_mm, float(rng.uniform(-1, 1)) * profile.shift_mm),
        noise_sigma=float(rng.uniform(*profile.noise_sigma)),
        blur_px=float(rng.uniform(*profile.blur_px300)) * dpi / 300,
        jpeg_quality=int(rng.integers(lo, hi + 1)),
        paper=paper,
        lid=int(rng.integers(25, 70)) if dark_lid else int(rng.integers(240, 256)),
        border_mm=float(rng.uniform(2, 8)) if dark_lid else 0.0,
        dust=int(rng.integers(profile.dust[0], profile.dust[1] + 1)),
        threshold=None if rng.random() < 0.5 else int(rng.integers(135, 175)),
    )


# --- dog-eared corner ------------------------------------------------------------------------------

def _corner_local(r: Rect, marker: int) -> tuple[float, float, float, float]:
    """(near_dx, near_dy, far_dx, far_dy) of a rect measured from the corner of `marker`, in mm."""
    W, H = C.PAGE_WIDTH_PT, C.PAGE_HEIGHT_PT
    dx = (r.x, r.right) if marker in (0, 3) else (W - r.right, W - r.x)
    dy = (r.y, r.bottom) if marker in (0, 1) else (H - r.bottom, H - r.y)
    k = 1 / C.PT_PER_MM
    return max(0.0, dx[0]) * k, max(0.0, dy[0]) * k, dx[1] * k, dy[1] * k


def plan_fold(page: PageGeometry, rng: np.random.Generator, dark_lid: bool, paper: int = 250) -> Fold | None:
    """A dog-ear that hides one corner marker completely and nothing the reader needs (boxes, text areas,
    the page code); None when no such fold was found (the top-right one is cramped by the page code)."""
    keep_clear = [b.rect for b in page.boxes] + [a.rect for a in page.text_areas] + [page.code]
    for _ in range(40):
        marker = int(rng.integers(4))
        a = float(rng.uniform(36, 62))
        b = a * float(rng.uniform(0.75, 1.35))
        m = next(mk for mk in page.markers if mk.id == marker)
        _, _, fx, fy = _corner_local(m.rect.inset(-0.5 * C.PT_PER_MM), marker)
        if fx / a + fy / b > 1:
            continue
        if any(nx / a + ny / b < 1.03 for nx, ny, _, _ in (_corner_local(r, marker) for r in keep_clear)):
            continue
        shade = int(rng.integers(25, 70)) if dark_lid else (paper - int(rng.integers(0, 12)) if rng.random() < 0.5
                                                             else int(rng.integers(110, 175)))
        return Fold(marker, a, b, shade)
    return None


def fold_polygon_px(fold: Fold, dpi: float) -> np.ndarray:
    """The missing triangle in upright page pixels."""
    k = dpi / 25.4
    W, H = C.PAGE_WIDTH_PT / 72 * dpi, C.PAGE_HEIGHT_PT / 72 * dpi
    cx, sx = (0.0, 1) if fold.marker in (0, 3) else (W, -1)
    cy, sy = (0.0, 1) if fold.marker in (0, 1) else (H, -1)
    pad = 3 * k      # run past the paper edge so no sliver of the corner survives resampling
    return np.array([[cx - sx * pad, cy - sy * pad], [cx + sx * fold.a_mm * k, cy - sy * pad],
                     [cx + sx * fold.a_mm * k, cy], [cx, cy + sy * fold.b_mm * k], [cx - sx * pad, cy + sy * fold.b_mm * k]],
                    np.float32)


def apply_fold(img: np.ndarray, fold: Fold, dpi: float) -> None:
    """Paint the missing corner (in place) with a thin crease shadow along the fold line."""
    poly = fold_polygon_px(fold, dpi)
    pts = np.round(poly * 16).astype(np.int32)
    colour = (fold.shade,) * (3 if img.ndim == 3 else 1)
    cv2.fillPoly(img, [pts], colour, cv2.LINE_AA, shift=4)
    crease = max(1, round(dpi / 150))
    cv2.line(img, tuple(pts[2]), tuple(pts[3]), (max(0, fold.shade - 60),) * len(colour), crease, cv2.LINE_AA, shift=4)


# --- the scan ------------------------------------------------------------------------------------

NOISE_SIGMA = 20.0          # the cached field is 128 + 20·N(0,1) in uint8; scans scale it to their sigma
_NOISE: dict[tuple[int, int], np.ndarray] = {}


def _noise_view(shape: tuple[int, ...], dpi: int, rng: np.random.Generator) -> np.ndarray:
    """Sensor noise for one scan: a view at a random offset into a field generated once per DPI and
    channel count. Drawing 9-27 M fresh normals per page cost more than the rest of the scan; pages
    only need noise that is different from page to page, not independent across the whole set."""
    channels = shape[2] if len(shape) == 3 else 1
    key = (dpi, channels)
    field = _NOISE.get(key)
    h, w = shape[0], shape[1]
    if field is None or field.shape[0] < h + 64 or field.shape[1] < w + 64:
        # big enough for A4 plus lid border plus the growth a 5° skew needs, so it is made once per process
        fh, fw = max(h, round(350 / 25.4 * dpi)) + 64, max(w, round(280 / 25.4 * dpi)) + 64
        field = np.empty((fh, fw, channels) if channels > 1 else (fh, fw), np.uint8)
        cv2.setRNGSeed(dpi * 10 + channels)       # fixed: the field is the same in every process
        cv2.randn(field, np.full(channels, 128.0), np.full(channels, NOISE_SIGMA))   # saturates at 0/255
        _NOISE[key] = field
    dy, dx = int(rng.integers(field.shape[0] - h + 1)), int(rng.integers(field.shape[1] - w + 1))
    return field[dy:dy + h, dx:dx + w]

def a4_px(dpi: float) -> tuple[int, int]:
    """Size of a rasterised A4 page, as poppler makes it (rounded up)."""
    return math.ceil(C.PAGE_WIDTH_PT * dpi / 72 - 1e-6), math.ceil(C.PAGE_HEIGHT_PT * dpi / 72 - 1e-6)


def scan(img: np.ndarray, s: ScanSettings, rng: np.random.Generator,
         avoid_px: Sequence[tuple[int, int, int, int]] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Scan an upright page image (uint8 (H,W) or (H,W,3), white paper) with settings `s`.

    Returns the scanned image (uint8: RGB for colour, (H,W) otherwise, 0/255 for bilevel) and the 2x3
    affine matrix from upright page pixels to scan pixels. `avoid_px`: rectangles (x0, y0, x1, y1) where
    dust must not land, so a speck never turns an empty box into a marked one."""
    colour = img.ndim == 3
    if s.mode == "colour" and not colour:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
        colour = True
    elif s.mode != "colour" and colour:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        colour = False
    # paper tone multiplies: ink on yellowish paper is yellowish-dark too
    if s.paper != (255, 255, 255):
        if colour:
            img = cv2.transform(img, np.diag([c / 255 for c in s.paper]).astype(np.float32))
        else:
            grey = 0.299 * s.paper[0] + 0.587 * s.paper[1] + 0.114 * s.paper[2]
            img = cv2.convertScaleAbs(img, alpha=grey / 255)
    if s.fold is not None:
        apply_fold(img, s.fold, s.dpi)
    for _ in range(s.dust):
        for _attempt in range(5):
            x, y = int(rng.integers(img.shape[1])), int(rng.integers(img.shape[0]))
            if not any(x0 - 4 <= x <= x1 + 4 and y0 - 4 <= y <= y1 + 4 for x0, y0, x1, y1 in avoid_px):
                r = max(1, round(rng.uniform(0.4, 1.4) * s.dpi / 300))
                v = int(rng.integers(30, 140))
                cv2.circle(img, (x, y), r, (v,) * (3 if colour else 1), -1, cv2.LINE_AA)
                break
    # geometry: page centre -> scan centre + shift, rotated (skew, maybe 180°) and scaled
    pw, ph = a4_px(s.dpi)
    border = round(s.border_mm * s.dpi / 25.4)
    out_w, out_h = pw + 2 * border, ph + 2 * border
    angle = s.skew_deg + (180.0 if s.rotated_180 else 0.0)
    m = cv2.getRotationMatrix2D((img.shape[1] / 2, img.shape[0] / 2), -angle, s.scale)
    k = s.dpi / 25.4
    m[0, 2] += out_w / 2 - img.shape[1] / 2 + s.shift_mm[0] * k
    m[1, 2] += out_h / 2 - img.shape[0] / 2 + s.shift_mm[1] * k
    # A skewed page's corners swing ~13 mm at 5°: a scanner with an A4-sized window would cut markers
    # off and the truth would not say so. Grow the scan area (like a Letter/Legal flatbed) until every
    # marker is inside with 2 mm to spare; paper corners beyond the markers may still be cut.
    px = s.dpi / 72
    corners = np.array([[p.x * px, p.y * px, 1.0] for mk in standard_markers()
                        for p in mk.rect.inset(-2 * C.PT_PER_MM).corners()]) @ m.T
    grow_l = max(0, math.ceil(-corners[:, 0].min()))
    grow_t = max(0, math.ceil(-corners[:, 1].min()))
    out_w = max(out_w, math.ceil(corners[:, 0].max())) + grow_l
    out_h = max(out_h, math.ceil(corners[:, 1].max())) + grow_t
    m[0, 2] += grow_l
    m[1, 2] += grow_t
    lid = (s.lid,) * 3 if colour else s.lid
    out = cv2.warpAffine(img, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=lid)
    if s.blur_px > 0.15:
        out = cv2.GaussianBlur(out, (0, 0), s.blur_px)
    if s.noise_sigma > 0.2:
        noise = _noise_view(out.shape, s.dpi, rng)
        gain = s.noise_sigma / NOISE_SIGMA
        out = cv2.addWeighted(out, 1.0, noise, gain, -128.0 * gain, dtype=cv2.CV_8U)
    if s.mode == "bilevel":
        t = s.threshold
        if t is None:
            # Otsu, as scanner drivers do it, but clamped: on a near-blank page Otsu splits the paper
            # noise and fills the page with speckle, which no scanner ships
            otsu, _ = cv2.threshold(out, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
            t = int(min(max(otsu, 110), 185))
        _, out = cv2.threshold(out, t, 255, cv2.THRESH_BINARY)
    return out, m


# --- other pages in a stack ------------------------------------------------------------------------

def blank_back(front: np.ndarray | None, dpi: int, rng: np.random.Generator) -> np.ndarray:
    """The back of a single-sided sheet: white, with a faint mirrored show-through of the front."""
    w, h = a4_px(dpi)
    page = np.full((h, w), 255, np.uint8)
    if front is not None:
        f = front if front.ndim == 2 else cv2.cvtColor(front, cv2.COLOR_RGB2GRAY)
        small = cv2.resize(cv2.flip(f[:h, :w], 1), (w // 4, h // 4), interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small, (0, 0), 1.5)
        ghost = cv2.resize(small, (f[:h, :w].shape[1], f[:h, :w].shape[0]), interpolation=cv2.INTER_LINEAR)
        k = float(rng.uniform(0.03, 0.09))
        page[:ghost.shape[0], :ghost.shape[1]] = np.clip(255 - (255 - ghost.astype(np.float32)) * k, 0, 255).astype(np.uint8)
    return page


def foreign_page(dpi: int, rng: np.random.Generator, qr_payload: str | None = None) -> np.ndarray:
    """A typed letter to the office that got into the stack, maybe carrying somebody else's QR code."""
    w, h = a4_px(dpi)
    page = np.full((h, w), 255, np.uint8)
    k = dpi / 25.4
    black = K.Ink("print", (0, 0, 0), 1.0)
    head = K.typed_alpha(phrases.LETTER_HEAD, 11, dpi)
    K.blend(page, head, round(25 * k), round(22 * k), black)
    body_lines = list(phrases.LETTER_BODY)
    if rng.random() < 0.5:
        body_lines = body_lines[: int(rng.integers(4, len(body_lines)))]
    body = K.typed_alpha(body_lines + list(phrases.LETTER_FOOT), 10, dpi)
    K.blend(page, body, round(25 * k), round(22 * k) + head.shape[0] + round(8 * k), black)
    if qr_payload is not None:
        K.paste_qr(page, qr_payload, w - 50 * k, 20 * k, 28 * k)
    return page
