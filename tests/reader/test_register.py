"""register(): the fitted transform puts every printed box where it really is on the scan."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from pdf2image import convert_from_bytes

from pipeline.base import config as C
from pipeline.base.errors import PageRejected
from pipeline.base.geometry import Point, Rect
from pipeline.forms.render import Composition, compose, draw_pdf
from pipeline.reader.identify import identify
from pipeline.reader.register import register
from pipeline.records.form_geometry import PageGeometry
from pipeline.records.layout import load_layout, with_departments
from pipeline.records.office import Office
from pipeline.records.page_code import PageIdentity
from pipeline.records.reading import Identification, MarkerHit, Registration, SourcePage

FP = "5eedf00d"     # a version fingerprint; these pages are read without a workspace, so any will do

LAYOUT = Path(__file__).resolve().parents[2] / "form_layouts" / "lesko-f1.yaml"
Gray = NDArray[np.uint8]


@pytest.fixture(scope="module")
def comp() -> Composition:
    layout = with_departments(load_layout(LAYOUT), [("fin", "Referat Finansowy"), ("soc", "Referat Spraw Obywatelskich")])
    return compose(layout, Office(name="Urząd Gminy"), 1)


@pytest.fixture(scope="module")
def pages(comp: Composition) -> dict[int, list[Gray]]:
    pdf = draw_pdf(comp, "lesko-f1", 1, ["000123"], fingerprint=FP)
    out = {dpi: [np.asarray(p, dtype=np.uint8) for p in convert_from_bytes(pdf, dpi=dpi, grayscale=True)] for dpi in (150, 300)}
    out[600] = [np.asarray(convert_from_bytes(pdf, dpi=600, grayscale=True, first_page=1, last_page=1)[0], dtype=np.uint8)]
    return out


# --- scanning (same conventions as test_identify) ------------------------------------------------------

def mm_px(mm: float, dpi: float) -> int:
    return round(mm * dpi / 25.4)


def scan(img: Gray, dpi: float, angle: float = 0.0, scale: float | tuple[float, float] = 1.0,
         shift: tuple[float, float] = (0, 0), border_mm: float = 0.0, lid: int = 255) -> tuple[Gray, NDArray[np.float64]]:
    """The sheet on a larger scanner bed; returns the scan and the 2x3 map clean-render px -> scan px."""
    h, w = img.shape
    pad = mm_px(border_mm, dpi)
    sx, sy = (scale, scale) if isinstance(scale, float | int) else scale
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    stretch = np.array([[sx, 0, w / 2 * (1 - sx)], [0, sy, h / 2 * (1 - sy)], [0, 0, 1]])
    m = rot @ stretch
    m[:, 2] += np.array(shift, dtype=np.float64) + pad
    size = (w + 2 * pad, h + 2 * pad)
    paper = cv2.warpAffine(img, m, size, flags=cv2.INTER_LINEAR, borderValue=255)
    sheet = cv2.warpAffine(np.full_like(img, 255), m, size, borderValue=0)
    return np.where(sheet > 127, paper, np.uint8(lid)).astype(np.uint8), m


def truth_px(m: NDArray[np.float64], dpi: float, p: Point) -> NDArray[np.float64]:
    return m @ np.array([p.x * dpi / 72 - 0.5, p.y * dpi / 72 - 0.5, 1.0])


def jpeg_blur(img: Gray, dpi: float) -> Gray:
    k = 2 * round(dpi / 150) + 1
    ok, buf = cv2.imencode(".jpg", cv2.GaussianBlur(img, (k, k), 0), [cv2.IMWRITE_JPEG_QUALITY, 40])
    assert ok
    return np.asarray(cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE), dtype=np.uint8)


def read(img: Gray, dpi: float, geom: PageGeometry) -> tuple[Identification, Registration]:
    ident = identify(SourcePage("skan.tif", "0" * 64, 0, dpi, img))
    return ident, register(ident, geom)


def centre_error_mm(reg: Registration, geom: PageGeometry, m: NDArray[np.float64], dpi: float) -> float:
    errors = [np.hypot(*(np.array(reg.to_px(b.rect.center)) - truth_px(m, dpi, b.rect.center))) for b in geom.boxes]
    return float(max(errors)) / (dpi / 25.4)


def outline_samples(rect: Rect, per_edge: int = 8) -> list[Point]:
    """Points along the printed outline (the frozen rect is the stroke's centre line), corners avoided."""
    ts = (np.arange(per_edge) + 0.5) / per_edge
    return ([Point(rect.x + t * rect.w, rect.y) for t in ts] + [Point(rect.x + t * rect.w, rect.bottom) for t in ts]
            + [Point(rect.x, rect.y + t * rect.h) for t in ts] + [Point(rect.right, rect.y + t * rect.h) for t in ts])


def on_ink_share(img: Gray, reg: Registration, geom: PageGeometry, offset_pt: float = 0.0) -> float:
    """Share of projected outline points that land on dark pixels (nearest pixel, no search window)."""
    hits = total = 0
    for box in geom.boxes:
        for p in outline_samples(box.rect):
            x, y = reg.to_px(Point(p.x + offset_pt, p.y + offset_pt))
            hits += int(img[round(y), round(x)] < 128)
            total += 1
    return hits / total


# --- accuracy ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dpi", [150, 300, 600])
def test_clean_scan_boxes_land_on_their_outlines(comp: Composition, pages: dict[int, list[Gray]], dpi: int) -> None:
    geom = comp.pages[0]
    img, m = scan(pages[dpi][0], dpi)
    ident, reg = read(img, dpi, geom)
    assert reg.markers_found == 4 and not reg.rotated_180
    assert reg.residual_pt < 0.1 * C.PT_PER_MM
    assert reg.scale_px_per_pt == pytest.approx(dpi / 72, rel=0.005)
    assert centre_error_mm(reg, geom, m, dpi) < 0.3
    assert on_ink_share(ident.image, reg, geom) > 0.97
    # the same check with the fit pushed 1.5 mm off: the outlines are missed, so the check has teeth
    assert on_ink_share(ident.image, reg, geom, offset_pt=1.5 * C.PT_PER_MM) < 0.3


CASES: dict[str, dict[str, object]] = {
    "skew +5°, shift": {"angle": 5.0, "shift": (30, -20), "border_mm": 15, "lid": 25},
    "skew -5°, scale 0.97": {"angle": -5.0, "scale": 0.97, "border_mm": 15},
    "scale 1.03": {"angle": 1.0, "scale": 1.03, "border_mm": 12, "lid": 30},
    "feeder stretch 1.5 %": {"angle": 0.5, "scale": (1.0, 1.015), "border_mm": 10},
}


@pytest.mark.parametrize("dpi", [150, 300])
@pytest.mark.parametrize("case", list(CASES))
def test_distorted_scans_register_accurately(comp: Composition, pages: dict[int, list[Gray]], dpi: int, case: str) -> None:
    geom = comp.pages[1]
    img, m = scan(pages[dpi][1], dpi, **CASES[case])  # type: ignore[arg-type]
    _, reg = read(img, dpi, geom)
    assert reg.residual_pt < 0.15 * C.PT_PER_MM
    assert centre_error_mm(reg, geom, m, dpi) < 0.3


def test_blurred_jpeg_upside_down_scan(comp: Composition, pages: dict[int, list[Gray]]) -> None:
    geom = comp.pages[0]
    img, m = scan(pages[300][0], 300, angle=-3.0, border_mm=10, lid=20)
    ident, reg = read(np.asarray(cv2.rotate(jpeg_blur(img, 300), cv2.ROTATE_180), dtype=np.uint8), 300, geom)
    assert reg.rotated_180 and ident.rotated_180
    assert centre_error_mm(reg, geom, m, 300) < 0.3
    assert on_ink_share(ident.image, reg, geom) > 0.9


@pytest.mark.parametrize("dpi", [150, 300])
@pytest.mark.parametrize(("corner", "leg_mm", "markers"), [("bl", 45, 3), ("tl", 45, 3), ("br", 24, None)])
def test_folded_corner(comp: Composition, pages: dict[int, list[Gray]], dpi: int, corner: str, leg_mm: float,
                       markers: int | None) -> None:
    """A dark triangle where the corner folded away: a whole marker hidden, or only part of one (its
    corners then come out wrong and must be dropped from the fit, not bend it)."""
    geom = comp.pages[0]
    h, w = pages[dpi][0].shape
    s = mm_px(leg_mm, dpi)
    cx, cy, dx, dy = {"tl": (0, 0, 1, 1), "br": (w - 1, h - 1, -1, -1), "bl": (0, h - 1, 1, -1)}[corner]
    folded = pages[dpi][0].copy()
    cv2.fillPoly(folded, [np.array([(cx, cy), (cx + dx * s, cy), (cx, cy + dy * s)], np.int32)], 30)
    img, m = scan(folded, dpi, angle=1.5, border_mm=6, lid=30)
    _, reg = read(img, dpi, geom)
    if markers is not None:
        assert reg.markers_found == markers
    assert centre_error_mm(reg, geom, m, dpi) < 0.3


# --- rejections, on synthetic detections ---------------------------------------------------------------

def detections(geom: PageGeometry, matrix: NDArray[np.float64], ids: tuple[int, ...] = (0, 1, 2, 3),
               moved: dict[tuple[int, int], tuple[float, float]] | None = None, dpi: float = 300.0) -> Identification:
    """What identify would report for a page seen through `matrix` (points -> pixels); `moved` pushes single
    corners, keyed (marker id, corner index), by (dx, dy) points."""
    hits = []
    for g in geom.markers:
        if g.id not in ids:
            continue
        pts = []
        for k, p in enumerate(g.rect.corners()):
            dx, dy = (moved or {}).get((g.id, k), (0.0, 0.0))
            x, y, z = matrix @ np.array([p.x + dx, p.y + dy, 1.0])
            pts.append((float(x / z), float(y / z)))
        hits.append(MarkerHit(g.id, tuple(pts)))
    return Identification(PageIdentity("lesko-f1", 1, 1, None), np.zeros((4, 4), np.uint8), tuple(hits), False, dpi)


def similarity(scale: float, angle_deg: float = 0.0, shift: tuple[float, float] = (40.0, 25.0)) -> NDArray[np.float64]:
    c, s = math.cos(math.radians(angle_deg)) * scale, math.sin(math.radians(angle_deg)) * scale
    return np.array([[c, -s, shift[0]], [s, c, shift[1]], [0.0, 0.0, 1.0]])


def unregistered(ident: Identification, geom: PageGeometry) -> str:
    with pytest.raises(PageRejected) as info:
        register(ident, geom)
    assert info.value.code == "unregistered"
    return info.value.message


def test_exact_detections_give_the_exact_transform(comp: Composition) -> None:
    geom = comp.pages[0]
    truth = similarity(300 / 72, 2.0)
    reg = register(detections(geom, truth), geom)
    assert reg.residual_pt < 1e-3
    assert np.allclose(np.array(reg.matrix), truth, atol=1e-6)
    three = register(detections(geom, truth, ids=(0, 1, 3)), geom)
    assert three.markers_found == 3
    assert np.allclose(np.array(three.matrix), truth, atol=1e-6)


def test_two_markers_are_not_enough(comp: Composition) -> None:
    assert "2 z 4" in unregistered(detections(comp.pages[0], similarity(300 / 72), ids=(0, 2)), comp.pages[0])


def test_corners_bitten_off_by_a_fold_are_dropped(comp: Composition) -> None:
    geom = comp.pages[0]
    truth = similarity(300 / 72, -1.0)
    mm = C.PT_PER_MM
    bent = detections(geom, truth, moved={(2, 1): (-1.5 * mm, 1.2 * mm), (2, 2): (-1.8 * mm, -0.9 * mm)})
    reg = register(bent, geom)
    assert reg.residual_pt < 0.01
    for box in geom.boxes:
        c = box.rect.center
        assert np.allclose(reg.to_px(c), (truth @ [c.x, c.y, 1.0])[:2], atol=0.05)
    # a plain least-squares homography over all 16 corners would have been pulled off by them
    src = np.array([(p.x, p.y) for g in geom.markers for p in g.rect.corners()])
    dst = np.array([xy for hit in bent.markers for xy in hit.corners])
    plain, _ = cv2.findHomography(src, dst, 0)
    worst = max(np.hypot(*(cv2.perspectiveTransform(np.array([[[b.rect.center.x, b.rect.center.y]]]), plain)[0, 0]
                           - (truth @ [b.rect.center.x, b.rect.center.y, 1.0])[:2])) for b in geom.boxes)
    assert worst > 0.1 * 300 / 25.4


def test_detections_that_fit_no_flat_sheet_are_rejected(comp: Composition) -> None:
    geom = comp.pages[0]
    rng = np.random.default_rng(11)
    jitter = {(g.id, k): (float(rng.uniform(-4, 4)) * C.PT_PER_MM, float(rng.uniform(-4, 4)) * C.PT_PER_MM)
              for g in geom.markers for k in range(4)}
    message = unregistered(detections(geom, similarity(300 / 72), moved=jitter), geom)
    assert "mm" in message


@pytest.mark.parametrize(("matrix", "dpi"), [
    (similarity(150 / 72), 300.0),                                                  # half the stated resolution
    (np.array([[300 / 72, 0, 10], [0, 1.1 * 300 / 72, 10], [0, 0, 1]]), 300.0),     # stretched 10 % one way
    (np.array([[300 / 72, 0.2, 10], [0, 300 / 72, 10], [0, 0, 1]]), 300.0),         # sheared ~2.7°
    (similarity(300 / 72, 12.0, (600.0, 0.0)), 300.0),                               # rotated 12°
    (np.array([[4.2, 0, 0], [0, 4.2, 0], [0.0002, 0, 1]]), 300.0),                   # strong perspective
])
def test_implausible_geometry_is_rejected(comp: Composition, matrix: NDArray[np.float64], dpi: float) -> None:
    unregistered(detections(comp.pages[0], matrix, dpi=dpi), comp.pages[0])


def test_fit_to_page_printing_is_accepted(comp: Composition) -> None:
    geom = comp.pages[0]
    reg = register(detections(geom, similarity(0.94 * 300 / 72, 0.7)), geom)
    assert reg.scale_px_per_pt == pytest.approx(0.94 * 300 / 72, rel=1e-6)
