"""PDF reader of the ingest stage: a page that is one embedded scan image is decoded from that image (JPEG
straight to grey through libjpeg, CCITT and others through pikepdf and Pillow, all strict); any other page is
rendered with poppler at config.PDF_RENDER_DPI after its embedded images have been strictly decoded, because
poppler fills a broken image with white, which reads as "nothing ticked".
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np
import pikepdf
from numpy.typing import NDArray
from pdf2image import convert_from_path
from pdf2image.exceptions import PDFPageCountError, PDFPopplerTimeoutError, PDFSyntaxError
from PIL import Image, ImageFile

from pipeline.base import config as C
from pipeline.reader.decode.raster import (
    PT_PER_IN,
    RENDER_TIMEOUT_S,
    Decoded,
    Gray,
    Outcome,
    PageDamage,
    check_size,
    classify,
    damage_detail,
    damaged,
    file_dpi,
    picked,
    strict_load,
    to_gray,
)

# --- PDF -----------------------------------------------------------------------------------------------

def open_pdf(path: Path) -> pikepdf.Pdf:
    name = path.name
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - C.FILE_TAIL_SCAN_BYTES))
        tail = fh.read()
    # a PDF being copied has no end-of-file marker yet; qpdf would "repair" it and hand over half the pages
    if b"%%EOF" not in tail:
        raise damaged(name, "truncated")
    try:
        pdf = pikepdf.open(path)
    except pikepdf.PasswordError as exc:
        raise damaged(name, "encrypted") from exc
    except (pikepdf.PdfError, OSError, ValueError, RuntimeError) as exc:
        raise damaged(name, "unreadable", "struktura PDF jest uszkodzona") from exc
    return pdf


def _num(v: Any) -> float:
    return float(v) if isinstance(v, int | float | Decimal) else float(str(v))


@dataclass(frozen=True)
class _ScanImage:
    """A page that is nothing but one image drawn over (almost) the whole page."""

    stream: pikepdf.Stream
    width_pt: float
    height_pt: float
    rotate: int        # the page's /Rotate, degrees clockwise


_PAINT_OPS = {"S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "sh", "BI", "ID", "EI"}


def _xobjects(owner: pikepdf.Object) -> dict[str, pikepdf.Object]:
    """The XObjects in a page's (or form's) own resources, by name."""
    resources = owner.get("/Resources")
    xobjects = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
    return {str(k): v for k, v in xobjects.items()} if isinstance(xobjects, pikepdf.Dictionary) else {}


def _is_image(obj: pikepdf.Object) -> bool:
    return isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == pikepdf.Name.Image


def _page_box(page: pikepdf.Page) -> tuple[float, float]:
    box = [_num(v) for v in page.mediabox]
    return abs(box[2] - box[0]), abs(box[3] - box[1])


def _scan_image(page: pikepdf.Page) -> _ScanImage | None:
    """The page's single scan image if the page is exactly that (scanner output), else None (render it)."""
    xobjects = _xobjects(page.obj)
    if len(xobjects) != 1:
        return None
    key, stream = next(iter(xobjects.items()))
    if not isinstance(stream, pikepdf.Stream) or not _is_image(stream) or "/SMask" in stream or "/Mask" in stream:
        return None
    ctm = np.eye(3)
    stack: list[NDArray[np.float64]] = []
    drawn: NDArray[np.float64] | None = None
    for instruction in pikepdf.parse_content_stream(page):
        if isinstance(instruction, pikepdf.ContentStreamInlineImage):
            return None     # an inline image drawn on the page: only a render shows it
        operands, op = instruction.operands, str(instruction.operator)
        if op == "q":
            stack.append(ctm.copy())
        elif op == "Q" and stack:
            ctm = stack.pop()
        elif op == "cm":
            a, b, c, d, e, f = (_num(v) for v in operands)
            ctm = np.array([[a, b, 0.0], [c, d, 0.0], [e, f, 1.0]]) @ ctm
        elif op == "Do":
            if drawn is not None or str(operands[0]) != key:
                return None
            drawn = ctm.copy()
        elif op in _PAINT_OPS:
            return None     # vector drawing on top of the image: only a render shows the page as printed
    if drawn is None:
        return None
    a, b, c, d = drawn[0, 0], drawn[0, 1], drawn[1, 0], drawn[1, 1]
    # only an upright, unmirrored placement can be taken pixel for pixel; anything else is rendered
    if a <= 0 or d <= 0 or abs(b) > 1e-6 * a or abs(c) > 1e-6 * d:
        return None
    page_w, page_h = _page_box(page)
    if a < C.PDF_IMAGE_COVER_RATIO * page_w or d < C.PDF_IMAGE_COVER_RATIO * page_h:
        return None
    rotate = int(_num(page.obj.get("/Rotate", 0))) % 360
    return _ScanImage(stream, a, d, rotate)


