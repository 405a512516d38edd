"""page_image(): the reviewer's picture, placed by its stored matrix, shows every box where the geometry
draws it, for skewed, upside-down, fine and coarse scans, and for a sheet that is not affine (the fallback)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from pipeline.base import config as C
from pipeline.forms.render import Composition
from pipeline.reader.page_image import PageImage, page_image
from pipeline.records.form_geometry import PageGeometry
from pipeline.records.reading import Registration
from tests.reader.test_register import comp, jpeg_blur, outline_samples, pages, read, scan  # noqa: F401  (fixtures)

Gray = NDArray[np.uint8]


def picture_pixels(pic: PageImage) -> Gray:
    img = cv2.imdecode(np.frombuffer(pic.jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert img is not None and img.shape == (pic.height_px, pic.width_px)
    return np.asarray(img, dtype=np.uint8)


def on_ink_share(pic: PageImage, geom: PageGeometry, offset_pt: float = 0.0) -> float:
    """Share of outline points that, placed through the picture's matrix as the browser does, land on ink."""
    img = picture_pixels(pic)
    a, b, c, d, e, f = pic.to_pt
    to_px = np.linalg.inv(np.array([[a, c, e], [b, d, f], [0.0, 0.0, 1.0]]))
    paper = float(np.percentile(img, 90))
    hits = total = 0
    for box in geom.boxes:
        for p in outline_samples(box.rect):
            x, y, _ = to_px @ np.array([p.x + offset_pt, p.y + offset_pt, 1.0])
            # pixel i spans [i, i+1): the one under the point is floor(), as SVG draws it
            hits += int(img[int(np.floor(y)), int(np.floor(x))] < paper - 60)
            total += 1
    return hits / total


def check_placed(pic: PageImage, geom: PageGeometry) -> None:
    assert on_ink_share(pic, geom) > 0.9
    # the same points pushed 1.5 mm off miss the outlines: the check has teeth
    assert on_ink_share(pic, geom, offset_pt=1.5 * C.PT_PER_MM) < 0.35


@pytest.mark.parametrize(("dpi", "kwargs"), [
    (300, {"angle": 4.0, "shift": (30, -20), "border_mm": 15, "lid": 25}),
    (300, {"angle": -2.0, "scale": 0.97, "border_mm": 8}),
    (150, {"angle": 1.0, "border_mm": 5}),
    (600, {"angle": -1.0, "border_mm": 5}),
])
def test_skewed_scans_are_placed_on_their_boxes(comp: Composition, pages: dict[int, list[Gray]], dpi: int,  # noqa: F811
                                                kwargs: dict[str, object]) -> None:
    geom = comp.pages[0]
    img, _ = scan(pages[dpi][0], dpi, **kwargs)  # type: ignore[arg-type]
    ident, reg = read(img, dpi, geom)
    pic = page_image(ident.image, reg, geom)
    assert not pic.warped                           # a flat scan is affine: no warp at ingest
    check_placed(pic, geom)
    # about REVIEW_IMAGE_DPI (block-averaged by an integer factor), cropped to the sheet and its margin
    px_per_pt = abs(np.linalg.det(np.array([[pic.to_pt[0], pic.to_pt[2]], [pic.to_pt[1], pic.to_pt[3]]]))) ** -0.5
    assert px_per_pt * 72 == pytest.approx(dpi / max(round(dpi / C.REVIEW_IMAGE_DPI), 1), rel=0.05)
    assert pic.width_px * pic.height_px < 1.3 * (geom.width_pt * px_per_pt) * (geom.height_pt * px_per_pt)


def test_the_scanners_own_jpeg_is_the_picture_as_is(comp: Composition, pages: dict[int, list[Gray]]) -> None:  # noqa: F811
    """No second lossy encoding: the original JPEG at full resolution, placed by the registration."""
    geom = comp.pages[0]
    img, _ = scan(pages[300][0], 300, angle=3.0, shift=(20, 10), border_mm=10, lid=30)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    original = bytes(buf)
    seen = np.asarray(cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE), dtype=np.uint8)
    ident, reg = read(seen, 300, geom)
    pic = page_image(ident.image, reg, geom, original)
    assert pic.jpeg == original and not pic.warped
    assert (pic.width_px, pic.height_px) == (seen.shape[1], seen.shape[0])
    check_placed(pic, geom)
    # not affine (a lifted sheet): the original cannot be placed by the browser, so it is warped after all
    lifted, to_px = perspective(pages[300][0], 300, 4.0 * 300 / 25.4)
    ok, buf = cv2.imencode(".jpg", lifted, [cv2.IMWRITE_JPEG_QUALITY, 80])
    pic = page_image(lifted, registration(to_px, 300), geom, bytes(buf))
    assert pic.warped and pic.jpeg != bytes(buf)
    check_placed(pic, geom)


