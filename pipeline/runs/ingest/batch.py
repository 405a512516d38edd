"""The ingest run (part of the run layer): scan files in, sheets, readings and review items out.

Guarantees (README "Wczytywanie nocne"):
- one run at a time: an exclusive lock file in the workspace; a second run says who holds it;
- a file still being written is not taken (hidden/temporary names, minimum age, size+mtime stable);
- a bad file or page is quarantined with a Polish reason and never stops the batch;
- exactly once: each file's results are committed in one transaction *before* the original is moved to
  archive/; a file whose sha256 is already stored is never read again; a crash at any moment leaves
  either nothing or everything of a file in the database, and the next run finishes the job.
Pages are read in a process pool (decode → identify → register → detect in the worker, which also
writes the review pictures: page_image), results are small and written by the main process.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import socket
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from itertools import islice
from multiprocessing import get_context, parent_process
from pathlib import Path
from typing import Any

from pipeline import store
from pipeline.base import config as C
from pipeline.base.errors import InputDamaged, Locked, PageRejected
from pipeline.records.page_code import version_fingerprint
from pipeline.records.reading import PageReading, RejectedPage
from pipeline.runs.ingest.collate import FileResult, PageOutcome, commit_file, keep_file, quarantine_file
from pipeline.runs.workspace import Workspace


@dataclass(frozen=True)
class Progress:
    files_done: int
    files_total: int
    pages_done: int
    current: str


@dataclass(frozen=True)
class BatchSummary:
    batch_id: int
    label: str
    files: int
    pages: int
    sheets: int
    review_items: int
    quarantined: tuple[tuple[str, str], ...]        # (file or file#page, Polish reason)
    duplicates: tuple[str, ...]                      # files already ingested earlier (same sha256)
    waiting: tuple[str, ...]                         # files not ready yet (still being written)
    rejected_pages: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    texts_drafted: int = 0

    @property
    def exit_ok(self) -> bool:
        return not self.quarantined


# --- locking -------------------------------------------------------------------------------------

@contextmanager
def workspace_lock(ws: Workspace) -> Iterator[None]:
    """An exclusive, non-blocking lock: the kernel releases it if the process dies (kill -9 included)."""
    path = ws.home / "ingest.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "nieznany proces"
            raise Locked(f"Wczytywanie już trwa ({holder}). Poczekaj, aż się zakończy; ten przebieg nic nie zmienił.") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} na {socket.gethostname()}, od {datetime.now().isoformat(timespec='seconds')}"
                  .encode(), 0)
        yield
    finally:
        os.close(fd)    # closing releases the flock


# --- choosing files --------------------------------------------------------------------------------

def _is_candidate_name(p: Path) -> bool:
    name = p.name
    return not (name.startswith((".", "~")) or name.lower().endswith(C.TEMP_SUFFIXES) or name.endswith(".powod.txt"))


def list_inputs(paths: Sequence[Path]) -> list[Path]:
    """Files named directly, and files inside named folders (sorted, recursively), minus temp names."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and _is_candidate_name(f)
                              and not any(part.startswith(".") for part in f.relative_to(p).parts)))
        elif p.is_file():
            out.append(p)
    return out


def ready_files(files: Sequence[Path], min_age_s: float, settle_s: float) -> tuple[list[Path], list[Path]]:
    """Split into (ready, waiting): old enough and unchanged in size+mtime across two looks."""
    first = {}
    now = time.time()
    waiting: list[Path] = []
    for f in files:
        try:
            st = f.stat()
        except FileNotFoundError:
            continue
        if now - st.st_mtime < min_age_s:
            waiting.append(f)
            continue
        first[f] = (st.st_size, st.st_mtime_ns)
    if first and settle_s > 0:
        time.sleep(settle_s)
    ready: list[Path] = []
    for f, look in first.items():
        try:
            st = f.stat()
        except FileNotFoundError:
            continue
        (ready if (st.st_size, st.st_mtime_ns) == look else waiting).append(f)
    return ready, waiting