def _fast_jpeg(raw: bytes, im: Image.Image) -> Gray | None:
    """libjpeg (through OpenCV) straight into a numpy array, grey while decoding. Pillow decodes as fast but
    then copies the pixels into numpy in 64 KiB chunks, which cost ~10 ms a 300 DPI page. Used only for a
    stream that is plainly complete (ends with the EOI marker) and whose header Pillow has already checked;
    anything else takes Pillow's strict path, which reports truncation precisely."""
    if im.mode not in ("L", "RGB", "YCbCr") or not raw.rstrip(b"\0\t\n\r ").endswith(b"\xff\xd9"):
        return None
    arr = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_GRAYSCALE)
    if arr is None or arr.shape != (im.size[1], im.size[0]):
        return None
    return cast(Gray, arr)


def _strict_jpeg(raw: bytes) -> Image.Image | Gray:
    try:
        # not a `with` block: closing would free the pixels and force a copy (~6 ms a page); the in-memory
        # buffer needs no closing
        im = Image.open(io.BytesIO(raw))
        # /Width and /Height were checked up front, but the JPEG inside may claim more than its dictionary
        if im.format != "JPEG" or im.size[0] * im.size[1] > C.MAX_IMAGE_PIXELS:
            raise PageDamage("unreadable", "obraz JPEG jest uszkodzony")
        fast = _fast_jpeg(raw, im)
        if fast is not None:
            return fast
        if im.mode in ("RGB", "YCbCr", "CMYK"):
            im.draft("L", im.size)   # libjpeg converts to grey while decoding: no colour pass, same pixels size
        return strict_load(im)
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        code = classify(exc)
        raise PageDamage(code, "obraz JPEG jest " + ("ucięty" if code == "truncated" else "uszkodzony")) from exc


def _decode_image_stream(stream: pikepdf.Stream) -> Image.Image | Gray | None:
    """Strictly decoded embedded image; None when it is better left to the renderer (after checking it)."""
    try:
        pdf_image = pikepdf.PdfImage(stream)
        filters = [str(f) for f in pdf_image.filters]
    except (pikepdf.PdfError, ValueError, NotImplementedError) as exc:
        raise PageDamage("unreadable", "nieprawidłowy opis obrazu") from exc
    if filters == ["/DCTDecode"]:
        im = _strict_jpeg(stream.read_raw_bytes())
        colorspace = str(stream.get("/ColorSpace", ""))
        if "/Decode" in stream or colorspace not in ("/DeviceGray", "/DeviceRGB", "/CalGray", "/CalRGB", ""):
            return None    # inverted or CMYK JPEGs: leave the colour maths to the renderer
        return im
    try:
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        return pdf_image.as_pil_image()
    except (pikepdf.UnsupportedImageTypeError, NotImplementedError, pikepdf.DependencyError):
        _raw_check(stream)
        return None
    except (pikepdf.PdfError, pikepdf.DataDecodingError, OSError, ValueError, EOFError, TypeError) as exc:
        code = classify(exc)
        raise PageDamage(code, damage_detail(code)) from exc


def _browser_jpeg(raw: bytes) -> bytes:
    """`raw` (a JPEG stream the fast path decoded: grey or RGB, complete) if a browser would show it exactly as
    we read it: not when it carries an EXIF header, whose orientation tag browsers obey and PDF readers
    ignore."""
    return b"" if b"Exif\0\0" in raw[:C.REVIEW_ORIGINAL_HEADER_BYTES] else raw


def _raw_check(stream: pikepdf.Stream) -> None:
    """Decode what qpdf can decode (Flate, LZW, ...): a broken stream raises here."""
    try:
        stream.read_bytes()
    except (pikepdf.PdfError, pikepdf.DataDecodingError, RuntimeError) as exc:
        raise PageDamage("unreadable", "dane obrazu są uszkodzone") from exc


def _verify_images(owner: pikepdf.Object, seen: set[tuple[int, int]]) -> None:
    """Strictly decode every image a rendered page uses (poppler fills broken ones with white, silently)."""
    for xobj in _xobjects(owner).values():
        if xobj.objgen in seen:
            continue
        seen.add(xobj.objgen)
        if isinstance(xobj, pikepdf.Stream) and _is_image(xobj):
            _decode_image_stream(xobj)
        elif xobj.get("/Subtype") == pikepdf.Name.Form:
            _verify_images(xobj, seen)


