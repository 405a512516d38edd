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
from collections.abc import Iterator
from pathlib import Path
from typing import cast

from pipeline.base.errors import InputDamaged
from pipeline.reader.decode.pdf import open_pdf, pdf_pages, pdf_survey
from pipeline.reader.decode.raster import (
    CHUNK_BYTES,
    MSG,
    MSG_PAGE,
    MSG_PAGE_STRICT,
    MSG_REST,
    Decoded,
    Outcome,
    damaged,
    single_image_pages,
    sniff,
    tiff_pages,
    tiff_survey,
)
from pipeline.records.reading import RejectedPage, SourcePage

__all__ = ["MSG", "check_complete", "file_sha256", "iter_pages", "page_count", "read_page"]


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes, read in 1 MiB chunks (scan stacks can be hundreds of MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


# --- public ------------------------------------------------------------------------------------------

def _unexpected(path: Path, exc: Exception) -> InputDamaged:
    # a hostile file can break a library in ways no list of exceptions foresees; it must still end as a
    # clean "unreadable" (the original stays chained for the log), never as a traceback for the user
    return damaged(path.name, "unreadable", f"nieoczekiwany błąd dekodera: {type(exc).__name__}")


def _pages(path: Path, strict: bool, sha: str | None = None, pick: int | None = None) -> Iterator[SourcePage | RejectedPage]:
    """The one place that decides what a damaged page means: in a multi-page file (or when one page was asked
    for) it is a RejectedPage and reading goes on; in a one-page file, or when reading strictly, the file fails."""
    name, kind = path.name, sniff(path)
    try:
        sha = sha or file_sha256(path)
    except OSError as exc:
        raise damaged(name, "unreadable", "nie można odczytać pliku") from exc
    reader = {"pdf": pdf_pages, "tiff": tiff_pages}.get(kind, single_image_pages)
    try:
        outcomes = reader(path, pick)
        count = cast(int, next(outcomes))
        for item in outcomes:
            index, out = cast(Outcome, item)
            if isinstance(out, Decoded):
                yield SourcePage(name, sha, index, out.dpi, out.image, out.dpi_from_file, out.original_jpeg)
                continue
            if strict or (count == 1 and pick is None):
                raise (damaged(name, out.code, out.detail) if count == 1
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
    kind = sniff(path)
    try:
        if kind == "pdf":
            with open_pdf(path) as pdf:
                return len(pdf_survey(path.name, pdf)[0])
        if kind == "tiff":
            intact, broken = tiff_survey(path)
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

