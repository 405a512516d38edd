"""ingest: scan files written the way scanners write them (and broken the way copies break them)."""

from __future__ import annotations

import hashlib
import io
import struct
import tracemalloc
import zlib
from pathlib import Path

import cv2
import numpy as np
import pikepdf
import pytest
from numpy.typing import NDArray
from pdf2image import convert_from_bytes
from PIL import Image

from pipeline.base import config as C
from pipeline.base.errors import InputDamaged
from pipeline.forms.render import compose, draw_pdf
from pipeline.reader.decode import check_complete, file_sha256, iter_pages, page_count, read_page
from pipeline.records.layout import load_layout, with_departments
from pipeline.records.office import Office
from pipeline.records.reading import RejectedPage, SourcePage

FP = "5eedf00d"     # a version fingerprint; these pages are read without a workspace, so any will do

LAYOUT = Path(__file__).resolve().parents[2] / "form_layouts" / "lesko-f1.yaml"
DPI = 150
Gray = NDArray[np.uint8]


@pytest.fixture(scope="module")
def form_pdf() -> bytes:
    layout = with_departments(load_layout(LAYOUT), [("fin", "Referat Finansowy")])
    return draw_pdf(compose(layout, Office(name="Urząd Gminy"), 1), "lesko-f1", 1, ["000001"], fingerprint=FP)


@pytest.fixture(scope="module")
def sheets(form_pdf: bytes) -> list[Gray]:
    """Both pages of a real form at 150 DPI, standing in for what a scanner sees."""
    return [np.asarray(p, dtype=np.uint8) for p in convert_from_bytes(form_pdf, dpi=DPI, grayscale=True)]


def read(path: Path) -> list[SourcePage | RejectedPage]:
    return list(iter_pages(path))


def only_pages(items: list[SourcePage | RejectedPage]) -> list[SourcePage]:
    assert all(isinstance(i, SourcePage) for i in items), items
    return [i for i in items if isinstance(i, SourcePage)]


def damaged(path: Path) -> InputDamaged:
    with pytest.raises(InputDamaged) as info:
        read(path)
    assert info.value.message and path.name in info.value.message
    return info.value


def jpeg_bytes(img: Gray, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def image_pdf(path: Path, images: list[bytes], size: tuple[int, int], page_pt: tuple[float, float] = (595.28, 841.89),
              rotate: int = 0, extra_content: bytes = b"", cover: float = 1.0) -> Path:
    """A scanner-style PDF: each page draws one embedded JPEG (DCTDecode) over the page."""
    pdf = pikepdf.new()
    for raw in images:
        img = pikepdf.Stream(pdf, raw, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=size[0], Height=size[1],
                             ColorSpace=pikepdf.Name.DeviceGray, BitsPerComponent=8, Filter=pikepdf.Name.DCTDecode)
        page = pdf.add_blank_page(page_size=page_pt)
        page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=img))
        w, h = page_pt[0] * cover, page_pt[1] * cover
        page.obj.Contents = pdf.make_stream(f"q {w:.2f} 0 0 {h:.2f} 0 0 cm /Im0 Do Q ".encode() + extra_content)
        if rotate:
            page.obj.Rotate = rotate
    pdf.save(path)
    return path


def close(a: Gray, b: Gray, tol: float = 6.0) -> bool:
    return a.shape == b.shape and float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16)))) < tol


# --- good files -----------------------------------------------------------------------------------------

def test_sha256_is_of_the_bytes(tmp_path: Path) -> None:
    data = bytes(range(256)) * 9000      # > 1 chunk
    path = tmp_path / "x.bin"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()


def test_pdf_of_embedded_jpegs_is_read_without_rendering(tmp_path: Path, sheets: list[Gray]) -> None:
    path = tmp_path / "skan.pdf"
    Image.fromarray(sheets[0]).save(path, save_all=True, append_images=[Image.fromarray(sheets[1])], resolution=DPI)
    pages = only_pages(read(path))
    assert [p.index for p in pages] == [0, 1]
    for page, sheet in zip(pages, sheets, strict=True):
        assert page.image.dtype == np.uint8 and page.image.ndim == 2
        assert close(page.image, sheet)              # the scan's own pixels, not a 300 DPI re-render
        assert page.dpi == pytest.approx(DPI, rel=0.01) and page.dpi_from_file
        assert page.file_name == "skan.pdf" and page.file_sha256 == file_sha256(path)
    assert check_complete(path) == 2


