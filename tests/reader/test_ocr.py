"""OCR drafts with the real tesseract: Polish text typeset in DejaVu Sans on printed guide lines."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import cv2
import numpy as np
import pdf2image
import pytesseract
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.forms.render import compose, draw_pdf
from pipeline.reader.detect import read_text_areas
from pipeline.reader.ocr import draft_text, tesseract_available
from pipeline.records.layout import load_layout, with_departments
from pipeline.records.office import Office
from pipeline.records.reading import Registration

FP = "5eedf00d"     # a version fingerprint; these pages are read without a workspace, so any will do

ROOT = Path(__file__).resolve().parents[2]
FONT = ROOT / "pipeline/base/fonts/DejaVuSans.ttf"
DIACRITICS = set("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")

pytestmark = pytest.mark.skipif(shutil.which(pytesseract.pytesseract.tesseract_cmd) is None,
                                reason="tesseract binary not installed (Debian: tesseract-ocr tesseract-ocr-pol)")


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def crop_png(lines: list[str], dpi: int = 200, n_guides: int | None = None, noise: float = 4.0,
             size_pt: float = 13.0, width_mm: float = 120.0) -> bytes:
    """What read_text_areas keeps: grey paper, 0.55-grey guide lines every 8 mm, 2 mm margin, text on the lines."""
    k = dpi / 25.4
    n = n_guides if n_guides is not None else max(len(lines), 1)
    w, h = round((width_mm + 4) * k), round((n * 8 + 4) * k)
    im = Image.new("L", (w, h), 238)
    draw = ImageDraw.Draw(im)
    font = ImageFont.truetype(str(FONT), round(size_pt / 72 * dpi))
    for i in range(n):
        y = round((2 + (i + 1) * 8) * k)
        draw.line([(round(2 * k), y), (w - round(2 * k), y)], fill=140, width=max(round(0.18 * k), 1))
        if i < len(lines):
            draw.text((round(6 * k), y - round(1.2 * k)), lines[i], font=font, fill=35, anchor="ls")
    pixels = np.asarray(im, dtype=np.float32) + np.random.default_rng(0).normal(0, noise, (h, w))
    buf = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def test_tesseract_with_polish_data_is_available() -> None:
    assert tesseract_available()


@pytest.mark.parametrize(("text", "dpi"), [("Zażółć gęślą jaźń", 200), ("Długi czas oczekiwania", 150)])
def test_one_line_keeps_polish_letters(text: str, dpi: int) -> None:
    got, conf = draft_text(crop_png([text], dpi))
    assert edit_distance(got, text) <= 2, got
    assert len(DIACRITICS & set(got)) >= len(DIACRITICS & set(text)) - 1, got
    assert "_" not in got and "—" not in got            # the guide line was not read as text
    assert 0.5 < conf <= 1.0


def test_several_lines() -> None:
    lines = ["Długi czas oczekiwania", "na wydanie zaświadczenia"]
    got, conf = draft_text(crop_png(lines, 200))
    assert len(got.splitlines()) == 2
    assert edit_distance(got, "\n".join(lines)) <= 3, got
    assert conf > 0.5


def test_nothing_to_read_gives_empty_draft() -> None:
    assert draft_text(b"") == ("", 0.0)
    assert draft_text(b"not a png") == ("", 0.0)
    assert draft_text(crop_png([], 200, n_guides=2)) == ("", 0.0)     # only guide lines and paper noise


def test_draft_from_a_crop_kept_by_read_text_areas() -> None:
    """End to end: text written into the F1 form's "inne – jakie?" field, scanned skewed at 300 DPI."""
    lay = with_departments(load_layout(ROOT / "form_layouts/lesko-f1.yaml"),
                           [("fin", "Referat Finansowy"), ("org", "Referat Organizacyjny")])
    comp = compose(lay, Office(name="Urząd"), 1)
    page = comp.pages[0]
    dpi = 300
    img = pdf2image.convert_from_bytes(draw_pdf(comp, "lesko-f1", 1, [None], fingerprint=FP), dpi=dpi, grayscale=True,
                                       first_page=1, last_page=1)[0]
    area = next(a for a in page.text_areas if a.id == "q5.inna.text")
    s, k = dpi / 72, dpi / 25.4
    ImageDraw.Draw(img).text((area.rect.x * s + 6 * k, area.rect.bottom * s - 1.2 * k), "Skarga na sąsiada",
                             font=ImageFont.truetype(str(FONT), round(13 / 72 * dpi)), fill=30, anchor="ls")
    pixels = np.asarray(img)
    rot = cv2.getRotationMatrix2D((pixels.shape[1] / 2, pixels.shape[0] / 2), 0.8, 1.0)
    pixels = cv2.warpAffine(pixels, rot, (pixels.shape[1], pixels.shape[0]), borderValue=255)
    matrix = np.vstack([rot, [0, 0, 1]]) @ np.diag([s, s, 1.0])
    reg = Registration(tuple(tuple(float(v) for v in row) for row in matrix), 0.1, 4, False, s)
    reading = {t.area_id: t for t in read_text_areas(pixels, reg, page)}["q5.inna.text"]
    assert reading.has_ink
    got, conf = draft_text(reading.crop_png)
    assert edit_distance(got, "Skarga na sąsiada") <= 2, got
    assert "ą" in got and conf > 0.5
