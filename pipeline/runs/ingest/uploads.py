"""Scans uploaded through the browser (run layer): written into the inbox, then read by the same ingest run
as the night's, with its readiness, quarantine, exactly-once and locking rules.

Design: synchronous, with a limit. The request writes every file into inbox/ under a temporary name the
ingest skips (a hidden `.part` name), fsyncs it and renames it to its final name, then runs `batch.ingest`
on exactly those files and returns the result per file. Synchronous because the result is what the person
at the desk is waiting for, the run's lock and one-transaction-per-file guarantees are the night's own, and
no job state has to survive a server restart; the limit (config UPLOAD_MAX_FILES, UPLOAD_MAX_BYTES: tens of
sheets, about a minute of reading) keeps the request short. Bigger stacks belong on the scanner's share for
the night. When another run holds the lock (the night's, or a second upload) nothing waits: the files stay
in inbox/ under their final names and the next run reads them (a fresh file is younger than the inbox's
minimum age, so a watching run does not take it half-way either).
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

from pipeline import store
from pipeline.base import config as C
from pipeline.base.errors import InvalidInput, Locked
from pipeline.runs.ingest import batch
from pipeline.runs.workspace import Workspace

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
    base = re.sub(r"[^\w.\-]+", "_", base).strip("._~-")[:C.UPLOAD_NAME_MAX_CHARS]
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
                   received: date | None = None) -> UploadResult:
    """Read the stored uploads now (the night's rules); when another run holds the lock, leave them."""
    names = [s.name for s in stored]
    store.audit(ws.db, user, "scan.upload", {"files": names, "bytes": sum(s.size for s in stored), "label": label})
    try:
        summary = batch.ingest(ws, [s.path for s in stored], label=label or "przesłane przez przeglądarkę",
                               workers=C.UPLOAD_INGEST_WORKERS, min_age_s=0, settle_s=0, received=received)
    except Locked as exc:
        waiting = tuple(FileOutcome(s.original, s.name, "waiting", "Plik czeka w folderze inbox/ na następne "
                                    "wczytywanie.") for s in stored)
        return UploadResult(waiting, 0, f"{exc.message} Przesłane pliki zostały zapisane w folderze inbox/ i zostaną "
                                        "wczytane w następnym przebiegu (np. nocnym); nie wysyłaj ich ponownie.")
    return UploadResult(tuple(_outcome(ws, s, summary) for s in stored), summary.batch_id)


def upload_and_ingest(ws: Workspace, files: Sequence[tuple[str, IO[bytes]]], user: str, label: str = "",
                      received: date | None = None) -> UploadResult:
    return ingest_uploads(ws, store_uploads(ws, files), user, label, received)