def pool_context() -> Any:
    """Worker processes come from a fork server, not from a fork of this process: forking a process that
    already runs threads (OpenCV's pool, the executor's own feeder thread) can deadlock the child."""
    ctx = get_context("forkserver")
    ctx.set_forkserver_preload(["pipeline.runs.ingest.batch", "pipeline.reader.detect", "pipeline.reader.identify",
                                "pipeline.reader.register", "pipeline.reader.decode", "pipeline.reader.page_image"])
    return ctx


# --- the worker side -------------------------------------------------------------------------------

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
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# --- the run -------------------------------------------------------------------------------------

def ingest(ws: Workspace, paths: Sequence[Path] | None = None, label: str = "", workers: int | None = None,
           min_age_s: float | None = None, settle_s: float | None = None,
           progress: Callable[[Progress], None] | None = None, draft_texts: bool = True,
           received: date | None = None) -> BatchSummary:
    """Read scan files (default: the inbox) into the workspace. See the module docstring for guarantees.
    `received`: the day the paper was taken out of the collection box (default: today)."""
    started = time.monotonic()
    from_inbox = not paths
    candidates = list_inputs([ws.folder("inbox")] if from_inbox else list(paths or []))
    with workspace_lock(ws):
        if from_inbox:
            ready, waiting = ready_files(candidates, C.INBOX_MIN_AGE_S if min_age_s is None else min_age_s,
                                         C.INBOX_SETTLE_S if settle_s is None else settle_s)
        else:
            ready, waiting = ready_files(candidates, min_age_s or 0.0, settle_s or 0.0)
        if not ready:
            # nothing to do (e.g. --watch on an empty inbox): no batch row, no worker pool
            return BatchSummary(0, label, 0, 0, 0, 0, (), (), tuple(p.name for p in waiting),
                                seconds=round(time.monotonic() - started, 2))
        with ws.db.atomic():
            batch_id = int(store.insert_batch(ws.db, label))
        forms = store.form_versions_by_key(ws.db)
        folders = {n: ws.folder(n) for n in ("pages", "crops")}
        n_workers = workers if workers is not None else (os.cpu_count() or 1)
        results: list[FileResult] = []
        quarantined: list[tuple[str, str]] = []
        duplicates: list[str] = []
        pages_done = 0
        executor = (ProcessPoolExecutor(n_workers, mp_context=pool_context(), initializer=init_reader,
                                        initargs=(forms, folders)) if n_workers > 1 else None)
        if executor is None:
            init_reader(forms, folders)
        # Files overlap: the oldest file is collected and committed only once the files after it have queued
        # ~4 pages per worker, so the workers keep reading during its commit (and during the next file's hash
        # and page count), whether files hold one page (a JPEG per sheet) or a hundred. Before, a multi-page
        # file's commit left both cores idle: ~12 % of the run. Memory stays bounded: the oldest file's results
        # plus a few pages.
        inflight: deque[_InFlight] = deque()
        seen: set[str] = set()
        done_files = 0

        def finish_oldest() -> None:
            nonlocal pages_done, done_files
            fl = inflight.popleft()
            if progress:
                progress(Progress(done_files, len(ready), pages_done, fl.path.name))
            res = _finish_file(ws, fl, batch_id, label, from_inbox, received.isoformat() if received else "")
            results.append(res)
            pages_done += res.pages
            quarantined.extend(res.quarantined)
            done_files += 1

        try:
            for path in ready:
                started_file = _start_file(ws, path, batch_id, executor, from_inbox, seen)
                if started_file is None:
                    duplicates.append(path.name)
                    done_files += 1
                elif isinstance(started_file, FileResult):
                    results.append(started_file)
                    quarantined.extend(started_file.quarantined)
                    done_files += 1
                else:
                    inflight.append(started_file)
                while inflight and (executor is None or queued_after_oldest(inflight) >= C.QUEUED_PAGES_PER_WORKER * n_workers):
                    finish_oldest()
            while inflight:
                finish_oldest()
        finally:
            if executor is not None:
                executor.shutdown(cancel_futures=True)
        drafted = 0
        if draft_texts:
            drafted = draft_pending_texts(ws, n_workers)
        rejected: dict[str, int] = {}
        for r in results:
            for reason, count in r.rejected.items():
                rejected[reason] = rejected.get(reason, 0) + count
        summary = BatchSummary(
            batch_id=batch_id, label=label, files=len(results), pages=pages_done,
            sheets=len({s for r in results for s in r.sheets}),
            review_items=store.count_open_review_items(ws.db, batch_id),
            quarantined=tuple(quarantined), duplicates=tuple(duplicates), waiting=tuple(p.name for p in waiting),
            rejected_pages=rejected, seconds=round(time.monotonic() - started, 2), texts_drafted=drafted,
        )
        with ws.db.atomic():
            store.finish_batch(ws.db, batch_id, summary_fields(summary))
        if progress:
            progress(Progress(len(ready), len(ready), pages_done, ""))
        return summary


