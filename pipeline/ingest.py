"""Stage: decode scan files (PDF, TIFF, JPEG, PNG) into 8-bit greyscale pages, one page at a time.

The file type is decided by its first bytes, never by its extension. Decoding is strict on purpose: OpenCV and
the PDF renderers fill a truncated JPEG with grey or white without an error, and white reads as "nothing
ticked" (NOTES.md), so every image goes through Pillow with LOAD_TRUNCATED_IMAGES off and an explicit
load(). A PDF page that is one embedded scan image is decoded from that image (15 ms instead of ~150 ms of
rendering, and no resampling); any other PDF page is rendered at config.PDF_RENDER_DPI after its embedded
images have been checked the same strict way.

Whole-file problems raise errors.InputDamaged with a stable code ("empty", "not-a-scan", "encrypted",
"unreadable", "too-large", "truncated") before the first page is produced. Damage confined to one page of a
readable multi-page file becomes a RejectedPage(reason="damaged") and reading goes on with the next page.

Public: file_sha256, iter_pages (stream a file), check_complete (readiness: decode everything), and for
worker pools page_count + read_page (one page per task).
"""

from __future__ import annotations

import hashlib
import io
import math
import warnings
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
from PIL import Image, ImageFile, ImageOps

from pipeline import config as C
from pipeline.errors import InputDamaged
from pipeline.records import RejectedPage, SourcePage

Gray = NDArray[np.uint8]

_CHUNK_BYTES = 1 << 20
_SNIFF_BYTES = 1024          # the PDF header may sit anywhere in the first 1024 bytes (ISO 32000)
_RENDER_TIMEOUT_S = 120      # one page; poppler stuck on a hostile file must not stall the night's run
_PT_PER_IN = 72.0

MSG = {
    "empty": "Plik „{name}” jest pusty (0 bajtów) – kopiowanie ze skanera prawdopodobnie się nie udało. "
             "Skopiuj plik jeszcze raz albo zeskanuj kartki ponownie.",
    "not-a-scan": "Plik „{name}” nie jest skanem w obsługiwanym formacie (PDF, TIFF, JPEG, PNG): jego zawartość nie "
                  "pasuje do żadnego z nich, niezależnie od rozszerzenia nazwy. Usuń go z folderu skanów albo zapisz "
                  "skan ponownie w jednym z tych formatów.",
    "encrypted": "Plik PDF „{name}” jest zabezpieczony hasłem i nie da się go odczytać. Wyłącz hasło (szyfrowanie) "
                 "w ustawieniach skanera i zeskanuj kartki ponownie albo zapisz kopię pliku bez hasła.",
    "unreadable": "Pliku „{name}” nie da się odczytać – jest uszkodzony ({detail}). Skopiuj go ponownie ze skanera "
                  "albo zeskanuj kartki jeszcze raz.",
    "too-large": "Obraz w pliku „{name}” ma {size}, więcej niż dopuszczalne {limit} mln pikseli – to nie wygląda na "
                 "skan kartki A4. Zeskanuj kartki w rozdzielczości 200–300 DPI.",
    "truncated": "Plik „{name}” jest niekompletny (ucięty) – zapewne nie został do końca zapisany lub skopiowany. "
                 "Poczekaj, aż kopiowanie się zakończy, albo skopiuj plik ponownie ze skanera.",
}
MSG_PAGE = ("Strona {page} pliku „{name}” jest uszkodzona ({detail}) i nie została odczytana; pozostałe strony "
            "pliku odczytano. Zeskanuj tę kartkę ponownie.")
MSG_PAGE_STRICT = "Strona {page} pliku „{name}” jest uszkodzona ({detail}). Skopiuj plik ponownie albo zeskanuj ją jeszcze raz."
MSG_REST = ("Od strony {page} plik „{name}” jest ucięty lub uszkodzony ({detail}) – dalszych stron nie da się "
            "odczytać. Skopiuj plik ponownie albo zeskanuj te kartki jeszcze raz.")


class _PageDamage(Exception):
    """A page cannot be decoded: `code` "truncated" or "unreadable", `detail` a short Polish phrase, `rest`
    when nothing after this page can be found either (a TIFF whose chain of pages breaks off)."""

    def __init__(self, code: str, detail: str, rest: bool = False) -> None:
        super().__init__(detail)
        self.code, self.detail, self.rest = code, detail, rest

    @classmethod
    def of(cls, exc: BaseException) -> _PageDamage:
        code = _classify(exc)
        return cls(code, _detail(code))


