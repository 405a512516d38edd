"""Putting ink on a page image: pen strokes, handwriting, QR codes and typed text, all as alpha masks.

Everything is drawn as a coverage mask (0..1) and blended over the page with an ink colour, so the same
code serves greyscale and colour pages and anti-aliasing comes from supersampling, not from Pillow (whose
lines are aliased). Coordinates are millimetres from the page's top-left unless a name says `_px`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from reportlab.graphics.barcode import qrencoder

from pipeline.base.typeface import font_file

MM_PER_INCH = 25.4
Array = np.ndarray


@dataclass(frozen=True)
class Ink:
    """A writing tool: colour (RGB), how much it covers the paper (pencil < pen) and grain (pencil texture)."""

    name: str                      # "pen", "marker", "pencil"
    rgb: tuple[int, int, int]
    opacity: float = 0.95
    grain: float = 0.0             # 0 = solid; 0.5 = half the pixels lose up to half their ink

    @property
    def grey(self) -> int:
        r, g, b = self.rgb
        return round(0.299 * r + 0.587 * g + 0.114 * b)


@dataclass(frozen=True)
class Stroke:
    """One pen movement: a polyline in page millimetres and the line width."""

    points: tuple[tuple[float, float], ...]
    width_mm: float


def mm_to_px(v: float, dpi: float) -> float:
    return v * dpi / MM_PER_INCH


# --- blending ------------------------------------------------------------------------------------

def blend(img: Array, alpha: Array, x0: int, y0: int, ink: Ink, opacity: float | None = None,
          rng: np.random.Generator | None = None) -> None:
    """Darken `img` (H,W) or (H,W,3) uint8 in place with `alpha` (h,w float32 0..1) placed at (x0, y0)."""
    h, w = alpha.shape
    H, W = img.shape[:2]
    ax0, ay0 = max(0, -x0), max(0, -y0)
    ax1, ay1 = min(w, W - x0), min(h, H - y0)
    if ax1 <= ax0 or ay1 <= ay0:
        return
    a = alpha[ay0:ay1, ax0:ax1] * (ink.opacity if opacity is None else opacity)
    if ink.grain > 0 and rng is not None:
        a = a * (1.0 - ink.grain * rng.random(a.shape, dtype=np.float32))
    region = img[y0 + ay0:y0 + ay1, x0 + ax0:x0 + ax1]
    if img.ndim == 2:
        out = region * (1.0 - a) + ink.grey * a
    else:
        out = region * (1.0 - a[..., None]) + np.asarray(ink.rgb, np.float32) * a[..., None]
    region[...] = np.clip(out + 0.5, 0, 255).astype(np.uint8)


# --- strokes -------------------------------------------------------------------------------------

def strokes_alpha(strokes: Sequence[Stroke], dpi: float, supersample: int = 3) -> tuple[Array, int, int]:
    """Rasterise strokes (round caps and joins) to a coverage mask; returns (alpha, x0_px, y0_px)."""
    pad = max(s.width_mm for s in strokes) / 2 + 0.3
    xs = [p[0] for s in strokes for p in s.points]
    ys = [p[1] for s in strokes for p in s.points]
    x0 = math.floor(mm_to_px(min(xs) - pad, dpi))
    y0 = math.floor(mm_to_px(min(ys) - pad, dpi))
    x1 = math.ceil(mm_to_px(max(xs) + pad, dpi))
    y1 = math.ceil(mm_to_px(max(ys) + pad, dpi))
    k = supersample
    canvas = Image.new("L", ((x1 - x0) * k, (y1 - y0) * k), 0)
    draw = ImageDraw.Draw(canvas)
    for s in strokes:
        pts = [((mm_to_px(x, dpi) - x0) * k, (mm_to_px(y, dpi) - y0) * k) for x, y in s.points]
        wpx = max(1.0, mm_to_px(s.width_mm, dpi) * k)
        draw.line(pts, fill=255, width=round(wpx), joint="curve")
        r = wpx / 2
        for px, py in (pts[0], pts[-1]):         # Pillow lines have square ends; pens make round ones
            draw.ellipse((px - r, py - r, px + r, py + r), fill=255)
    big = np.asarray(canvas, dtype=np.float32) / 255.0
    alpha = cv2.resize(big, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    return alpha, x0, y0


def coverage(strokes: Sequence[Stroke], x: float, y: float, w: float, h: float, px_per_mm: float = 12.0) -> float:
    """Share of the rectangle (mm) the strokes cover: tells a heavy cross from a filled box."""
    n_w, n_h = max(1, round(w * px_per_mm)), max(1, round(h * px_per_mm))
    grid = np.zeros((n_h, n_w), np.uint8)
    for s in strokes:
        pts = np.array([[(px - x) * px_per_mm, (py - y) * px_per_mm] for px, py in s.points], np.float32)
        t = max(1, round(s.width_mm * px_per_mm))
        cv2.polylines(grid, [np.round(pts * 16).astype(np.int32)], False, 255, t, cv2.LINE_8, shift=4)
        for px, py in pts:
            cv2.circle(grid, (round(px * 16), round(py * 16)), round(t / 2 * 16), 255, -1, cv2.LINE_8, shift=4)
    return float(np.count_nonzero(grid)) / grid.size


def touches(strokes: Sequence[Stroke], x: float, y: float, w: float, h: float) -> bool:
    """Whether any stroke's ink reaches into the rectangle (mm); strokes are densified to 0.1 mm steps."""
    for s in strokes:
        r = s.width_mm / 2
        pts = np.asarray(s.points, np.float64)
        if (pts[:, 0].max() < x - r or pts[:, 0].min() > x + w + r
                or pts[:, 1].max() < y - r or pts[:, 1].min() > y + h + r):
            continue
        seg = np.diff(pts, axis=0)
        n = np.maximum(1, np.ceil(np.hypot(seg[:, 0], seg[:, 1]) / 0.1)).astype(int)
        t = np.concatenate([np.arange(k) / k for k in n])
        base = np.repeat(pts[:-1], n, axis=0) + np.repeat(seg, n, axis=0) * t[:, None]
        dense = np.vstack([base, pts[-1:]])
        inside = ((dense[:, 0] >= x - r) & (dense[:, 0] <= x + w + r) & (dense[:, 1] >= y - r) & (dense[:, 1] <= y + h + r))
        if inside.any():
            return True
    return False


