"""The "Oceń Urząd" poster and banner: the printed QR code reads back as the survey address, the text is
extractable with Polish letters, nothing leaves the page, and the committed banner files are this code's output."""

from __future__ import annotations

import io
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from pipeline.base import config as C
from pipeline.base.errors import InvalidInput, NotFound
from pipeline.forms import poster
from pipeline.records.office import Office
from tests.conftest import LESKO

STATIC = Path(poster.__file__).parents[1] / "web" / "static"
URL = "https://ankieta.lesko.pl/ankieta/lesko-f1"
DPI = 150


def _raster(pdf: bytes, tmp: Path, dpi: int = DPI) -> np.ndarray:
    (tmp / "p.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(tmp / "p.pdf"), str(tmp / "p")], check=True)
    pages = sorted(tmp.glob("p-*.png"))
    assert len(pages) == 1, "the poster is one page"
    return np.asarray(Image.open(pages[0]).convert("L"))


def _text(pdf: bytes, tmp: Path) -> str:
    (tmp / "t.pdf").write_bytes(pdf)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(tmp / "t.pdf"), "-"], check=True, capture_output=True,
                          text=True).stdout


def _word_boxes(pdf: bytes, tmp: Path) -> list[tuple[float, float, float, float]]:
    (tmp / "b.pdf").write_bytes(pdf)
    html = subprocess.run(["pdftotext", "-bbox", str(tmp / "b.pdf"), "-"], check=True, capture_output=True, text=True).stdout
    return [tuple(float(v) for v in m) for m in   # type: ignore[misc]
            re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"', html)]


def test_poster_qr_code_reads_back_as_the_survey_url(tmp_path: Path) -> None:
    image = _raster(poster.poster_pdf(LESKO, URL), tmp_path)
    codes = list(zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)))
    assert [c.text for c in codes] == [URL]
    pos = codes[0].position
    side_mm = (pos.top_right.x - pos.top_left.x) / DPI * 25.4
    assert side_mm >= 40, f"the code itself (without its quiet zone) is {side_mm:.1f} mm"
    # the quiet zone: 4 modules of white paper around the finder patterns (zxing's corners are the code's edge)
    module_px = (pos.top_right.x - pos.top_left.x) / 29          # at least version 3 (29 modules) for this URL
    x0, y0 = int(pos.top_left.x - 3.5 * module_px), int(pos.top_left.y - 3.5 * module_px)
    assert image[y0:int(pos.top_left.y) - 2, x0:int(pos.top_right.x)].min() > 200


def test_poster_text_has_the_office_the_url_and_the_paper_option(tmp_path: Path) -> None:
    text = _text(poster.poster_pdf(LESKO, URL), tmp_path)
    flat = " ".join(text.split())
    assert "Oceń Urząd" in flat and "Urząd Miasta i Gminy Lesko" in flat and URL in flat
    assert "ul. Parkowa 1, 38-600 Lesko" in flat
    assert "anonimowa" in flat and "kilka minut" in flat
    assert "stanowiskach obsługi" in flat and "urny" in flat
    assert "satysfakcji klienta" in flat
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert not [line for line in lines if re.search(r"\s\w$", line)], "a one-letter word ends a line (Polish typesetting)"
    assert "satysfakcji interesanta" in " ".join(_text(poster.poster_pdf(replace(LESKO, respondent="interesant"), URL),
                                                        tmp_path).split())


def test_a_long_name_and_address_stay_on_the_page_and_the_code_still_reads(tmp_path: Path) -> None:
    office = Office(name="Urząd Miasta i Gminy Szczebrzeszyn-Zwierzyniec Wielki " * 3,
                    address="ul. Bardzo Długa Aleja Niepodległości 123/45, 22-460 Szczebrzeszyn")
    url = "https://ankiety-satysfakcji.urzad-miasta-i-gminy-szczebrzeszyn.gov.pl/serwis/ankieta/satysfakcja-5"
    pdf = poster.poster_pdf(office, url)
    frame = C.POSTER_MARGIN_MM / 2 / 25.4 * 72
    for x0, y0, x1, y1 in _word_boxes(pdf, tmp_path):
        assert frame < x0 and x1 < C.PAGE_WIDTH_PT - frame and frame < y0 and y1 < C.PAGE_HEIGHT_PT - frame
    flat = "".join(_text(pdf, tmp_path).split())
    assert url in flat, "the address broken over lines still reads as the whole address"
    assert "".join(office.name.split()) in flat, "a long name is set smaller, never cut"
    image = _raster(pdf, tmp_path)
    assert [c.text for c in zxingcpp.read_barcodes(image)] == [url]