def _damaged(name: str, code: str, detail: str = "", **extra: Any) -> InputDamaged:
    return InputDamaged(code, MSG[code].format(name=name, detail=detail, **extra))


# --- files -------------------------------------------------------------------------------------------

def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes, read in 1 MiB chunks (scan stacks can be hundreds of MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _sniff(path: Path) -> str:
    """The file's real type from its magic bytes: "pdf", "tiff", "jpeg" or "png"."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        raise _damaged(path.name, "unreadable", "nie można otworzyć pliku") from exc
    if not head:
        raise _damaged(path.name, "empty")
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if b"%PDF-" in head:
        return "pdf"
    raise _damaged(path.name, "not-a-scan")


def _tiff_header_ok(path: Path) -> bool:
    """False when the first page's directory lies beyond the end of the file (a TIFF cut short)."""
    with path.open("rb") as fh:
        head = fh.read(16)
    order = "<" if head[:2] == b"II" else ">"
    big = head[2:4] in (b"+\x00", b"\x00+")
    offset = int.from_bytes(head[8:16] if big else head[4:8], "little" if order == "<" else "big")
    return len(head) >= (16 if big else 8) and 0 < offset < path.stat().st_size


def _classify(exc: BaseException) -> str:
    """"truncated" when the decoder ran out of data, else "unreadable"."""
    text = str(exc).lower()
    if isinstance(exc, EOFError) or any(s in text for s in ("truncat", "premature", "broken data stream", "not enough")):
        return "truncated"
    return "unreadable"


def _detail(code: str) -> str:
    return "dane obrazu są ucięte" if code == "truncated" else "dane obrazu są uszkodzone"


# --- pixels --------------------------------------------------------------------------------------------

def _to_gray(im: Image.Image | Gray) -> Gray:
    """8-bit greyscale: colour by luminance, 1-bit to 0/255, 16-bit by its high byte."""
    if isinstance(im, np.ndarray):
        return im                       # decoded straight to greyscale (`_fast_jpeg`)
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        wide = np.asarray(im).astype(np.int64)
        # Pillow opens 16-bit greyscale as I;16 or I; either way the data spans 0..65535
        gray = np.clip(wide >> 8, 0, 255).astype(np.uint8)
    else:
        # "1" becomes 0/255, colour and palettes luminance; an alpha channel is dropped (scans have none)
        gray = np.asarray(im if im.mode == "L" else im.convert("L"), dtype=np.uint8)
    return np.ascontiguousarray(gray)


def _check_size(name: str, width: int, height: int) -> None:
    if width * height > C.MAX_IMAGE_PIXELS:
        raise _damaged(name, "too-large", size=f"{width}×{height} pikseli", limit=C.MAX_IMAGE_PIXELS // 1_000_000)


def _strict_load(im: Image.Image) -> Image.Image:
    """Decode fully, raising on truncated data instead of padding it (the whole point of using Pillow)."""
    ImageFile.LOAD_TRUNCATED_IMAGES = False   # a global: make sure nothing in the process switched it on
    im.load()
    return im


def _file_dpi(info: dict[str, Any], width_px: int) -> tuple[float, bool]:
    """The DPI the file states if it is believable, else an A4-width estimate (dpi_from_file=False)."""
    dpi = info.get("dpi")
    try:
        values = [float(v) for v in dpi] if isinstance(dpi, tuple | list) else []
    except (TypeError, ValueError):
        values = []
    if values and all(math.isfinite(v) for v in values):
        stated = sum(values) / len(values)
        # writers put 72 or 96 in the header when they know nothing; a believable DPI gives a paper-sized page
        if C.FILE_DPI_MIN <= stated <= C.FILE_DPI_MAX and (
            C.FILE_PAGE_WIDTH_MIN_IN <= width_px / stated <= C.FILE_PAGE_WIDTH_MAX_IN
        ):
            return stated, True
    return width_px / C.ASSUMED_PAGE_WIDTH_IN, False


@dataclass(frozen=True)
class _Decoded:
    image: Gray
    dpi: float
    dpi_from_file: bool


def _decode_pil(im: Image.Image) -> _Decoded:
    """Strict decode of the current frame, upright per its EXIF/TIFF orientation tag."""
    _strict_load(im)
    upright = ImageOps.exif_transpose(im)
    gray = _to_gray(upright)
    dpi, from_file = _file_dpi({str(k): v for k, v in im.info.items()}, gray.shape[1])
    return _Decoded(gray, dpi, from_file)


def _open_image(name: str, source: Path | io.BytesIO) -> Image.Image:
    """Open lazily (headers only) and refuse a decompression bomb before any pixel is decoded."""
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            # our own limit (config.MAX_IMAGE_PIXELS) is checked just below; Pillow's lower default only warns
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(source)
    except Image.DecompressionBombError as exc:
        raise _damaged(name, "too-large", size="zbyt wiele pikseli", limit=C.MAX_IMAGE_PIXELS // 1_000_000) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        code = _classify(exc)
        raise _damaged(name, code, "nagłówek obrazu jest nieczytelny") from exc
    _check_size(name, *im.size)
    return im


# --- raster files ------------------------------------------------------------------------------------

def _picked(count: int, pick: int | None) -> range:
    if pick is not None and not 0 <= pick < count:
        raise IndexError(f"page {pick} of a {count}-page file")
    return range(count) if pick is None else range(pick, pick + 1)


Outcome = tuple[int, "_Decoded | _PageDamage"]


def _single_image(path: Path, pick: int | None) -> Iterator[int | Outcome]:
    """JPEG or PNG: exactly one page (extra frames, e.g. an MPO preview, are not pages)."""
    yield 1
    _picked(1, pick)
    with _open_image(path.name, path) as im:
        try:
            yield 0, _decode_pil(im)
        except (OSError, SyntaxError, ValueError, TypeError, EOFError) as exc:
            yield 0, _PageDamage.of(exc)


def _tiff_survey(path: Path) -> tuple[int, bool]:
    """Intact pages from the frame headers alone (sizes checked before anything is decoded), and whether the
    chain of frames breaks off after them (the file was cut short)."""
    with _open_tiff(path) as im, warnings.catch_warnings():
        # Pillow warns about damaged EXIF blocks in cut files; the damage itself is reported by the caller
        warnings.simplefilter("ignore", UserWarning)
        count = 1
        _check_size(path.name, *im.size)
        while True:
            try:
                im.seek(count)
            except EOFError:
                return count, False
            except Exception:   # any other failure: the next frame's header is cut or garbage
                return count, True
            _check_size(path.name, *im.size)
            count += 1


def _open_tiff(path: Path) -> Image.Image:
    if not _tiff_header_ok(path):
        raise _damaged(path.name, "truncated")
    return _open_image(path.name, path)


def _tiff_pages(path: Path, pick: int | None) -> Iterator[int | Outcome]:
    intact, broken = _tiff_survey(path)
    # the broken remainder counts as one more page, which reads as "the rest is missing"
    yield intact + int(broken)
    # a fresh handle: after a failed seek Pillow's frame bookkeeping cannot be trusted (it then "finds" the
    # broken frame on a second try and decodes garbage)
    with _open_tiff(path) as im, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for index in _picked(intact + int(broken), pick):
            if index == intact:
                yield index, _PageDamage("truncated", _detail("truncated"), rest=True)
                return
            try:
                im.seek(index)
                yield index, _decode_pil(im)
            except (OSError, SyntaxError, ValueError, TypeError, EOFError) as exc:
                yield index, _PageDamage.of(exc)


# --- PDF -----------------------------------------------------------------------------------------------

def _open_pdf(path: Path) -> pikepdf.Pdf:
    name = path.name
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - C.FILE_TAIL_SCAN_BYTES))
        tail = fh.read()
    # a PDF being copied has no end-of-file marker yet; qpdf would "repair" it and hand over half the pages
    if b"%%EOF" not in tail:
        raise _damaged(name, "truncated")
    try:
        pdf = pikepdf.open(path)
    except pikepdf.PasswordError as exc:
        raise _damaged(name, "encrypted") from exc
    except (pikepdf.PdfError, OSError, ValueError, RuntimeError) as exc:
        raise _damaged(name, "unreadable", "struktura PDF jest uszkodzona") from exc
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
            raise _PageDamage("unreadable", "obraz JPEG jest uszkodzony")
        fast = _fast_jpeg(raw, im)
        if fast is not None:
            return fast
        if im.mode in ("RGB", "YCbCr", "CMYK"):
            im.draft("L", im.size)   # libjpeg converts to grey while decoding: no colour pass, same pixels size
        return _strict_load(im)
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        code = _classify(exc)
        raise _PageDamage(code, "obraz JPEG jest " + ("ucięty" if code == "truncated" else "uszkodzony")) from exc


def _decode_image_stream(stream: pikepdf.Stream) -> Image.Image | Gray | None:
    """Strictly decoded embedded image; None when it is better left to the renderer (after checking it)."""
    try:
        pdf_image = pikepdf.PdfImage(stream)
        filters = [str(f) for f in pdf_image.filters]
    except (pikepdf.PdfError, ValueError, NotImplementedError) as exc:
        raise _PageDamage("unreadable", "nieprawidłowy opis obrazu") from exc
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
        code = _classify(exc)
        raise _PageDamage(code, _detail(code)) from exc


def _raw_check(stream: pikepdf.Stream) -> None:
    """Decode what qpdf can decode (Flate, LZW, ...): a broken stream raises here."""
    try:
        stream.read_bytes()
    except (pikepdf.PdfError, pikepdf.DataDecodingError, RuntimeError) as exc:
        raise _PageDamage("unreadable", "dane obrazu są uszkodzone") from exc


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
                                   last_page=index + 1, timeout=_RENDER_TIMEOUT_S)
    except (PDFPageCountError, PDFSyntaxError, PDFPopplerTimeoutError, OSError, ValueError) as exc:
        raise _PageDamage("unreadable", "strony nie da się wyrysować") from exc
    if len(images) != 1:
        raise _PageDamage("unreadable", "strony nie da się wyrysować")
    return _to_gray(images[0])