# --- fonts and text ------------------------------------------------------------------------------

@cache
def font_path(bold: bool = False) -> str:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    with resources.as_file(font_file(name)) as p:
        return str(p)


@cache
def font(size_px: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(bold), max(4, size_px))


CAP_HEIGHT_EM = 0.73        # DejaVu Sans capital height as a share of the font size


def text_width_mm(text: str, cap_mm: float) -> float:
    """Nominal width of `text` written with capitals `cap_mm` high (jitter averages out)."""
    f = font(200)
    return f.getlength(text) / 200 * cap_mm / CAP_HEIGHT_EM


def handwriting_alpha(text: str, cap_mm: float, slant_deg: float, dpi: float,
                      rng: np.random.Generator) -> tuple[Array, float]:
    """One line of handwriting-like text as a coverage mask and the baseline's y inside it (px).

    Each character gets its own size, baseline offset and tilt, and the whole line a slant, so the text
    wobbles like handwriting while staying readable to a person (and, with luck, to tesseract)."""
    size = mm_to_px(cap_mm / CAP_HEIGHT_EM, dpi)
    width = round(len(text) * size * 0.75 + size * 2)
    height = round(size * 2.2)
    base = size * 1.45
    canvas = np.zeros((height, width), np.float32)
    x = size * 0.5
    tile = round(size * 1.8)
    for ch in text:
        s = size * rng.uniform(0.9, 1.1)
        f = font(round(s))
        adv = f.getlength(ch)
        if not ch.isspace():
            img = Image.new("L", (tile, tile), 0)
            ImageDraw.Draw(img).text((tile * 0.25, tile * 0.72), ch, font=f, fill=255, anchor="ls")
            img = img.rotate(rng.normal(0, 4.0), resample=Image.Resampling.BILINEAR, center=(tile * 0.25, tile * 0.72))
            gx = round(x - tile * 0.25)
            gy = round(base + rng.normal(0, size * 0.035) - tile * 0.72)
            if gx >= 0 and gx + tile <= width and gy >= 0 and gy + tile <= height:
                np.maximum(canvas[gy:gy + tile, gx:gx + tile], np.asarray(img, np.float32) / 255.0,
                           out=canvas[gy:gy + tile, gx:gx + tile])
        x += adv * rng.uniform(0.96, 1.06) + size * (0.25 if ch.isspace() else 0.02) * rng.uniform(0.6, 1.4)
    canvas = canvas[:, :min(width, round(x + size))]
    # slant (shear about the baseline) and a slight drift of the whole line
    t = math.tan(math.radians(slant_deg))
    drift = math.tan(math.radians(rng.normal(0, 0.8)))
    extra = round(abs(t) * height)
    m = np.array([[1, -t, t * base + (extra if t < 0 else 0)], [drift, 1, 0]], np.float32)
    h2 = height + round(abs(drift) * canvas.shape[1]) + 2
    out = cv2.warpAffine(canvas, m, (canvas.shape[1] + extra, h2), flags=cv2.INTER_LINEAR, borderValue=0)
    return out, base


