"""Choosing the files an ingest run takes: one run at a time, and only files that are complete.

- one run at a time: an exclusive lock file in the workspace; a second run says who holds it;
- a file still being written is not taken (hidden/temporary names, minimum age, size+mtime stable across
  two looks; NOTES.md "Drop folders");
- what is not a regular file (a FIFO, a socket, a device, a dangling link) is reported, never opened.
"""

from __future__ import annotations

import fcntl
import os
import socket
import stat
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from pipeline.base import config as C
from pipeline.base.errors import Locked
from pipeline.runs.workspace import Workspace


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


def special_files(paths: Sequence[Path]) -> list[tuple[Path, str]]:
    """What list_inputs passes over without a word although it is not a hidden or temporary name: FIFOs, sockets,
    devices, links to nothing or to a folder. They are never opened (reading a FIFO would block the run); the run
    reports them with a Polish reason (and leaves them where they are) instead of ignoring them."""
    out: list[tuple[Path, str]] = []
    for p in paths:
        entries = (f for f in p.rglob("*") if not any(part.startswith(".") for part in f.relative_to(p).parts)) \
            if p.is_dir() and not p.is_symlink() else iter([p])
        for f in entries:
            if not _is_candidate_name(f) or f.is_file() or (f.is_dir() and not f.is_symlink()):
                continue
            out.append((f, _special_reason(f)))
    return sorted(out)


def _special_reason(f: Path) -> str:
    try:
        mode = f.stat().st_mode
    except OSError:
        return "dowiązanie symboliczne do pliku, którego nie ma (usuń je albo popraw)"
    if stat.S_ISFIFO(mode):
        return "kolejka FIFO, nie plik skanu (usuń ją z folderu)"
    if stat.S_ISSOCK(mode):
        return "gniazdo (socket), nie plik skanu (usuń je z folderu)"
    if stat.S_ISBLK(mode) or stat.S_ISCHR(mode):
        return "plik urządzenia, nie plik skanu (usuń go z folderu)"
    if stat.S_ISDIR(mode):
        return "dowiązanie do folderu: pliki z niego nie są czytane (połóż skany bezpośrednio w folderze)"
    return "nie jest zwykłym plikiem"


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