def test_upside_down_scan(comp: Composition, pages: dict[int, list[Gray]]) -> None:  # noqa: F811
    geom = comp.pages[0]
    img, _ = scan(pages[300][0], 300, angle=-3.0, border_mm=10, lid=20)
    ident, reg = read(np.asarray(cv2.rotate(jpeg_blur(img, 300), cv2.ROTATE_180), dtype=np.uint8), 300, geom)
    assert reg.rotated_180
    check_placed(page_image(ident.image, reg, geom), geom)


def perspective(page: Gray, dpi: float, pull_px: float) -> tuple[Gray, NDArray[np.float64]]:
    """The page seen with its top edge `pull_px` narrower on each side (a sheet lifted off the glass), and
    the points -> pixels homography of that view."""
    h, w = page.shape
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    dst = np.array([[pull_px, 0], [w - pull_px, 0], [w, h], [0, h]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    seen = cv2.warpPerspective(page, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    # continuous coordinates (pixel i spans [i, i+1)): OpenCV's warp works on pixel centres
    half = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    to_px = half @ np.asarray(m, dtype=np.float64) @ np.linalg.inv(half) @ np.diag([dpi / 72.0, dpi / 72.0, 1.0])
    return np.asarray(seen, dtype=np.uint8), to_px


def registration(to_px: NDArray[np.float64], dpi: float) -> Registration:
    return Registration(tuple(tuple(float(v) for v in row) for row in to_px), 0.0, 4, False, dpi / 72.0)


@pytest.mark.parametrize(("pull_mm", "warped"), [(0.0, False), (4.0, True)])
def test_a_sheet_that_is_not_affine_is_warped_upright_instead(comp: Composition, pages: dict[int, list[Gray]],  # noqa: F811
                                                              pull_mm: float, warped: bool) -> None:
    geom = comp.pages[0]
    img, to_px = perspective(pages[300][0], 300, pull_mm * 300 / 25.4)
    pic = page_image(img, registration(to_px, 300), geom)
    assert pic.warped is warped
    if warped:
        k = 72.0 / C.REVIEW_IMAGE_DPI
        assert pic.to_pt == pytest.approx((k, 0.0, 0.0, k, 0.0, 0.0))
        assert (pic.width_px, pic.height_px) == (round(geom.width_pt / k), round(geom.height_pt / k))
    check_placed(pic, geom)


def test_placement_of_a_known_similarity_is_exact(comp: Composition, pages: dict[int, list[Gray]]) -> None:  # noqa: F811
    """Pure arithmetic: a page scanned at 300 DPI, shifted by 40 px: every box corner maps back to itself."""
    geom = comp.pages[0]
    to_px = np.array([[300 / 72, 0.0, 40.0], [0.0, 300 / 72, 40.0], [0.0, 0.0, 1.0]])
    img = np.full((3600, 2600), 255, np.uint8)
    pic = page_image(img, registration(to_px, 300), geom)
    a, b, c, d, e, f = pic.to_pt
    for box in geom.boxes[:10]:
        p = box.rect.center
        # the scan pixel under p, after 2x block averaging and the crop
        x_scan, y_scan = p.x * 300 / 72 + 40.0, p.y * 300 / 72 + 40.0
        crop_x0 = max(int(np.floor(40.0 - C.REVIEW_IMAGE_MARGIN_MM * 300 / 25.4)), 0)
        xi, yi = (x_scan - crop_x0) / 2, (y_scan - crop_x0) / 2
        assert (a * xi + c * yi + e, b * xi + d * yi + f) == pytest.approx((p.x, p.y), abs=1e-6)