def _pdf_page(path: Path, page: pikepdf.Page, scan: _ScanImage | None, index: int) -> _Decoded:
    if scan is not None:
        im = _decode_image_stream(scan.stream)
        if im is not None:
            gray = _to_gray(im)
            turns = (scan.rotate // 90) % 4
            if turns:
                gray = np.ascontiguousarray(np.rot90(gray, k=-turns))   # /Rotate is clockwise on display
            w_pt, h_pt = (scan.height_pt, scan.width_pt) if turns % 2 else (scan.width_pt, scan.height_pt)
            dpi_x, dpi_y = gray.shape[1] / (w_pt / _PT_PER_IN), gray.shape[0] / (h_pt / _PT_PER_IN)
            dpi, from_file = _file_dpi({"dpi": (dpi_x, dpi_y)}, gray.shape[1])
            return _Decoded(gray, dpi, from_file)
    _verify_images(page.obj, set())
    return _Decoded(_render(path, index), float(C.PDF_RENDER_DPI), True)


def _pdf_pixels(page: pikepdf.Page, scan: _ScanImage | None) -> list[tuple[int, int]]:
    """Pixel sizes this page will decode to: its images, and the render of its page box if it is rendered."""
    images = [x for x in _xobjects(page.obj).values() if _is_image(x)]
    sizes = [(int(_num(x.get("/Width", 0))), int(_num(x.get("/Height", 0)))) for x in images]
    if scan is None:
        w_pt, h_pt = _page_box(page)
        sizes.append((round(w_pt * C.PDF_RENDER_DPI / _PT_PER_IN), round(h_pt * C.PDF_RENDER_DPI / _PT_PER_IN)))
    return sizes


def _pdf_survey(name: str, pdf: pikepdf.Pdf) -> tuple[list[pikepdf.Page], list[_ScanImage | None]]:
    """The pages, which of them are single scan images, and every page's pixel count checked up front."""
    try:
        pages = list(pdf.pages)
        scans = [_scan_image(page) for page in pages]
        for page, scan in zip(pages, scans, strict=True):
            for w, h in _pdf_pixels(page, scan):
                _check_size(name, w, h)
    except (pikepdf.PdfError, RuntimeError, ValueError, TypeError, KeyError, NotImplementedError) as exc:
        raise _damaged(name, "unreadable", "struktura PDF jest uszkodzona") from exc
    if not pages:
        raise _damaged(name, "unreadable", "PDF nie zawiera żadnej strony")
    return pages, scans


def _pdf_pages(path: Path, pick: int | None) -> Iterator[int | Outcome]:
    with _open_pdf(path) as pdf:
        if pick is None:
            pages, scans = _pdf_survey(path.name, pdf)
        else:
            # One page for a worker: page_count() already surveyed the whole file, so only the picked page is
            # analysed here; surveying all of them per page made a 1,000-page PDF quadratic.
            pages = list(pdf.pages)
            if not 0 <= pick < len(pages):
                raise IndexError(pick)
            try:
                one = _scan_image(pages[pick])
                for w, h in _pdf_pixels(pages[pick], one):
                    _check_size(path.name, w, h)
            except (pikepdf.PdfError, RuntimeError, ValueError, TypeError, KeyError, NotImplementedError) as exc:
                raise _damaged(path.name, "unreadable", "struktura PDF jest uszkodzona") from exc
            scans = [None] * len(pages)
            scans[pick] = one
        yield len(pages)
        for index in _picked(len(pages), pick):
            try:
                yield index, _pdf_page(path, pages[index], scans[index], index)
            except _PageDamage as exc:
                yield index, exc
            except (pikepdf.PdfError, RuntimeError, ValueError, TypeError, KeyError, OSError):
                yield index, _PageDamage("unreadable", "treść strony jest uszkodzona")


# --- public ------------------------------------------------------------------------------------------

def _unexpected(path: Path, exc: Exception) -> InputDamaged:
    # a hostile file can break a library in ways no list of exceptions foresees; it must still end as a
    # clean "unreadable" (the original stays chained for the log), never as a traceback for the user
    return _damaged(path.name, "unreadable", f"nieoczekiwany błąd dekodera: {type(exc).__name__}")


def _pages(path: Path, strict: bool, sha: str | None = None, pick: int | None = None) -> Iterator[SourcePage | RejectedPage]:
    """The one place that decides what a damaged page means: in a multi-page file (or when one page was asked
    for) it is a RejectedPage and reading goes on; in a one-page file, or when reading strictly, the file fails."""
    name, kind = path.name, _sniff(path)
    try:
        sha = sha or file_sha256(path)
    except OSError as exc:
        raise _damaged(name, "unreadable", "nie można odczytać pliku") from exc
    reader = {"pdf": _pdf_pages, "tiff": _tiff_pages}.get(kind, _single_image)
    try:
        outcomes = reader(path, pick)
        count = cast(int, next(outcomes))
        for item in outcomes:
            index, out = cast(Outcome, item)
            if isinstance(out, _Decoded):
                yield SourcePage(name, sha, index, out.dpi, out.image, out.dpi_from_file)
                continue
            if strict or (count == 1 and pick is None):
                raise (_damaged(name, out.code, out.detail) if count == 1
                       else InputDamaged(out.code, MSG_PAGE_STRICT.format(page=index + 1, name=name, detail=out.detail)))
            message = MSG_REST if out.rest else MSG_PAGE
            yield RejectedPage(name, sha, index, "damaged", message.format(page=index + 1, name=name, detail=out.detail))
    except (InputDamaged, IndexError):
        raise
    except Exception as exc:
        raise _unexpected(path, exc) from exc


def iter_pages(path: Path) -> Iterator[SourcePage | RejectedPage]:
    """Decode `path` page by page (one page in memory at a time).

    Whole-file problems raise InputDamaged before the first page is produced (on the first next()); a damaged
    page inside a multi-page file is yielded as RejectedPage(reason="damaged") and reading continues.
    """
    return _pages(path, strict=False)


def check_complete(path: Path) -> int:
    """Decode every page fully and return the page count; raise InputDamaged on any damage, even one page.

    For the overnight readiness check: a file still being copied fails here instead of being half-read.
    """
    return sum(1 for _ in _pages(path, strict=True))


def page_count(path: Path) -> int:
    """How many pages `path` has, from its structure (for handing pages to worker processes).

    Raises InputDamaged for whole-file problems. PDF and TIFF pages are not decoded here (read_page reports
    a damaged one); a single JPEG/PNG is, because for it a cut-off copy is only visible in the pixels.
    """
    kind = _sniff(path)
    try:
        if kind == "pdf":
            with _open_pdf(path) as pdf:
                return len(_pdf_survey(path.name, pdf)[0])
        if kind == "tiff":
            intact, broken = _tiff_survey(path)
            return intact + int(broken)
        return check_complete(path)
    except InputDamaged:
        raise
    except Exception as exc:
        raise _unexpected(path, exc) from exc


def read_page(path: Path, index: int, sha: str) -> SourcePage | RejectedPage:
    """Decode only page `index` (0-based) of `path`, whose SHA-256 the caller already knows.

    A damaged page comes back as RejectedPage(reason="damaged"), even in a one-page file; whole-file problems
    raise InputDamaged; an index outside page_count() raises IndexError.
    """
    return next(_pages(path, strict=False, sha=sha, pick=index))
