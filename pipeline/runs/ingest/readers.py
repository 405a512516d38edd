"""The reader processes of an ingest run: a pool that reads pages end to end (decode → identify → register
→ detect → page_image, writing the review pictures and text crops) and later drafts free text with OCR.

A page's result is small (`PageOutcome`: the reading without pixels, the box rows already serialised) and
goes back to the main process, which alone writes the database.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from multiprocessing import get_context, parent_process
from pathlib import Path
from typing import Any

from pipeline import store
from pipeline.base import config as C
from pipeline.base.errors import PageRejected, StorageFailed, os_reason
from pipeline.records.page_code import version_fingerprint
from pipeline.records.reading import PageReading, RejectedPage
from pipeline.runs.workspace import Workspace


@dataclass(frozen=True)
class PageOutcome:
    """What a worker returns for one page: a reading (with the names of the images it wrote) or a rejection."""

    reading: PageReading | None = None
    rejected: RejectedPage | None = None
    image_name: str = ""
    image_placement: dict[str, Any] = field(default_factory=dict)   # page_image.PageImage's size and to_pt
    # the boxes' stored rows (store.box_values), made by the worker; the reading's boxes then carry no metrics
    box_values: tuple[tuple[Any, ...], ...] = ()
    crops: dict[str, str] = field(default_factory=dict)



def pool_context() -> Any:
    """Worker processes come from a fork server, not from a fork of this process: forking a process that
    already runs threads (OpenCV's pool, the executor's own feeder thread) can deadlock the child."""
    ctx = get_context("forkserver")
    ctx.set_forkserver_preload(["pipeline.runs.ingest.readers", "pipeline.reader.detect", "pipeline.reader.identify",
                                "pipeline.reader.register", "pipeline.reader.decode", "pipeline.reader.page_image"])
    return ctx


_FORMS: dict[tuple[str, int], store.FormVersion] = {}
_FOLDERS: dict[str, Path] = {}


def init_reader(forms: dict[tuple[str, int], store.FormVersion], folders: dict[str, Path]) -> None:
    # One thread per worker: the pool already uses every core; nested threading only thrashes.
    os.environ["OMP_THREAD_LIMIT"] = "1"
    import cv2

    cv2.setNumThreads(1)
    if parent_process() is not None:
        _keep_freed_memory()
    _FORMS.clear()
    _FORMS.update(forms)
    _FOLDERS.clear()
    _FOLDERS.update(folders)


def _keep_freed_memory() -> None:
    """Let a reader process reuse the memory it frees instead of handing it back to the kernel.

    Every page allocates the same few large arrays (a 300 DPI scan is 8.7 MB, plus its copies and patch
    stacks). glibc's default gives blocks that large back to the kernel on free, so each page paid for
    thousands of fresh, zero-filled pages: 4-14 ms of system time a page, ~10 % of the read. Keeping them
    (up to BATCH_WORKER_MALLOC_*; the process's memory stays bounded by its largest page) costs nothing.
    Only pool workers do it, never a long-lived process such as the web server; not glibc: nothing to do.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_trim_threshold, m_mmap_threshold = -1, -3          # mallopt parameter numbers from <malloc.h>
    libc.mallopt(m_mmap_threshold, C.BATCH_WORKER_MALLOC_MMAP_THRESHOLD_BYTES)
    libc.mallopt(m_trim_threshold, C.BATCH_WORKER_MALLOC_TRIM_THRESHOLD_BYTES)


def read_task(task: tuple[str, int, str, str]) -> PageOutcome:
    """Read one page end to end. Never raises: any failure becomes a rejected page with a reason."""
    path, index, sha, name = task
    try:
        return _read_page(Path(path), index, sha, name)
    except StorageFailed:
        raise                  # our own output could not be written (disk full): that stops the run, cleanly
    except Exception as exc:   # an unexpected error on one page must not stop the night's batch
        return PageOutcome(rejected=RejectedPage(name, sha, index, "error",
                                                 f"Błąd wewnętrzny przy czytaniu strony ({type(exc).__name__}: {exc}). "
                                                 "Zgłoś go; strona czeka w kwarantannie na ponowienie."))


def _read_page(path: Path, index: int, sha: str, name: str) -> PageOutcome:
    from pipeline.reader import decode, detect, identify, register
    from pipeline.reader.page_image import page_image

    page = decode.read_page(path, index, sha)
    if isinstance(page, RejectedPage):
        return PageOutcome(rejected=page)
    try:
        ident = identify.identify(page)
        fv = _FORMS.get((ident.identity.form, ident.identity.version))
        if fv is None or ident.identity.page not in {p.number for p in fv.geometry.pages}:
            i = ident.identity
            return PageOutcome(rejected=RejectedPage(
                name, sha, index, "unknown-form",
                f"Strona ma kod formularza {i.form} w wersji {i.version} (strona {i.page}), którego ta przestrzeń robocza "
                "nie zna. Sprawdź, czy skan pochodzi z tego urzędu, albo opublikuj ten formularz i ponów."))
        if ident.identity.fingerprint != version_fingerprint(fv.layout_hash):
            # Same form and version number, different content: printed by another workspace or before the office
            # data changed. Reading it against this geometry would put answers on the wrong questions.
            i = ident.identity
            return PageOutcome(rejected=RejectedPage(
                name, sha, index, "unknown-form",
                f"Strona ma kod formularza {i.form} w wersji {i.version}, ale wydrukowano ją z inną treścią niż wersja "
                f"{i.version} w tej przestrzeni roboczej (odcisk {i.fingerprint}, oczekiwano "
                f"{version_fingerprint(fv.layout_hash)}). Skan pochodzi zapewne z innego urzędu lub innej instalacji; "
                "nie odczytano go, aby nie przypisać odpowiedzi do niewłaściwych pytań."))
        geom = fv.geometry.page(ident.identity.page)
        reg = register.register(ident, geom)
        boxes, issues = detect.read_boxes(ident.image, reg, geom, fv.layout)
        texts = detect.read_text_areas(ident.image, reg, geom)
    except PageRejected as exc:
        return PageOutcome(rejected=RejectedPage(name, sha, index, exc.code, exc.message))
    stem = f"{sha[:16]}-{index:04d}"
    image_path = _FOLDERS["pages"] / f"{stem}.jpg"
    # the file's own JPEG shows these very pixels unless identify turned the page
    same_pixels = not ident.rotated_180 and ident.image.shape == page.image.shape
    picture = page_image(ident.image, reg, geom, page.original_jpeg if same_pixels else b"")
    _write_atomic(image_path, picture.jpeg)
    crops: dict[str, str] = {}
    for t in texts:
        if t.crop_png:
            crop_path = _FOLDERS["crops"] / f"{stem}-{t.area_id}.png"
            _write_atomic(crop_path, t.crop_png)
            crops[t.area_id] = crop_path.name
    # metrics travel as their stored JSON (serialised here, in parallel), not twice as dicts
    reading = PageReading(replace(page, image=None, original_jpeg=b""), ident.identity, reg,
                          tuple(replace(b, metrics={}) for b in boxes), tuple(replace(t, crop_png=b"") for t in texts),
                          issues=issues)
    return PageOutcome(reading=reading, image_name=image_path.name, image_placement=picture.placement,
                       box_values=store.box_values(boxes), crops=crops)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write a review picture or crop whole or not at all. A refusal (disk full) is not a fault of the page:
    it becomes StorageFailed, which ends the run cleanly (batch.ingest) instead of a page rejected as "error"."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        reason = os_reason(exc) if exc.filename else f"{os_reason(exc)} ({path})"
        raise StorageFailed(f"Nie można zapisać obrazu strony: {reason}.", reason) from None


# --- free-text drafts ------------------------------------------------------------------------------

def _draft(task: tuple[int, str, str]) -> tuple[int, str, str, float]:
    from pipeline.reader import ocr

    page_id, area_id, crop = task
    text, conf = ocr.draft_text((_FOLDERS["crops"] / crop).read_bytes())
    return page_id, area_id, text, conf


def draft_pending_texts(ws: Workspace, workers: int) -> int:
    """Run tesseract on every inked text area that has no draft yet (resumable: a killed run leaves the
    rest pending for the next one). Drafts are machine suggestions; the reviewer confirms them."""
    from pipeline.reader import ocr

    pending = store.pending_text_drafts(ws.db)
    if not pending or not ocr.tesseract_available():
        return 0
    folders = {n: ws.folder(n) for n in ("pages", "crops")}
    done = 0
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=pool_context(), initializer=init_reader,
                                 initargs=({}, folders)) as ex:
            results: Iterator[tuple[int, str, str, float]] = ex.map(_draft, pending, chunksize=4)
            for r in results:
                with ws.db.atomic():
                    store.set_text_draft(ws.db, *r)
                done += 1
    else:
        init_reader({}, folders)
        for task in pending:
            drafted = _draft(task)       # tesseract first (~0.5 s): the write lock is held only for the write
            with ws.db.atomic():
                store.set_text_draft(ws.db, *drafted)
            done += 1
    return done
