"""Decoding helpers of the ingest stage and its raster readers (JPEG, PNG, TIFF).

Shared with pipeline.ingest_pdf: the Polish messages and damage codes, strict Pillow loading (a truncated image
raises instead of being padded with grey), the DPI a file states, and conversion to 8-bit greyscale. The
readers yield the page count first and then (index, decoded page or page damage); reader.decode turns
those into SourcePage / RejectedPage and decides what a damaged page means for the file.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFile, ImageOps

from pipeline.base import config as C
from pipeline.base.errors import InputDamaged

Gray = NDArray[np.uint8]

CHUNK_BYTES = 1 << 20
_SNIFF_BYTES = 1024          # the PDF header may sit anywhere in the first 1024 bytes (ISO 32000)
RENDER_TIMEOUT_S = 120      # one page; poppler stuck on a hostile file must not stall the night's run
PT_PER_IN = 72.0

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


class PageDamage(Exception):
    """A page cannot be decoded: `code` "truncated" or "unreadable", `detail` a short Polish phrase, `rest`
    when nothing after this page can be found either (a TIFF whose chain of pages breaks off)."""

    def __init__(self, code: str, detail: str, rest: bool = False) -> None:
        super().__init__(detail)
        self.code, self.detail, self.rest = code, detail, rest

    @classmethod
    def of(cls, exc: BaseException) -> PageDamage:
        code = classify(exc)
        return cls(code, damage_detail(code))


def damaged(name: str, code: str, detail: str = "", **extra: Any) -> InputDamaged:
    return InputDamaged(code, MSG[code].format(name=name, detail=detail, **extra))



# --- sniffing and pixels ------------------------------------------------------------------------------

def sniff(path: Path) -> str:
    """The file's real type from its magic bytes: "pdf", "tiff", "jpeg" or "png"."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        raise damaged(path.name, "unreadable", "nie można otworzyć pliku") from exc
    if not head:
        raise damaged(path.name, "empty")
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if b"%PDF-" in head:
        return "pdf"
    raise damaged(path.name, "not-a-scan")


def _tiff_header_ok(path: Path) -> bool:
    """False when the first page's directory lies beyond the end of the file (a TIFF cut short)."""
    with path.open("rb") as fh:
        head = fh.read(16)
    order = "<" if head[:2] == b"II" else ">"
    big = head[2:4] in (b"+\x00", b"\x00+")
    offset = int.from_bytes(head[8:16] if big else head[4:8], "little" if order == "<" else "big")
    return len(head) >= (16 if big else 8) and 0 < offset < path.stat().st_size


def classify(exc: BaseException) -> str:
    """"truncated" when the decoder ran out of data, else "unreadable"."""
    text = str(exc).lower()
    if isinstance(exc, EOFError) or any(s in text for s in ("truncat", "premature", "broken data stream", "not enough")):
        return "truncated"
    return "unreadable"


def damage_detail(code: str) -> str:
    return "dane obrazu są ucięte" if code == "truncated" else "dane obrazu są uszkodzone"


# --- pixels --------------------------------------------------------------------------------------------

def to_gray(im: Image.Image | Gray) -> Gray:
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


def check_size(name: str, width: int, height: int) -> None:
    if width * height > C.MAX_IMAGE_PIXELS:
        raise damaged(name, "too-large", size=f"{width}×{height} pikseli", limit=C.MAX_IMAGE_PIXELS // 1_000_000)


def strict_load(im: Image.Image) -> Image.Image:
    """Decode fully, raising on truncated data instead of padding it (the whole point of using Pillow)."""
    ImageFile.LOAD_TRUNCATED_IMAGES = False   # a global: make sure nothing in the process switched it on
    im.load()
    return im


def file_dpi(info: dict[str, Any], width_px: int) -> tuple[float, bool]:
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
class Decoded:
    image: Gray
    dpi: float
    dpi_from_file: bool
    original_jpeg: bytes = b""     # see SourcePage.original_jpeg


def _decode_pil(im: Image.Image) -> Decoded:
    """Strict decode of the current frame, upright per its EXIF/TIFF orientation tag."""
    strict_load(im)
    upright = ImageOps.exif_transpose(im)
    gray = to_gray(upright)
    dpi, from_file = file_dpi({str(k): v for k, v in im.info.items()}, gray.shape[1])
    return Decoded(gray, dpi, from_file)


def _open_image(name: str, source: Path | io.BytesIO) -> Image.Image:
    """Open lazily (headers only) and refuse a decompression bomb before any pixel is decoded."""
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            # our own limit (config.MAX_IMAGE_PIXELS) is checked just below; Pillow's lower default only warns
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(source)
    except Image.DecompressionBombError as exc:
        raise damaged(name, "too-large", size="zbyt wiele pikseli", limit=C.MAX_IMAGE_PIXELS // 1_000_000) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        code = classify(exc)
        raise damaged(name, code, "nagłówek obrazu jest nieczytelny") from exc
    check_size(name, *im.size)
    return im


# --- raster files ------------------------------------------------------------------------------------

def picked(count: int, pick: int | None) -> range:
    if pick is not None and not 0 <= pick < count:
        raise IndexError(f"page {pick} of a {count}-page file")
    return range(count) if pick is None else range(pick, pick + 1)


Outcome = tuple[int, "Decoded | PageDamage"]


def single_image_pages(path: Path, pick: int | None) -> Iterator[int | Outcome]:
    """JPEG or PNG: exactly one page (extra frames, e.g. an MPO preview, are not pages)."""
    yield 1
    picked(1, pick)
    with _open_image(path.name, path) as im:
        try:
            yield 0, _decode_pil(im)
        except (OSError, SyntaxError, ValueError, TypeError, EOFError) as exc:
            yield 0, PageDamage.of(exc)


def tiff_survey(path: Path) -> tuple[int, bool]:
    """Intact pages from the frame headers alone (sizes checked before anything is decoded), and whether the
    chain of frames breaks off after them (the file was cut short)."""
    with _open_tiff(path) as im, warnings.catch_warnings():
        # Pillow warns about damaged EXIF blocks in cut files; the damage itself is reported by the caller
        warnings.simplefilter("ignore", UserWarning)
        count = 1
        check_size(path.name, *im.size)
        while True:
            try:
                im.seek(count)
            except EOFError:
                return count, False
            except Exception:   # any other failure: the next frame's header is cut or garbage
                return count, True
            check_size(path.name, *im.size)
            count += 1


def _open_tiff(path: Path) -> Image.Image:
    if not _tiff_header_ok(path):
        raise damaged(path.name, "truncated")
    return _open_image(path.name, path)


def tiff_pages(path: Path, pick: int | None) -> Iterator[int | Outcome]:
    intact, broken = tiff_survey(path)
    # the broken remainder counts as one more page, which reads as "the rest is missing"
    yield intact + int(broken)
    # a fresh handle: after a failed seek Pillow's frame bookkeeping cannot be trusted (it then "finds" the
    # broken frame on a second try and decodes garbage)
    with _open_tiff(path) as im, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for index in picked(intact + int(broken), pick):
            if index == intact:
                yield index, PageDamage("truncated", damage_detail("truncated"), rest=True)
                return
            try:
                im.seek(index)
                yield index, _decode_pil(im)
            except (OSError, SyntaxError, ValueError, TypeError, EOFError) as exc:
                yield index, PageDamage.of(exc)


