"""The printable PDF: Polish text, boxes exactly where the frozen geometry says, markers and page codes
readable at 150 DPI, unique serials."""

from __future__ import annotations

import subprocess

import cv2
import numpy as np
import pytest
import zxingcpp
from pdf2image import convert_from_bytes

from pipeline.forms.render import compose, draw_pdf
from pipeline.records.page_code import parse_page_code
from pipeline.runs.workspace import Workspace, form_pdf, init_workspace, publish_form

FP = "5eedf00d"     # a version fingerprint; these pages are read without a workspace, so any will do


@pytest.fixture(scope="module")
def f1_pdf(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, Workspace]:
    from tests.conftest import LESKO

    ws = init_workspace(tmp_path_factory.mktemp("render") / "ws", LESKO)
    pdf, _, _ = form_pdf(ws, "lesko-f1")
    return pdf, ws


def test_polish_text_extracts_back(f1_pdf: tuple[bytes, Workspace]) -> None:
    pdf, _ = f1_pdf
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    for phrase in ("Płeć", "mężczyzna", "Jak często załatwia Pani/Pan sprawy w Urzędzie Miasta i Gminy Lesko",
                   "Referat Gospodarki Przestrzennej", "innej sprawy – proszę podać jakiej", "uprzejmość i życzliwość",
                   "zostałem skierowany do niewłaściwej osoby", "DZIĘKUJEMY ZA WYPEŁNIENIE ANKIETY",
                   "Zamaluj całą błędną kratkę", "Urząd Miasta i Gminy Lesko"):
        assert phrase in text, phrase


def test_f1_fits_one_sheet_two_sides(f1_pdf: tuple[bytes, Workspace]) -> None:
    pdf, ws = f1_pdf
    version = publish_form(ws, "lesko-f1")
    assert len(version.geometry.pages) == 2
    assert len(convert_from_bytes(pdf, dpi=20)) == 2


def _outline_darkness(gray: np.ndarray, x: float, y: float, w: float, h: float, dpi: float) -> float:
    """Share of dark pixels along the four edges of a rect given in points."""
    s = dpi / 72.0
    x0, y0, x1, y1 = (round(v * s) for v in (x, y, x + w, y + h))
    edges = np.concatenate([gray[y0, x0:x1 + 1], gray[y1, x0:x1 + 1], gray[y0:y1 + 1, x0], gray[y0:y1 + 1, x1]])
    return float(np.mean(edges < 128))


def test_every_box_sits_on_its_printed_outline(f1_pdf: tuple[bytes, Workspace]) -> None:
    pdf, ws = f1_pdf
    geometry = publish_form(ws, "lesko-f1").geometry
    images = convert_from_bytes(pdf, dpi=200, grayscale=True)
    for page, img in zip(geometry.pages, images, strict=True):
        gray = np.asarray(img)
        for b in page.boxes:
            on = _outline_darkness(gray, b.rect.x, b.rect.y, b.rect.w, b.rect.h, 200)
            assert on > 0.9, (b.id, on)
            # 1.5 pt outside the outline is paper: the geometry is not merely near a box, it is on it
            off = _outline_darkness(gray, b.rect.x - 2, b.rect.y - 2, b.rect.w + 4, b.rect.h + 4, 200)
            assert off < 0.1, (b.id, off)


def _read_page(gray: np.ndarray) -> tuple[set[int], str]:
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    _, ids, _ = cv2.aruco.ArucoDetector(dictionary, cv2.aruco.DetectorParameters()).detectMarkers(gray)
    codes = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
    return ({int(i) for i in ids.flatten()} if ids is not None else set()), (codes[0].text if codes else "")


def test_markers_and_page_codes_read_at_150_dpi(workspace: Workspace) -> None:
    pdf, version, serials = form_pdf(workspace, "satysfakcja-5", copies=2)
    pages = [np.asarray(p) for p in convert_from_bytes(pdf, dpi=150, grayscale=True)]
    n = len(version.geometry.pages)
    assert n >= 2 and len(pages) == 2 * n
    seen = []
    for i, gray in enumerate(pages):
        markers, code = _read_page(gray)
        assert markers == {0, 1, 2, 3}
        ident = parse_page_code(code)
        assert ident is not None, code
        expected = ("satysfakcja-5", version.version, i % n + 1, serials[i // n])
        assert (ident.form, ident.version, ident.page, ident.serial) == expected
        seen.append(ident.serial)
    assert seen == [serials[0]] * n + [serials[1]] * n


def test_master_has_no_serial(f1_pdf: tuple[bytes, Workspace]) -> None:
    pdf, _ = f1_pdf
    gray = np.asarray(convert_from_bytes(pdf, dpi=150, grayscale=True, first_page=1, last_page=1)[0])
    ident = parse_page_code(_read_page(gray)[1])
    assert ident is not None and ident.serial is None


def test_serials_unique_across_print_runs(workspace: Workspace) -> None:
    _, _, first = form_pdf(workspace, "lesko-f1", copies=3)
    _, _, second = form_pdf(workspace, "lesko-f1", copies=4)
    assert len(set(first + second)) == 7
    text = subprocess.run(["pdftotext", "-", "-"], input=form_pdf(workspace, "lesko-f1", copies=1)[0],
                          capture_output=True, check=True).stdout.decode()
    assert "Nr arkusza: 000008" in text       # the serial is printed in text too


def test_geometry_does_not_depend_on_copies_or_version() -> None:
    from pipeline.records.layout import load_layout, with_departments
    from tests.conftest import LESKO, ROOT

    lay = with_departments(load_layout(ROOT / "form_layouts" / "lesko-f1.yaml"), [(d.id, d.name) for d in LESKO.departments])
    a, b = compose(lay, LESKO, 1), compose(lay, LESKO, 7)
    assert a.pages == b.pages
    assert draw_pdf(a, "lesko-f1", 1, [None], fingerprint=FP)[:4] == b"%PDF"
