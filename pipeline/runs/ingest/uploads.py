"""Scans uploaded through the browser (run layer): written into the inbox, then read by the same ingest run
as the night's, with its readiness, quarantine, exactly-once and locking rules.

Design: the request only writes the files; the reading runs in the background. The request writes every file into
inbox/ under a temporary name the ingest skips (a hidden `.part` name), fsyncs it, renames it to its final name,
records an upload job (table upload_jobs) and starts a thread that runs `batch.ingest` on exactly those files,
writing its progress and then the result per file into the job's row. The request returns at once (a 2,000-page
upload held a server thread for 165 s before); the admin's page shows the progress and then the results.
Jobs of one server process run one after another; when another run holds the workspace lock (the night's, or
another server's) nothing waits: the files stay in inbox/ under their final names and the next run reads them (a
fresh file is younger than the inbox's minimum age, so a watching run does not take it half-way either). A job
whose server stopped mid-way shows as interrupted: its files are in inbox/ or already read, never lost or doubled
(the ingest's own guarantees). `upload_and_ingest` does the same synchronously (tests, scripts).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import secrets
import threading
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from pipeline import store
from pipeline.base import config as C
from pipeline.base.errors import AnkietaError, InvalidInput, Locked
from pipeline.runs.ingest import batch
from pipeline.runs.workspace import Workspace, open_workspace

STATUS_LABELS = {"read": "wczytany", "no-sheet": "wczytany, bez ankiet", "duplicate": "pominięty – już wczytany",
                 "quarantined": "w kwarantannie", "waiting": "czeka na następne wczytywanie",
                 "elsewhere": "wczytany przez inny przebieg"}
_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class Stored:
    original: str                # the name the browser sent
    name: str                    # the name in inbox/
    path: Path
    sha256: str
    size: int


@dataclass(frozen=True)
class FileOutcome:
    original: str
    name: str
    status: str                  # a key of STATUS_LABELS
    message: str                 # Polish: the reason (quarantine) or what happens next
    pages: int = 0
    sheets: tuple[str, ...] = ()
    review_items: int = 0
    blank_pages: int = 0
    rejected_pages: tuple[tuple[int, str], ...] = ()     # (page number from 1, Polish reason)

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class UploadResult:
    files: tuple[FileOutcome, ...]
    batch_id: int                # 0 when no run took place (locked)
    locked_message: str = ""

    @property
    def quarantined(self) -> int:
        return sum(1 for f in self.files if f.status == "quarantined") + sum(len(f.rejected_pages) for f in self.files)


def safe_name(original: str) -> str:
    """A plain file name for the inbox: no folders, no hidden or temporary name the ingest would skip,
    Polish letters kept (`Skan urna 2.pdf` -> `Skan_urna_2.pdf`)."""
    base = unicodedata.normalize("NFC", original.replace("\\", "/").rsplit("/", 1)[-1])
    base = re.sub(r"[^\w.\-]+", "_", base).strip("._~-")
    stem, dot, ext = base.rpartition(".")
    suffix = f".{ext}" if dot and stem and re.fullmatch(r"[A-Za-z0-9]{1,5}", ext) else ""
    if not suffix:
        stem = base
    # a long name is cut in its stem: the extension (what the file is) stays
    if len(stem) > C.UPLOAD_NAME_MAX_CHARS - len(suffix):
        stem = stem[:C.UPLOAD_NAME_MAX_CHARS - len(suffix)].rstrip("._~-")
    base = stem + suffix if stem else ""
    if not base:
        base = "skan"
    if base.lower().endswith(C.TEMP_SUFFIXES) or base.endswith(".powod.txt"):
        base += "_"      # the night's run skips such names; this file is finished, so it must not look unfinished
    return base


def _free_name(folder: Path, name: str) -> Path:
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    candidate, n = folder / name, 1
    while candidate.exists():
        candidate = folder / (f"{stem}-{n}.{suffix}" if suffix else f"{stem}-{n}")
        n += 1
    return candidate


def store_uploads(ws: Workspace, files: Sequence[tuple[str, IO[bytes]]]) -> list[Stored]:
    """Write the uploads into inbox/ atomically (temporary hidden name, fsync, rename). Too many files or
    too many bytes in total raise InvalidInput and leave nothing behind."""
    if not files:
        raise InvalidInput("Wybierz co najmniej jeden plik skanu (PDF, TIFF, JPEG albo PNG).")
    if len(files) > C.UPLOAD_MAX_FILES:
        raise InvalidInput(f"Za dużo plików naraz ({len(files)}); wyślij najwyżej {C.UPLOAD_MAX_FILES}, resztę w "
                           "kolejnej porcji albo przez folder skanera (inbox/).")
    inbox = ws.folder("inbox")
    inbox.mkdir(exist_ok=True)
    temps: list[tuple[str, Path, str, int]] = []
    total = 0
    try:
        for original, stream in files:
            tmp = inbox / f".upload-{uuid.uuid4().hex}.part"
            digest = hashlib.sha256()
            size = 0
            temps.append((original, tmp, "", 0))
            with tmp.open("wb") as fh:
                while chunk := stream.read(_CHUNK_BYTES):
                    total += len(chunk)
                    if total > C.UPLOAD_MAX_BYTES:
                        raise InvalidInput(f"Pliki są razem większe niż {C.UPLOAD_MAX_BYTES // (1024 * 1024)} MB; wyślij "
                                           "je w mniejszych porcjach albo przez folder skanera (inbox/).")
                    fh.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            temps[-1] = (original, tmp, digest.hexdigest(), size)
    except BaseException:
        for _, tmp, _, _ in temps:
            tmp.unlink(missing_ok=True)
        raise
    stored: list[Stored] = []
    for original, tmp, sha, size in temps:
        target = _free_name(inbox, safe_name(original))
        os.replace(tmp, target)     # the file appears under its final name only when complete
        stored.append(Stored(original, target.name, target, sha, size))
    return stored


def _outcome(ws: Workspace, s: Stored, summary: batch.BatchSummary) -> FileOutcome:
    if s.name in summary.duplicates:
        return FileOutcome(s.original, s.name, "duplicate", "Plik o tej samej zawartości był już wczytany wcześniej; "
                           "nie czytano go drugi raz (kopia jest w archiwum, w podfolderze duplikaty).")
    found = store.file_outcome(ws.db, s.sha256, s.name, summary.batch_id)
    whole = [q for q in found["quarantined"] if q["page_index"] is None]
    if whole:
        return FileOutcome(s.original, s.name, "quarantined", str(whole[0]["message"]))
    row = found["file"]
    if row is None or row["batch_id"] != summary.batch_id:
        if s.path.exists():
            return FileOutcome(s.original, s.name, "waiting", "Plik czeka w folderze inbox/ na następne wczytywanie.")
        return FileOutcome(s.original, s.name, "elsewhere", "Plik wczytał równoległy przebieg (np. nocny); wynik "
                           "jest na pulpicie w podsumowaniu ostatniego wczytywania.")
    pages = tuple((int(q["page_index"]) + 1, str(q["message"])) for q in found["quarantined"])
    sheets = tuple(found["sheets"])
    status = "read" if sheets else "no-sheet"
    message = ("Odczytano." if not pages else "Odczytano; strony wymienione niżej trafiły do kwarantanny.") if sheets \
        else "Plik nie zawiera stron naszej ankiety (tylko puste strony)."
    return FileOutcome(s.original, s.name, status, message, int(row["pages"] or 0), sheets, found["review_items"],
                       found["blank_pages"], pages)


def ingest_uploads(ws: Workspace, stored: Sequence[Stored], user: str, label: str = "",
                   received: date | None = None, progress: Callable[[batch.Progress], None] | None = None) -> UploadResult:
    """Read the stored uploads now (the night's rules); when another run holds the lock, leave them."""
    names = [s.name for s in stored]
    with ws.db.atomic():
        store.audit(ws.db, user, "scan.upload", {"files": names, "bytes": sum(s.size for s in stored), "label": label})
    try:
        summary = batch.ingest(ws, [s.path for s in stored], label=label or "przesłane przez przeglądarkę",
                               workers=C.UPLOAD_INGEST_WORKERS, min_age_s=0, settle_s=0, received=received,
                               progress=progress)
    except Locked as exc:
        waiting = tuple(FileOutcome(s.original, s.name, "waiting", "Plik czeka w folderze inbox/ na następne "
                                    "wczytywanie.") for s in stored)
        return UploadResult(waiting, 0, f"{exc.message} Przesłane pliki zostały zapisane w folderze inbox/ i zostaną "
                                        "wczytane w następnym przebiegu (np. nocnym); nie wysyłaj ich ponownie.")
    return UploadResult(tuple(_outcome(ws, s, summary) for s in stored), summary.batch_id)


def upload_and_ingest(ws: Workspace, files: Sequence[tuple[str, IO[bytes]]], user: str, label: str = "",
                      received: date | None = None) -> UploadResult:
    return ingest_uploads(ws, store_uploads(ws, files), user, label, received)


# --- in the background -------------------------------------------------------------------------------------

JOB_LABELS = {"running": "trwa wczytywanie", "done": "zakończone", "interrupted": "przerwane (serwer zatrzymano)",
              "failed": "zatrzymane błędem"}
_LIVE: set[str] = set()                 # jobs whose thread runs in this process
_LIVE_GUARD = threading.Lock()
_ONE_AT_A_TIME = threading.Lock()       # jobs of one server process read one after another, not into the lock


@dataclass(frozen=True)
class UploadJob:
    id: str
    user: str
    created_at: str
    status: str                  # a key of JOB_LABELS
    files: tuple[str, ...]       # the names the browser sent
    files_done: int = 0
    pages_done: int = 0
    current: str = ""
    result: UploadResult | None = None
    message: str = ""

    @property
    def label(self) -> str:
        return JOB_LABELS[self.status]

    @property
    def running(self) -> bool:
        return self.status == "running"


def start_upload(ws: Workspace, files: Sequence[tuple[str, IO[bytes]]], user: str, label: str = "",
                 received: date | None = None) -> str:
    """Write the uploads into inbox/ (now, in the caller's request) and read them in a background thread; returns
    the job's id for `upload_job`."""
    stored = store_uploads(ws, files)
    job_id = secrets.token_urlsafe(12)
    store.insert_upload_job(ws.db, job_id, user, json.dumps([s.original for s in stored], ensure_ascii=False))
    with _LIVE_GUARD:
        _LIVE.add(job_id)
    threading.Thread(target=_run_job, args=(ws.home, job_id, stored, user, label, received), daemon=True,
                     name=f"upload-{job_id}").start()
    return job_id


def _run_job(home: Path, job_id: str, stored: Sequence[Stored], user: str, label: str, received: date | None) -> None:
    ws = open_workspace(home)
    try:
        def progress(p: batch.Progress) -> None:
            store.update_upload_job(ws.db, job_id, progress_json=json.dumps(
                {"files_done": p.files_done, "pages_done": p.pages_done, "current": p.current}, ensure_ascii=False))

        with _ONE_AT_A_TIME:
            result = ingest_uploads(ws, stored, user, label, received, progress)
        store.update_upload_job(ws.db, job_id, status="done", finished_at=store.now_iso(),
                                result_json=json.dumps(dataclasses.asdict(result), ensure_ascii=False))
    except Exception as exc:          # a thread has nobody to raise to: the job's page tells the admin
        message = exc.message if isinstance(exc, AnkietaError) else f"Błąd wewnętrzny ({type(exc).__name__}: {exc})."
        with contextlib.suppress(AnkietaError):
            store.update_upload_job(ws.db, job_id, status="failed", finished_at=store.now_iso(),
                                    message=message + " Pliki, których nie wczytano, czekają w folderze inbox/ na "
                                                      "następne wczytywanie.")
    finally:
        with _LIVE_GUARD:
            _LIVE.discard(job_id)
        ws.db.close()


def _result_from(data: dict[str, Any]) -> UploadResult:
    files = tuple(FileOutcome(**{**f, "sheets": tuple(f["sheets"]),
                                 "rejected_pages": tuple(tuple(p) for p in f["rejected_pages"])}) for f in data["files"])
    return UploadResult(files, int(data["batch_id"]), str(data.get("locked_message", "")))


def _job_from(row: dict[str, Any]) -> UploadJob:
    progress = json.loads(row["progress_json"] or "{}")
    status = row["status"]
    with _LIVE_GUARD:
        if status == "running" and row["id"] not in _LIVE:
            status = "interrupted"      # the server stopped during the run (or another server process runs it)
    return UploadJob(row["id"], row["user"], row["created_at"], status, tuple(json.loads(row["files_json"] or "[]")),
                     int(progress.get("files_done", 0)), int(progress.get("pages_done", 0)), str(progress.get("current", "")),
                     _result_from(json.loads(row["result_json"])) if row["result_json"] else None, row["message"] or "")


def upload_job(ws: Workspace, job_id: str) -> UploadJob | None:
    row = store.get_upload_job(ws.db, job_id)
    return _job_from(row) if row else None


def recent_upload_jobs(ws: Workspace, limit: int = 5) -> list[UploadJob]:
    return [_job_from(r) for r in store.recent_upload_jobs(ws.db, limit)]