def test_bilevel_pdf_ccitt(tmp_path: Path, sheets: list[Gray]) -> None:
    path = tmp_path / "bw.pdf"
    bw = Image.fromarray(sheets[0]).convert("1")
    bw.save(path, resolution=DPI)
    (page,) = only_pages(read(path))
    assert set(np.unique(page.image).tolist()) == {0, 255}
    assert np.array_equal(page.image, np.asarray(bw.convert("L")))


def test_page_rotate_attribute_is_applied(tmp_path: Path, sheets: list[Gray]) -> None:
    h, w = sheets[0].shape
    path = image_pdf(tmp_path / "rot.pdf", [jpeg_bytes(sheets[0])], (w, h), rotate=180)
    (page,) = only_pages(read(path))
    assert close(page.image, sheets[0][::-1, ::-1])


def test_the_scanners_own_jpeg_is_kept_only_when_a_browser_shows_exactly_the_read_pixels(
        tmp_path: Path, sheets: list[Gray]) -> None:
    """SourcePage.original_jpeg (the review picture, byte for byte) for a plain scanner page; not for a page
    turned by /Rotate, a JPEG with an EXIF header (browsers obey its orientation), or one finer than
    REVIEW_ORIGINAL_MAX_DPI."""
    h, w = sheets[0].shape
    raw = jpeg_bytes(sheets[0])
    (plain,) = only_pages(read(image_pdf(tmp_path / "plain.pdf", [raw], (w, h))))
    assert plain.original_jpeg == raw
    decoded = np.asarray(cv2.imdecode(np.frombuffer(plain.original_jpeg, np.uint8), cv2.IMREAD_GRAYSCALE), dtype=np.uint8)
    assert np.array_equal(decoded, plain.image)          # what the browser shows is what was read
    (turned,) = only_pages(read(image_pdf(tmp_path / "rot.pdf", [raw], (w, h), rotate=180)))
    assert turned.original_jpeg == b""
    exif = Image.Exif()
    exif[0x0112] = 1                                      # orientation "normal": still refused, to be safe
    buf = io.BytesIO()
    Image.fromarray(sheets[0]).save(buf, "JPEG", quality=85, exif=exif.tobytes())
    (with_exif,) = only_pages(read(image_pdf(tmp_path / "exif.pdf", [buf.getvalue()], (w, h))))
    assert with_exif.original_jpeg == b"" and close(with_exif.image, sheets[0])
    # 450 DPI on an A4 page
    big = np.asarray(cv2.resize(sheets[0], (w * 3, h * 3), interpolation=cv2.INTER_LINEAR), dtype=np.uint8)
    (fine,) = only_pages(read(image_pdf(tmp_path / "fine.pdf", [jpeg_bytes(big)], (w * 3, h * 3))))
    assert fine.dpi > C.REVIEW_ORIGINAL_MAX_DPI and fine.original_jpeg == b""


def test_vector_pdf_is_rendered(tmp_path: Path, form_pdf: bytes) -> None:
    path = tmp_path / "formularz.pdf"
    path.write_bytes(form_pdf)
    pages = only_pages(read(path))
    assert len(pages) == 2
    expected = (C.PAGE_HEIGHT_PT / 72 * C.PDF_RENDER_DPI, C.PAGE_WIDTH_PT / 72 * C.PDF_RENDER_DPI)
    assert all(abs(got - want) <= 1 for got, want in zip(pages[0].image.shape, expected, strict=True))
    assert pages[0].dpi == C.PDF_RENDER_DPI
    assert pages[0].image.min() == 0 and pages[0].image.max() == 255


def test_multipage_group4_tiff(tmp_path: Path, sheets: list[Gray]) -> None:
    path = tmp_path / "skan.tif"
    frames = [Image.fromarray(s).convert("1") for s in (sheets[0], sheets[1], sheets[0])]
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="group4", dpi=(DPI, DPI))
    pages = only_pages(read(path))
    assert [p.index for p in pages] == [0, 1, 2]
    for page, frame in zip(pages, frames, strict=True):
        assert set(np.unique(page.image).tolist()) == {0, 255}
        assert np.array_equal(page.image, np.asarray(frame.convert("L")))
        assert page.dpi == pytest.approx(DPI) and page.dpi_from_file
    assert check_complete(path) == 3


