"""The page picture kept for the reviewer: the scan itself, plus where it lies on the page.

The review screen draws the page as SVG in frozen-geometry points and outlines every box on top of the
picture. Rather than warping the scan upright here (a 2-megapixel perspective warp was ~12 ms a page, a
sixth of the whole read), the picture is the scan as it lies and an affine placement (image pixels -> page
points) is stored beside it; the browser applies it as an SVG `transform`, resampling once, when it draws.
When the scanner's own JPEG shows exactly the pixels that were read (a scanner PDF, page not turned, up
to REVIEW_ORIGINAL_MAX_DPI) that JPEG is the picture, byte for byte: the reviewer sees the original at full
resolution, and no second lossy encoding is made (encoding was ~6 ms a page). Otherwise the scan is
block-averaged by an integer factor to about REVIEW_IMAGE_DPI, cropped to the sheet and encoded. Registration is a
homography, but a flatbed or feeder scan is affine to within a few hundredths of a point (measured on the
bench sets: at most 0.08 pt over the page), so the affine fit is checked against the homography over the
whole page and, if it is ever off by more than REVIEW_AFFINE_MAX_ERROR_PT (a lifted, bent sheet), the
picture is warped upright here as before and placed by a plain scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.base import config as C
from pipeline.records.form_geometry import PageGeometry
from pipeline.records.reading import Registration

Matrix = NDArray[np.float64]


@dataclass(frozen=True)
class PageImage:
    """A JPEG of the page and its placement: SVG `matrix(a b c d e f)` from image pixels (pixel i spans
    [i, i+1)) to page points, x' = a x + c y + e, y' = b x + d y + f."""

    jpeg: bytes
    width_px: int
    height_px: int
    to_pt: tuple[float, float, float, float, float, float]
    warped: bool          # True: the fallback (warped upright here); False: the scan as it lies

    @property
    def placement(self) -> dict[str, Any]:
        """What the database keeps beside the file (pages.image_placement) for the review screen."""
        return {"width_px": self.width_px, "height_px": self.height_px, "to_pt": [round(v, 6) for v in self.to_pt]}


def page_image(image: NDArray[np.uint8], reg: Registration, page: PageGeometry, original_jpeg: bytes = b"") -> PageImage:
    """The review picture of an upright grey scan registered by `reg` (see the module docstring);
    `original_jpeg`: the file's own JPEG of exactly these pixels (SourcePage.original_jpeg), if any."""
    h = np.asarray(reg.matrix, dtype=np.float64)          # points -> continuous scan pixels
    # whether the browser can place the scan: decided once, on the scan itself (a reduced copy is the same
    # map up to a scale, so it is exactly as affine)
    affine, error_pt = _affine_fit(h, page, reg.scale_px_per_pt)
    if error_pt <= C.REVIEW_AFFINE_MAX_ERROR_PT and original_jpeg:
        to_pt = np.linalg.inv(np.vstack([affine, [0.0, 0.0, 1.0]]))
        return PageImage(original_jpeg, image.shape[1], image.shape[0], _svg_matrix(to_pt), warped=False)
    small, to_small, n = _reduced(image, h, page, reg.scale_px_per_pt)
    if error_pt > C.REVIEW_AFFINE_MAX_ERROR_PT:
        return _warped(small, to_small @ h, page, reg.scale_px_per_pt * 72.0 / n)
    to_pt = np.linalg.inv(to_small @ np.vstack([affine, [0.0, 0.0, 1.0]]))
    return PageImage(_jpeg(small), small.shape[1], small.shape[0], _svg_matrix(to_pt), warped=False)