def summary_fields(s: BatchSummary) -> dict[str, Any]:
    return {"files": s.files, "pages": s.pages, "sheets": s.sheets, "review_items": s.review_items,
            "quarantined": len(s.quarantined), "seconds": s.seconds,
            "summary_json": json.dumps({"quarantined": s.quarantined, "duplicates": s.duplicates, "waiting": s.waiting,
                                        "rejected_pages": s.rejected_pages, "texts_drafted": s.texts_drafted},
                                       ensure_ascii=False)}


@dataclass
class _InFlight:
    """A file whose pages are being read by the pool (futures) or will be read in-process (tasks)."""

    path: Path
    sha: str
    tasks: list[tuple[str, int, str, str]]
    futures: list[Future[PageOutcome]]


def queued_after_oldest(inflight: deque[_InFlight]) -> int:
    """Pages handed to the pool by the files after the oldest in flight (work for the cores while it commits)."""
    return sum(len(f.tasks) for f in islice(inflight, 1, None))


def _start_file(ws: Workspace, path: Path, batch_id: int, executor: ProcessPoolExecutor | None, from_inbox: bool,
                seen: set[str]) -> _InFlight | FileResult | None:
    """Hash, de-duplicate and count pages, then hand the pages to the pool; None for a duplicate file."""
    from pipeline.reader import decode

    try:
        sha = decode.file_sha256(path)
    except OSError as exc:
        return quarantine_file(ws, path, "", batch_id, "unreadable", f"Nie można odczytać pliku: {exc}.", from_inbox)
    if sha in seen or store.file_known(ws.db, sha):
        _archive(ws, path, from_inbox, duplicate=True)
        return None
    try:
        count = decode.page_count(path)
    except InputDamaged as exc:
        return quarantine_file(ws, path, sha, batch_id, exc.code, exc.message, from_inbox)
    seen.add(sha)
    tasks = [(str(path), i, sha, path.name) for i in range(count)]
    futures = [executor.submit(read_task, t) for t in tasks] if executor is not None else []
    return _InFlight(path, sha, tasks, futures)


def _finish_file(ws: Workspace, fl: _InFlight, batch_id: int, label: str, from_inbox: bool, received: str) -> FileResult:
    """Collect a file's pages, commit them in one transaction, then (only then) archive the original."""
    outcomes = [f.result() for f in fl.futures] if fl.futures else [read_task(t) for t in fl.tasks]
    path, sha = fl.path, fl.sha
    result = commit_file(ws, path, sha, batch_id, label, outcomes, received=received)
    if result.whole_file_quarantined:
        reasons = sorted({o.rejected.message for o in outcomes if o.rejected is not None and o.rejected.reason != "blank"})
        q = quarantine_file(ws, path, sha, batch_id, "no-sheet", "Żadna strona pliku nie jest naszą ankietą: "
                            + " ".join(reasons), from_inbox)
        return replace(result, quarantined=q.quarantined)
    archived = _archive(ws, path, from_inbox, duplicate=False)
    with ws.db.atomic():
        store.set_file_archived(ws.db, sha, str(archived.relative_to(ws.home)))
    return result


def _archive(ws: Workspace, path: Path, from_inbox: bool, duplicate: bool) -> Path:
    """Keep the scan as evidence (ISO audit trail), in archive/<day>/ (duplicates in a subfolder)."""
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    return keep_file(ws, path, ws.folder("archive") / day / ("duplikaty" if duplicate else ""), from_inbox)


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
            with ws.db.atomic():
                store.set_text_draft(ws.db, *_draft(task))
            done += 1
    return done
