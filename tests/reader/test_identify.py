"""identify(): real rendered forms, rasterised and damaged the way scanners and people damage them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp
from numpy.typing import NDArray
from pdf2image import convert_from_bytes

from pipeline.base import config as C
from pipeline.base.errors import PageRejected
from pipeline.forms.render import compose, draw_pdf
from pipeline.reader.identify import identify
from pipeline.records.form_geometry import standard_code_rect, standard_markers
from pipeline.records.layout import load_layout, with_departments
from pipeline.records.office import Office
from pipeline.records.reading import Identification, SourcePage

FP = "5eedf00d"     # a version fingerprint; these pages are read without a workspace, so any will do

LAYOUT = Path(__file__).resolve().parents[2] / "form_layouts" / "lesko-f1.yaml"
SERIAL = "004217"
Gray = NDArray[np.uint8]


@pytest.fixture(scope="module")
def pdf() -> bytes:
    layout = with_departments(load_layout(LAYOUT), [("fin", "Referat Finansowy"), ("adm", "Referat Administracyjny")])
    comp = compose(layout, Office(name="Urząd Miasta i Gminy"), 3)
    return draw_pdf(comp, "lesko-f1", 3, [SERIAL], fingerprint=FP)


@pytest.fixture(scope="module")
def pages(pdf: bytes) -> dict[int, list[Gray]]:
    """Every page at 150 and 300 DPI, page 1 at 600 DPI."""
    out = {dpi: [np.asarray(p, dtype=np.uint8) for p in convert_from_bytes(pdf, dpi=dpi, grayscale=True)] for dpi in (150, 300)}
    out[600] = [np.asarray(convert_from_bytes(pdf, dpi=600, grayscale=True, first_page=1, last_page=1)[0], dtype=np.uint8)]
    return out


# --- how a sheet goes wrong -------------------------------------------------------------------------

def mm_px(mm: float, dpi: float) -> int:
    return round(mm * dpi / 25.4)


def scan(img: Gray, dpi: float, angle: float = 0.0, scale: float = 1.0, shift: tuple[float, float] = (0, 0),
         border_mm: float = 0.0, lid: int = 255) -> tuple[Gray, NDArray[np.float64]]:
    """The sheet placed on a larger scanner bed (lid colour around it), rotated/scaled/shifted.

    Returns the image and the 2x3 map from the clean render's pixels to the scan's pixels (the truth).
    """
    h, w = img.shape
    pad = mm_px(border_mm, dpi)
    m = np.asarray(cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale), dtype=np.float64)
    m[:, 2] += np.array(shift, dtype=np.float64) + pad
    paper = cv2.warpAffine(img, m, (w + 2 * pad, h + 2 * pad), flags=cv2.INTER_LINEAR, borderValue=255)
    sheet = cv2.warpAffine(np.full_like(img, 255), m, (w + 2 * pad, h + 2 * pad), borderValue=0)
    out = np.where(sheet > 127, paper, np.uint8(lid)).astype(np.uint8)
    return out, m


def truth_px(m: NDArray[np.float64], dpi: float, x_pt: float, y_pt: float) -> NDArray[np.float64]:
    """Where a point of the frozen geometry really is in a scan made by scan(): pdf2image pixel i covers
    [i, i+1), OpenCV puts pixel centres at integers, hence the half pixel."""
    return m @ np.array([x_pt * dpi / 72 - 0.5, y_pt * dpi / 72 - 0.5, 1.0])


def blur(img: Gray, dpi: float) -> Gray:
    k = 2 * round(dpi / 150) + 1
    return np.asarray(cv2.GaussianBlur(img, (k, k), 0), dtype=np.uint8)


def jpeg(img: Gray, quality: int = 40) -> Gray:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return np.asarray(cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE), dtype=np.uint8)


def defocus(img: Gray, dpi: float, sigma_mm: float) -> Gray:
    return np.asarray(cv2.GaussianBlur(img, (0, 0), sigma_mm * dpi / 25.4), dtype=np.uint8)


def bilevel(img: Gray) -> Gray:
    return np.where(img < 128, 0, 255).astype(np.uint8)


def speckle(img: Gray, seed: int = 7, count: int = 4000) -> Gray:
    rng = np.random.default_rng(seed)
    out = img.copy()
    out[rng.integers(0, img.shape[0], count), rng.integers(0, img.shape[1], count)] = 0
    return out


def fold(img: Gray, dpi: float, corner: str, leg_mm: float, behind: int) -> Gray:
    """A folded corner: the corner triangle shows the scanner lid (`behind`), the flap lies over the page."""
    h, w = img.shape
    s = mm_px(leg_mm, dpi)
    cx, cy, dx, dy = {"tl": (0, 0, 1, 1), "tr": (w - 1, 0, -1, 1), "br": (w - 1, h - 1, -1, -1), "bl": (0, h - 1, 1, -1)}[corner]
    out = img.copy()
    flap = np.array([(cx + dx * s, cy), (cx, cy + dy * s), (cx + dx * s, cy + dy * s)], np.int32)
    cv2.fillPoly(out, [flap], 238)
    cv2.fillPoly(out, [np.array([(cx, cy), (cx + dx * s, cy), (cx, cy + dy * s)], np.int32)], behind)
    return out


def upright(img: Gray, rotation: int) -> Gray:
    return np.asarray(cv2.rotate(img, rotation), dtype=np.uint8)


def page(img: Gray, dpi: float, from_file: bool = True) -> SourcePage:
    return SourcePage("skan.pdf", "0" * 64, 0, dpi, img, from_file)


def marker_error_mm(ident: Identification, m: NDArray[np.float64], dpi: float) -> float:
    """Largest distance between a returned marker corner and where that printed corner truly is."""
    frozen = {g.id: g for g in standard_markers()}
    worst = 0.0
    for hit in ident.markers:
        for (x, y), p in zip(hit.corners, frozen[hit.id].rect.corners(), strict=True):
            worst = max(worst, float(np.hypot(*(np.array([x, y]) - truth_px(m, dpi, p.x, p.y)))))
    return worst / (dpi / 25.4)


def check_ours(ident: Identification, page_no: int = 1) -> None:
    assert (ident.identity.form, ident.identity.version, ident.identity.page, ident.identity.serial) == (
        "lesko-f1", 3, page_no, SERIAL)


# --- our sheets ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("dpi", [150, 300, 600])
def test_clean_page_at_every_resolution(pages: dict[int, list[Gray]], dpi: int) -> None:
    img, m = scan(pages[dpi][0], dpi)
    ident = identify(page(img, dpi))
    check_ours(ident)
    assert not ident.rotated_180
    assert sorted(h.id for h in ident.markers) == [0, 1, 2, 3]
    assert marker_error_mm(ident, m, dpi) < 0.15
    assert ident.dpi == pytest.approx(dpi, rel=0.01)


def test_second_page_is_told_apart(pages: dict[int, list[Gray]]) -> None:
    check_ours(identify(page(pages[150][1], 150)), page_no=2)


Damage = Callable[[Gray, float], Gray]
# name: (placement on the scanner, damage to the pixels, markers that must be found, corner tolerance in mm)
DAMAGES: dict[str, tuple[dict[str, object], Damage, int, float]] = {
    "skew +5°": ({"angle": 5.0, "border_mm": 15}, lambda i, d: i, 4, 0.3),
    "skew -5°, scale 0.97, shift, dark lid": ({"angle": -5.0, "scale": 0.97, "shift": (40, -25), "border_mm": 15, "lid": 25},
                                             lambda i, d: i, 4, 0.3),
    "scale 1.03, skew 2°": ({"angle": 2.0, "scale": 1.03, "border_mm": 12}, lambda i, d: i, 4, 0.3),
    "blur + JPEG q40": ({"angle": 1.5, "border_mm": 8, "lid": 40}, lambda i, d: jpeg(blur(i, d)), 4, 0.3),
    "bilevel": ({"angle": -2.0, "border_mm": 8}, lambda i, d: bilevel(i), 4, 0.3),
    "speckle": ({"angle": 3.0, "border_mm": 8}, lambda i, d: speckle(i), 4, 0.3),
    # a badly focused scanner: corners round off (pulled ~0.3 mm inwards, alike on every marker)
    "heavy blur 0.45 mm + JPEG q40": ({"angle": -3.5, "border_mm": 8, "lid": 30}, lambda i, d: jpeg(defocus(i, d, 0.45)), 3, 0.5),
}


@pytest.mark.parametrize("dpi", [150, 300])
@pytest.mark.parametrize("name", list(DAMAGES))
def test_damaged_scans_are_identified(pages: dict[int, list[Gray]], dpi: int, name: str) -> None:
    kwargs, damage, markers, tolerance_mm = DAMAGES[name]
    img, m = scan(pages[dpi][0], dpi, **kwargs)  # type: ignore[arg-type]
    ident = identify(page(damage(img, dpi), dpi))
    check_ours(ident)
    assert not ident.rotated_180
    assert len(ident.markers) >= markers
    assert marker_error_mm(ident, m, dpi) < tolerance_mm


def test_very_blurred_low_resolution_scan(pdf: bytes) -> None:
    """0.5 mm of blur at 200 DPI: the code reads only after the crop is enlarged and sharpened."""
    dpi = 200
    clean = np.asarray(convert_from_bytes(pdf, dpi=dpi, grayscale=True, first_page=1, last_page=1)[0], dtype=np.uint8)
    img, m = scan(clean, dpi, angle=-3.5, border_mm=8, lid=30)
    ident = identify(page(jpeg(defocus(img, dpi, 0.5)), dpi))
    check_ours(ident)
    assert len(ident.markers) >= 3
    assert marker_error_mm(ident, m, dpi) < 0.5


@pytest.mark.parametrize("dpi", [150, 300, 600])
def test_upside_down_scan_is_turned_upright(pages: dict[int, list[Gray]], dpi: int) -> None:
    img, m = scan(pages[dpi][0], dpi, angle=2.5, border_mm=10, lid=30)
    ident = identify(page(upright(img, cv2.ROTATE_180), dpi))
    check_ours(ident)
    assert ident.rotated_180
    assert ident.image.shape == img.shape
    # the returned image is the upright scan itself, and the corners are in its coordinates
    assert np.array_equal(ident.image, img)
    assert marker_error_mm(ident, m, dpi) < 0.3


def test_sideways_scan_is_turned_upright(pages: dict[int, list[Gray]]) -> None:
    img, m = scan(pages[150][0], 150, angle=-1.0, border_mm=5)
    ident = identify(page(upright(img, cv2.ROTATE_90_CLOCKWISE), 150))
    check_ours(ident)
    assert np.array_equal(ident.image, img)
    assert marker_error_mm(ident, m, 150) < 0.3


@pytest.mark.parametrize("dpi", [150, 300])
@pytest.mark.parametrize(("corner", "behind"), [("bl", 255), ("tl", 35), ("br", 35)])
def test_folded_corner_hides_one_marker(pages: dict[int, list[Gray]], dpi: int, corner: str, behind: int) -> None:
    folded = fold(pages[dpi][0], dpi, corner, leg_mm=45, behind=behind)
    img, m = scan(folded, dpi, angle=1.0, border_mm=6, lid=behind)
    ident = identify(page(img, dpi))
    check_ours(ident)
    hidden = {"tl": 0, "tr": 1, "br": 2, "bl": 3}[corner]
    assert sorted(h.id for h in ident.markers) == sorted(set(C.MARKER_IDS) - {hidden})
    assert marker_error_mm(ident, m, dpi) < 0.3


def test_dpi_is_measured_when_the_file_does_not_say(pages: dict[int, list[Gray]]) -> None:
    img, _ = scan(pages[300][0], 300, border_mm=20, lid=20)
    guess = img.shape[1] / C.ASSUMED_PAGE_WIDTH_IN      # what ingest guesses: off by the lid border
    assert abs(guess / 300 - 1) > 0.05
    ident = identify(page(img, guess, from_file=False))
    check_ours(ident)
    assert ident.dpi == pytest.approx(300, rel=0.01)


def test_writer_default_dpi_is_overruled_by_the_markers(pages: dict[int, list[Gray]]) -> None:
    ident = identify(page(pages[150][0], 72.0))     # JFIF "72 DPI" on a 150 DPI scan
    assert ident.dpi == pytest.approx(150, rel=0.01)


@pytest.mark.parametrize("stated", [300.0, 450.0])
def test_a_file_that_overstates_its_dpi_is_still_read(pages: dict[int, list[Gray]], stated: float) -> None:
    """The first marker search skips outlines much smaller than a marker at the stated DPI; a 150 DPI scan
    claiming 2-3x that has markers below the cut, and the rescue searches must still find them."""
    img, m = scan(pages[150][0], 150, angle=1.0, border_mm=5)
    ident = identify(page(img, stated))
    check_ours(ident)
    assert ident.dpi == pytest.approx(150, rel=0.02)
    assert marker_error_mm(ident, m, 150) < 0.3


def test_page_code_alone_identifies_a_copy_without_markers(pages: dict[int, list[Gray]]) -> None:
    img = pages[150][0].copy()
    px = 150 / 72
    for g in standard_markers():
        r = g.rect.inset(-3)
        img[round(r.y * px):round(r.bottom * px), round(r.x * px):round(r.right * px)] = 255
    ident = identify(page(upright(img, cv2.ROTATE_180), 150))
    check_ours(ident)
    assert ident.markers == ()
    assert ident.rotated_180 and np.array_equal(ident.image, img)


# --- not ours ------------------------------------------------------------------------------------------

def paper(dpi: float, seed: int = 3) -> Gray:
    rng = np.random.default_rng(seed)
    h, w = mm_px(297, dpi), mm_px(210, dpi)
    return np.clip(rng.normal(243, 5, (h, w)), 0, 255).astype(np.uint8)


def letter(dpi: float) -> Gray:
    img = paper(dpi)
    for n in range(22):
        cv2.putText(img, "Szanowni Panstwo, w odpowiedzi na pismo z dnia 12 maja uprzejmie informuje",
                    (mm_px(25, dpi), mm_px(45 + 9 * n, dpi)), cv2.FONT_HERSHEY_SIMPLEX, dpi / 420, 20, max(1, round(dpi / 150)))
    return img


def qr(dpi: float, text: str) -> Gray:
    size = mm_px(30, dpi)
    bitmap = zxingcpp.write_barcode_to_image(zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode), scale=4)
    square = cv2.resize(np.asarray(bitmap, dtype=np.uint8), (size, size), interpolation=cv2.INTER_NEAREST)
    return np.asarray(square, dtype=np.uint8)


def paste(img: Gray, patch: Gray, x: int, y: int) -> Gray:
    out = img.copy()
    out[y:y + patch.shape[0], x:x + patch.shape[1]] = patch
    return out


def rejected(img: Gray, dpi: float) -> PageRejected:
    with pytest.raises(PageRejected) as info:
        identify(page(img, dpi))
    assert info.value.message and info.value.message[0].isupper()
    return info.value


@pytest.mark.parametrize("dpi", [150, 300])
def test_blank_back_of_a_duplex_scan(dpi: int) -> None:
    img, _ = scan(paper(dpi), dpi, angle=1.5, border_mm=8, lid=20)
    img[:, img.shape[1] // 3] = 40                   # dust on the feeder glass: a streak down the page
    assert rejected(jpeg(speckle(img)), dpi).code == "blank"


def test_show_through_of_the_front_is_still_blank(pages: dict[int, list[Gray]]) -> None:
    front = pages[150][0].astype(np.float64)
    back = (243 - (255 - cv2.flip(front, 1)) * 0.15).astype(np.uint8)
    assert rejected(back, 150).code == "blank"


def test_a_short_handwritten_note_is_not_blank() -> None:
    img = paper(150)
    cv2.putText(img, "nie dotyczy", (mm_px(60, 150), mm_px(150, 150)), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 1.0, 30, 2)
    assert rejected(img, 150).code == "foreign"


@pytest.mark.parametrize("dpi", [150, 300])
def test_a_letter_is_foreign(dpi: int) -> None:
    assert rejected(letter(dpi), dpi).code == "foreign"


@pytest.mark.parametrize("base", ["letter", "blank"])
def test_someone_elses_qr_code_is_foreign(base: str) -> None:
    dpi = 200
    img = letter(dpi) if base == "letter" else paper(dpi)
    img = paste(img, qr(dpi, "https://bip.example.gov.pl/sprawa/2024/123"), mm_px(165, dpi), mm_px(12, dpi))
    assert rejected(img, dpi).code == "foreign"


def test_our_markers_with_a_foreign_code_are_foreign(pages: dict[int, list[Gray]]) -> None:
    r = standard_code_rect()
    img = paste(pages[150][0], qr(150, "ANK2/inny/1/1/-"), mm_px(r.x * 25.4 / 72, 150), mm_px(r.y * 25.4 / 72, 150))
    assert rejected(img, 150).code == "foreign"


@pytest.mark.parametrize("dpi", [150, 300])
def test_damaged_code_on_our_sheet_asks_for_a_rescan(pages: dict[int, list[Gray]], dpi: int) -> None:
    r = standard_code_rect()
    img = pages[dpi][0].copy()
    x0, y0, s = mm_px(r.x * 25.4 / 72, dpi), mm_px(r.y * 25.4 / 72, dpi), mm_px(r.w * 25.4 / 72, dpi)
    img[y0 + s // 3:y0 + 2 * s // 3, x0:x0 + s] = 255     # a strip of the code torn or whited out
    err = rejected(img, dpi)
    assert err.code == "unreadable-code"
    assert "200 DPI" in err.message