def test_colour_png_becomes_grey_with_its_dpi(tmp_path: Path, sheets: list[Gray]) -> None:
    path = tmp_path / "skan.png"
    rgb = np.stack([sheets[0]] * 3, axis=-1)
    Image.fromarray(rgb).save(path, dpi=(DPI, DPI))
    (page,) = only_pages(read(path))
    assert np.array_equal(page.image, sheets[0])
    assert page.dpi == pytest.approx(DPI, rel=0.001) and page.dpi_from_file


def test_16_bit_png_keeps_its_tones(tmp_path: Path, sheets: list[Gray]) -> None:
    path = tmp_path / "skan16.png"
    Image.fromarray(sheets[0].astype(np.uint16) * 257).save(path)
    (page,) = only_pages(read(path))
    assert np.array_equal(page.image, sheets[0])


@pytest.mark.parametrize("stated", [None, 72, 96])
def test_jpeg_without_a_believable_dpi_gets_an_a4_estimate(tmp_path: Path, sheets: list[Gray], stated: int | None) -> None:
    path = tmp_path / "skan.jpg"
    im = Image.fromarray(sheets[0])
    if stated is None:
        im.save(path, quality=85)
    else:
        im.save(path, quality=85, dpi=(stated, stated))      # writer defaults that describe no real paper
    (page,) = only_pages(read(path))
    assert not page.dpi_from_file
    assert page.dpi == pytest.approx(sheets[0].shape[1] / C.ASSUMED_PAGE_WIDTH_IN)
    assert page.dpi == pytest.approx(DPI, rel=0.01)


def test_type_comes_from_the_content_not_the_name(tmp_path: Path, sheets: list[Gray]) -> None:
    path = tmp_path / "skan.pdf"
    path.write_bytes(jpeg_bytes(sheets[0]))
    (page,) = only_pages(read(path))
    assert close(page.image, sheets[0])


# --- broken files ---------------------------------------------------------------------------------------

def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "pusty.pdf"
    path.write_bytes(b"")
    assert damaged(path).code == "empty"


def test_text_file_named_pdf(tmp_path: Path) -> None:
    path = tmp_path / "notatka.pdf"
    path.write_text("To nie jest skan, tylko notatka.\n" * 20, encoding="utf-8")
    assert damaged(path).code == "not-a-scan"
    with pytest.raises(InputDamaged):
        check_complete(path)


def test_password_protected_pdf(tmp_path: Path, sheets: list[Gray]) -> None:
    plain = tmp_path / "plain.pdf"
    Image.fromarray(sheets[0]).save(plain, resolution=DPI)
    path = tmp_path / "zaszyfrowany.pdf"
    with pikepdf.open(plain) as pdf:
        pdf.save(path, encryption=pikepdf.Encryption(owner="wlasciciel", user="tajne"))
    assert damaged(path).code == "encrypted"


@pytest.mark.parametrize("fraction", [0.3, 0.7, 0.97])
def test_pdf_cut_short_while_copying(tmp_path: Path, sheets: list[Gray], fraction: float) -> None:
    whole = tmp_path / "whole.pdf"
    Image.fromarray(sheets[0]).save(whole, save_all=True, append_images=[Image.fromarray(sheets[1])], resolution=DPI)
    data = whole.read_bytes()
    path = tmp_path / "ucięty.pdf"
    path.write_bytes(data[:int(len(data) * fraction)])
    assert damaged(path).code == "truncated"
    with pytest.raises(InputDamaged) as info:
        check_complete(path)
    assert info.value.code == "truncated"