def _reduced(image: NDArray[np.uint8], h: Matrix, page: PageGeometry,
             px_per_pt: float) -> tuple[NDArray[np.uint8], Matrix, int]:
    """The scan cropped to the sheet (plus margin) and block-averaged by the integer factor n closest to
    REVIEW_IMAGE_DPI; with the map scan pixels -> its pixels, and n."""
    n = max(round(px_per_pt * 72.0 / C.REVIEW_IMAGE_DPI), 1)
    corners = _project(h, np.array([[0.0, 0.0], [page.width_pt, 0.0], [page.width_pt, page.height_pt],
                                    [0.0, page.height_pt]]))
    margin = C.REVIEW_IMAGE_MARGIN_MM * C.PT_PER_MM * px_per_pt
    ih, iw = image.shape[:2]
    x0 = min(max(int(np.floor(corners[:, 0].min() - margin)), 0), iw - 1)
    y0 = min(max(int(np.floor(corners[:, 1].min() - margin)), 0), ih - 1)
    x1 = max(min(int(np.ceil(corners[:, 0].max() + margin)), iw), x0 + 1)
    y1 = max(min(int(np.ceil(corners[:, 1].max() + margin)), ih), y0 + 1)
    n = min(n, x1 - x0, y1 - y0)
    # whole blocks only: an exact integer factor takes OpenCV's fast block-averaging path
    x1, y1 = x0 + (x1 - x0) // n * n, y0 + (y1 - y0) // n * n
    crop = image[y0:y1, x0:x1]
    small = np.asarray(cv2.resize(crop, ((x1 - x0) // n, (y1 - y0) // n), interpolation=cv2.INTER_AREA) if n > 1 else crop,
                       dtype=np.uint8)
    # block j covers scan pixels [x0 + j n, x0 + (j + 1) n)
    return small, np.array([[1.0 / n, 0.0, -x0 / n], [0.0, 1.0 / n, -y0 / n], [0.0, 0.0, 1.0]]), n


def _project(m: Matrix, pts: NDArray[np.float64]) -> NDArray[np.float64]:
    q = m @ np.vstack([pts.T, np.ones(len(pts))])
    return (q[:2] / q[2]).T


def _affine_fit(m: Matrix, page: PageGeometry, px_per_pt: float) -> tuple[Matrix, float]:
    """The least-squares affine map (2x3) closest to homography `m` over a grid on the page, and its worst
    distance from `m` on that grid in points."""
    k = C.REVIEW_AFFINE_GRID
    xs, ys = np.meshgrid(np.linspace(0.0, page.width_pt, k), np.linspace(0.0, page.height_pt, k))
    pts = np.column_stack([xs.ravel(), ys.ravel()])
    px = _project(m, pts)
    design = np.column_stack([pts, np.ones(len(pts))])
    sol, *_ = np.linalg.lstsq(design, px, rcond=None)
    error_px = float(np.abs(design @ sol - px).max())
    return np.asarray(sol.T, dtype=np.float64), error_px / px_per_pt


def _svg_matrix(m: Matrix) -> tuple[float, float, float, float, float, float]:
    return (float(m[0, 0]), float(m[1, 0]), float(m[0, 1]), float(m[1, 1]), float(m[0, 2]), float(m[1, 2]))


def _warped(small: NDArray[np.uint8], to_small: Matrix, page: PageGeometry, dpi: float) -> PageImage:
    """Fallback for a scan that is not affine: warp it upright onto the page at `dpi`, placed by a scale."""
    k = 72.0 / dpi                                        # points per output pixel
    w, hgt = round(page.width_pt / k), round(page.height_pt / k)
    # output pixel centre i sits at point (i + 0.5) k; OpenCV puts pixel centres on integers on both sides
    out_to_pt = np.array([[k, 0.0, 0.5 * k], [0.0, k, 0.5 * k], [0.0, 0.0, 1.0]])
    to_cv = np.array([[1.0, 0.0, -0.5], [0.0, 1.0, -0.5], [0.0, 0.0, 1.0]])
    m = to_cv @ to_small @ out_to_pt
    upright = np.asarray(cv2.warpPerspective(small, m, (w, hgt), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                  borderMode=cv2.BORDER_CONSTANT, borderValue=255), dtype=np.uint8)
    return PageImage(_jpeg(upright), w, hgt, (k, 0.0, 0.0, k, 0.0, 0.0), warped=True)


def _jpeg(img: NDArray[np.uint8]) -> bytes:
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(img), [cv2.IMWRITE_JPEG_QUALITY, C.REVIEW_IMAGE_JPEG_QUALITY])
    if not ok:
        raise ValueError("JPEG encoding of the review image failed")
    return bytes(buf)