def test_published_forms_put_the_first_published_first_with_the_newest_title() -> None:
    rows = [
        {"form": "lesko-f1", "version": 1, "title": "Ankieta F1", "published_at": "2026-03-02T10:00:00"},
        {"form": "lesko-f1", "version": 2, "title": "Ankieta F1 (nowa)", "published_at": "2026-09-01T10:00:00"},
        {"form": "satysfakcja-5", "version": 1, "title": "Satysfakcja", "published_at": "2026-01-05T10:00:00"},
    ]
    forms = poster.published_forms(rows)
    assert forms == [poster.PublishedForm("satysfakcja-5", "Satysfakcja"), poster.PublishedForm("lesko-f1", "Ankieta F1 (nowa)")]
    assert poster.choose_form(forms, None) == forms[0]
    assert poster.choose_form(forms, "lesko-f1") == forms[1]
    with pytest.raises(NotFound, match="satysfakcja-5, lesko-f1"):
        poster.choose_form(forms, "inna")
    assert poster.choose_form([], None) is None


def test_survey_url_and_snippet() -> None:
    assert poster.survey_url("https://ankieta.lesko.pl/", "lesko-f1") == URL
    assert poster.survey_url("http://10.0.0.5:8080", "a b") == "http://10.0.0.5:8080/ankieta/a%20b"
    with pytest.raises(InvalidInput, match="--public-url"):
        poster.survey_url("ankieta.lesko.pl", "lesko-f1")
    snippet = poster.banner_snippet(LESKO, "https://ankieta.lesko.pl", "lesko-f1")
    assert snippet == (f'<a href="{URL}"><img src="https://ankieta.lesko.pl/static/ocen-urzad.png" '
                       'alt="Oceń Urząd – wypełnij ankietę satysfakcji klienta" width="300" height="100"></a>')


def _luminance(colour: str) -> float:
    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_banner_text_contrast_and_fit() -> None:
    b = poster.banner()
    assert [t.text for t in b.texts] == ["Oceń Urząd", "Wypełnij ankietę"]
    for t in b.texts:
        assert _contrast(t.color, b.background) >= 4.5, t.text
        assert b.icon.right < t.x and t.x + t.length <= b.width - 8, f"{t.text} overflows the banner"
        assert t.baseline <= b.height - 8
    assert b.texts[0].size >= 24, "the title is the banner's largest, readable text"


def test_banner_png_is_the_drawing_and_the_committed_files_are_current() -> None:
    png = Image.open(io.BytesIO(poster.banner_png())).convert("RGB")
    assert png.size == (C.BANNER_WIDTH_PX * C.BANNER_PNG_SCALE, C.BANNER_HEIGHT_PX * C.BANNER_PNG_SCALE)
    pixels = np.asarray(png).reshape(-1, 3)
    colours = {tuple(int(v) for v in p) for p in pixels}
    assert {(0x0B, 0x4F, 0x9C), (0xFF, 0xFF, 0xFF), (0xFF, 0xDD, 0x00)} <= colours    # background, title, subtitle
    svg = poster.banner_svg()
    assert (STATIC / poster.BANNER_SVG).read_text("utf-8") == svg, "regenerate: ankieta banner -o pipeline/web/static"
    committed = np.asarray(Image.open(STATIC / poster.BANNER_PNG).convert("RGB"), dtype=np.int16)
    assert committed.shape == np.asarray(png).shape
    # Pillow/FreeType versions may differ in anti-aliasing by a level or two, never in the drawing
    assert np.abs(committed - np.asarray(png, dtype=np.int16)).mean() < 1.0, "regenerate: ankieta banner -o pipeline/web/static"
    assert 'textLength="' in svg and "sans-serif" in svg and "@import" not in svg and "url(" not in svg