def test_truncated_jpeg_inside_page_2_of_3(tmp_path: Path, sheets: list[Gray]) -> None:
    h, w = sheets[0].shape
    good = jpeg_bytes(sheets[0])
    bad = jpeg_bytes(sheets[1])
    path = image_pdf(tmp_path / "stos.pdf", [good, bad[:len(bad) // 2], good], (w, h))
    items = read(path)
    assert [type(i).__name__ for i in items] == ["SourcePage", "RejectedPage", "SourcePage"]
    first, broken, third = items
    assert isinstance(first, SourcePage) and isinstance(third, SourcePage) and isinstance(broken, RejectedPage)
    assert (first.index, broken.index, third.index) == (0, 1, 2)
    assert close(first.image, sheets[0]) and close(third.image, sheets[0])
    assert broken.reason == "damaged" and "Strona 2" in broken.message
    with pytest.raises(InputDamaged) as info:
        check_complete(path)
    assert info.value.code == "truncated"


def test_truncated_jpeg_on_a_page_that_must_be_rendered(tmp_path: Path, sheets: list[Gray]) -> None:
    """A page with a drawing over its photo is rendered; poppler would paint the cut JPEG white, silently."""
    h, w = sheets[0].shape
    bad = jpeg_bytes(sheets[0])
    path = image_pdf(tmp_path / "rys.pdf", [bad[: len(bad) * 2 // 3]], (w, h), extra_content=b"0 0 m 100 100 l S", cover=0.8)
    assert damaged(path).code == "truncated"


def test_tiff_with_a_later_page_cut_off(tmp_path: Path, sheets: list[Gray]) -> None:
    whole = tmp_path / "whole.tif"
    frames = [Image.fromarray(s) for s in (sheets[0], sheets[1], sheets[0])]
    frames[0].save(whole, save_all=True, append_images=frames[1:], compression="tiff_lzw", dpi=(DPI, DPI))
    data = whole.read_bytes()
    path = tmp_path / "ucięty.tif"
    path.write_bytes(data[:int(len(data) * 0.85)])
    items = read(path)
    assert [type(i).__name__ for i in items[:2]] == ["SourcePage", "SourcePage"]
    assert len(items) == 3 and isinstance(items[2], RejectedPage) and items[2].reason == "damaged"
    assert all(isinstance(i, SourcePage) and close(i.image, s) for i, s in zip(items[:2], sheets, strict=True))
    with pytest.raises(InputDamaged) as info:
        check_complete(path)
    assert info.value.code == "truncated"


def test_truncated_single_jpeg(tmp_path: Path, sheets: list[Gray]) -> None:
    data = jpeg_bytes(sheets[0])
    path = tmp_path / "ucięty.jpg"
    path.write_bytes(data[: len(data) * 3 // 4])
    assert damaged(path).code == "truncated"


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [13_000, 60_000])
def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path, side: int) -> None:
    path = tmp_path / "bomba.png"
    path.write_bytes(_png_header_only(side, side))
    assert side * side > C.MAX_IMAGE_PIXELS
    tracemalloc.start()
    try:
        assert damaged(path).code == "too-large"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000       # the pixels (≥169 MB) were never allocated


def test_garbage_after_a_valid_header(tmp_path: Path) -> None:
    path = tmp_path / "śmieci.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    assert damaged(path).code in ("unreadable", "truncated")


# --- one page at a time (the batch hands single pages to worker processes) ----------------------------

def test_page_count_and_read_page_agree_with_iter_pages(tmp_path: Path, sheets: list[Gray]) -> None:
    h, w = sheets[0].shape
    path = image_pdf(tmp_path / "stos.pdf", [jpeg_bytes(sheets[0]), jpeg_bytes(sheets[1])[:9000], jpeg_bytes(sheets[1])], (w, h))
    sha = file_sha256(path)
    everything = read(path)
    assert page_count(path) == len(everything) == 3
    for index, expected in enumerate(everything):
        got = read_page(path, index, sha)
        assert type(got) is type(expected) and got.index == index and got.file_sha256 == sha
        if isinstance(got, SourcePage) and isinstance(expected, SourcePage):
            assert np.array_equal(got.image, expected.image)
    with pytest.raises(IndexError):
        read_page(path, 3, sha)


def test_page_count_of_a_cut_tiff_includes_the_missing_rest(tmp_path: Path, sheets: list[Gray]) -> None:
    whole = tmp_path / "whole.tif"
    frames = [Image.fromarray(s) for s in (sheets[0], sheets[1], sheets[0])]
    frames[0].save(whole, save_all=True, append_images=frames[1:], compression="tiff_lzw", dpi=(DPI, DPI))
    path = tmp_path / "ucięty.tif"
    path.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.85)])
    assert page_count(path) == 3
    rest = read_page(path, 2, file_sha256(path))
    assert isinstance(rest, RejectedPage) and rest.reason == "damaged" and "Od strony 3" in rest.message
    assert isinstance(read_page(path, 1, file_sha256(path)), SourcePage)


def test_a_damaged_single_page_is_a_rejected_page_when_asked_for_alone(tmp_path: Path, sheets: list[Gray]) -> None:
    data = jpeg_bytes(sheets[0])
    path = tmp_path / "ucięty.jpg"
    path.write_bytes(data[: len(data) * 3 // 4])
    with pytest.raises(InputDamaged) as info:
        page_count(path)              # a lone JPEG is decoded here: a cut copy must not be counted as fine
    assert info.value.code == "truncated"
    page = read_page(path, 0, file_sha256(path))
    assert isinstance(page, RejectedPage) and page.reason == "damaged"