def typed_alpha(lines: Sequence[str], size_pt: float, dpi: float, leading: float = 1.45,
                bold_first: int = 0) -> Array:
    """Typed text (a foreign letter): lines in DejaVu Sans, as a coverage mask."""
    size = round(size_pt * dpi / 72)
    f, fb = font(size), font(size, bold=True)
    width = max(1, round(max((fb.getlength(t) for t in lines), default=1) + size))
    height = round(len(lines) * size * leading + size)
    img = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(img)
    for n, line in enumerate(lines):
        draw.text((0, size + n * size * leading), line, font=fb if n < bold_first else f, fill=255, anchor="ls")
    return np.asarray(img, np.float32) / 255.0


def text_alpha(text: str, size_px: float, bold: bool = False) -> tuple[Array, float, float]:
    """One printed line: mask and the offset of its left baseline point inside the mask."""
    f = font(round(size_px), bold)
    w = round(f.getlength(text) + size_px)
    h = round(size_px * 1.6)
    img = Image.new("L", (w, h), 0)
    ImageDraw.Draw(img).text((size_px * 0.25, size_px * 1.2), text, font=f, fill=255, anchor="ls")
    return np.asarray(img, np.float32) / 255.0, size_px * 0.25, size_px * 1.2


# --- QR codes ------------------------------------------------------------------------------------

@cache
def qr_modules(payload: str, border: int = 4) -> Array:
    """The module matrix reportlab's QrCodeWidget draws (level M, quiet zone included), True = dark."""
    qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    qr.addData(payload)
    qr.make()
    n = qr.getModuleCount()
    m = np.zeros((n + 2 * border, n + 2 * border), bool)
    m[border:border + n, border:border + n] = np.array([[bool(v) for v in row] for row in qr.modules])
    m.setflags(write=False)
    return m


def paste_qr(img: Array, payload: str, x_px: float, y_px: float, size_px: float) -> None:
    """Draw a QR code (quiet zone included, white) over the square at (x_px, y_px), sub-pixel exact.

    Area-sampled from a supersampled module lookup, so module edges are grey where a printer dot
    straddles two scanner pixels, like the anti-aliased rendering of the PDF around it."""
    m = qr_modules(payload)
    n = m.shape[0]
    ss = 4 if size_px < 600 else 2
    x0, y0 = math.floor(x_px), math.floor(y_px)
    x1, y1 = math.ceil(x_px + size_px), math.ceil(y_px + size_px)
    H, W = img.shape[:2]
    if x0 < 0 or y0 < 0 or x1 > W or y1 > H:
        return

    def lookup(origin: int, start: float, count: int) -> tuple[Array, Array]:
        u = (origin + (np.arange(count * ss) + 0.5) / ss - start) / size_px * n
        idx = np.floor(u).astype(np.intp)
        return np.clip(idx, 0, n - 1), (idx >= 0) & (idx < n)

    cx, vx = lookup(x0, x_px, x1 - x0)
    cy, vy = lookup(y0, y_px, y1 - y0)
    dark = m[cy[:, None], cx[None, :]] & vy[:, None] & vx[None, :]
    patch = 255 - cv2.resize(dark.astype(np.uint8) * 255, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    if img.ndim == 2:
        img[y0:y1, x0:x1] = patch
    else:
        img[y0:y1, x0:x1] = patch[..., None]