def _render(path: Path, index: int) -> Gray:
    try:
        images = convert_from_path(path, dpi=C.PDF_RENDER_DPI, grayscale=True, first_page=index + 1,
                                   last_page=index + 1, timeout=RENDER_TIMEOUT_S)
    except (PDFPageCountError, PDFSyntaxError, PDFPopplerTimeoutError, OSError, ValueError) as exc:
        raise PageDamage("unreadable", "strony nie da się wyrysować") from exc
    if len(images) != 1:
        raise PageDamage("unreadable", "strony nie da się wyrysować")
    return to_gray(images[0])


def _pdf_page(path: Path, page: pikepdf.Page, scan: _ScanImage | None, index: int) -> Decoded:
    if scan is not None:
        im = _decode_image_stream(scan.stream)
        if im is not None:
            gray = to_gray(im)
            turns = (scan.rotate // 90) % 4
            if turns:
                gray = np.ascontiguousarray(np.rot90(gray, k=-turns))   # /Rotate is clockwise on display
            w_pt, h_pt = (scan.height_pt, scan.width_pt) if turns % 2 else (scan.width_pt, scan.height_pt)
            dpi_x, dpi_y = gray.shape[1] / (w_pt / PT_PER_IN), gray.shape[0] / (h_pt / PT_PER_IN)
            dpi, from_file = file_dpi({"dpi": (dpi_x, dpi_y)}, gray.shape[1])
            original = b""
            if not turns and isinstance(im, np.ndarray) and dpi <= C.REVIEW_ORIGINAL_MAX_DPI:
                original = _browser_jpeg(scan.stream.read_raw_bytes())
            return Decoded(gray, dpi, from_file, original)
    _verify_images(page.obj, set())
    return Decoded(_render(path, index), float(C.PDF_RENDER_DPI), True)


def _pdf_pixels(page: pikepdf.Page, scan: _ScanImage | None) -> list[tuple[int, int]]:
    """Pixel sizes this page will decode to: its images, and the render of its page box if it is rendered."""
    images = [x for x in _xobjects(page.obj).values() if _is_image(x)]
    sizes = [(int(_num(x.get("/Width", 0))), int(_num(x.get("/Height", 0)))) for x in images]
    if scan is None:
        w_pt, h_pt = _page_box(page)
        sizes.append((round(w_pt * C.PDF_RENDER_DPI / PT_PER_IN), round(h_pt * C.PDF_RENDER_DPI / PT_PER_IN)))
    return sizes


def pdf_survey(name: str, pdf: pikepdf.Pdf) -> tuple[list[pikepdf.Page], list[_ScanImage | None]]:
    """The pages, which of them are single scan images, and every page's pixel count checked up front."""
    try:
        pages = list(pdf.pages)
        scans = [_scan_image(page) for page in pages]
        for page, scan in zip(pages, scans, strict=True):
            for w, h in _pdf_pixels(page, scan):
                check_size(name, w, h)
    except (pikepdf.PdfError, RuntimeError, ValueError, TypeError, KeyError, NotImplementedError) as exc:
        raise damaged(name, "unreadable", "struktura PDF jest uszkodzona") from exc
    if not pages:
        raise damaged(name, "unreadable", "PDF nie zawiera żadnej strony")
    return pages, scans


def pdf_pages(path: Path, pick: int | None) -> Iterator[int | Outcome]:
    with open_pdf(path) as pdf:
        if pick is None:
            pages, scans = pdf_survey(path.name, pdf)
        else:
            # One page for a worker: page_count() already surveyed the whole file, so only the picked page is
            # analysed here; surveying all of them per page made a 1,000-page PDF quadratic.
            pages = list(pdf.pages)
            if not 0 <= pick < len(pages):
                raise IndexError(pick)
            try:
                one = _scan_image(pages[pick])
                for w, h in _pdf_pixels(pages[pick], one):
                    check_size(path.name, w, h)
            except (pikepdf.PdfError, RuntimeError, ValueError, TypeError, KeyError, NotImplementedError) as exc:
                raise damaged(path.name, "unreadable", "struktura PDF jest uszkodzona") from exc
            scans = [None] * len(pages)
            scans[pick] = one
        yield len(pages)
        for index in picked(len(pages), pick):
            try:
                yield index, _pdf_page(path, pages[index], scans[index], index)
            except PageDamage as exc:
                yield index, exc
            except (pikepdf.PdfError, RuntimeError, ValueError, TypeError, KeyError, OSError):
                yield index, PageDamage("unreadable", "treść strony jest uszkodzona")


