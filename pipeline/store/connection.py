"""How every process and thread shares the one SQLite file: connections, write transactions, lock errors.

The rules (README "Praca wielu osób naraz"; NOTES.md "SQLite across processes"):
- every connection waits for a busy database (PRAGMA busy_timeout = config DB_BUSY_TIMEOUT_S) instead of
  failing at once;
- every write transaction starts with BEGIN IMMEDIATE (`Database.atomic()`, also used by sqlite-utils' own
  table methods): the write lock is taken, waiting as long as needed, *before* anything is read. A deferred
  BEGIN that reads first and writes later cannot wait: when another process committed in between, SQLite
  refuses the upgrade at once with "database is locked" (SQLITE_BUSY_SNAPSHOT), and no busy timeout helps.
  That was the ingest's crash in `set_file_archived` and the reviewers' HTTP 500s;
- within one process, writers queue on a Python lock per database file before BEGIN IMMEDIATE. Not for
  correctness (SQLite serialises writers across processes by itself) but for latency: a thread waiting in
  SQLite's busy handler polls with sleeps of up to 100 ms, while a lock hands over in microseconds (in the
  survey load test that polling was the whole latency tail). It replaces the survey's old write lock;
- a wait longer than the bound, a full disk or an I/O error come out as our own exceptions
  (errors.DatabaseBusy, errors.StorageFailed) with a Polish message, never as a bare sqlite3 error; the
  transaction is rolled back, so nothing is half-written.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from pipeline.base import config as C
from pipeline.base.errors import DatabaseBusy, StorageFailed

BUSY_MESSAGE = ("Baza danych jest zajęta dłużej niż {s:.0f} s (zapisuje inny proces, np. wczytywanie skanów). "
                "Nic nie zostało zapisane; spróbuj ponownie za chwilę.")
FULL_MESSAGE = ("Brak miejsca na dysku: baza danych nie przyjęła zapisu ({detail}). Nic z przerwanej czynności nie "
                "zostało zapisane; zwolnij miejsce na dysku i spróbuj ponownie.")
IO_MESSAGE = ("Błąd dysku przy zapisie do bazy danych ({detail}). Nic z przerwanej czynności nie zostało zapisane; "
              "sprawdź dysk i uprawnienia i spróbuj ponownie.")

_PROCESS_LOCKS: dict[str, threading.RLock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()


def _process_lock(key: str) -> threading.RLock:
    with _PROCESS_LOCKS_GUARD:
        lock = _PROCESS_LOCKS.get(key)
        if lock is None:
            lock = _PROCESS_LOCKS[key] = threading.RLock()
        return lock


def translate(exc: sqlite3.OperationalError, timeout_s: float) -> Exception:
    """Our exception for a lock held too long, a full disk or an I/O error; anything else unchanged."""
    code = int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return DatabaseBusy(BUSY_MESSAGE.format(s=timeout_s))
    if code == sqlite3.SQLITE_FULL:
        return StorageFailed(FULL_MESSAGE.format(detail=exc), f"brak miejsca na dysku dla bazy danych ({exc})")
    if code in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY):
        return StorageFailed(IO_MESSAGE.format(detail=exc), f"błąd dysku przy zapisie bazy danych ({exc})")
    return exc


class Connection(sqlite3.Connection):
    """A sqlite3 connection whose lock, disk-full and I/O errors arrive as our exceptions (see `translate`)."""

    busy_timeout_s: float = C.DB_BUSY_TIMEOUT_S

    def execute(self, *args: Any, **kwargs: Any) -> sqlite3.Cursor:
        return self._guarded(super().execute, *args, **kwargs)

    def executemany(self, *args: Any, **kwargs: Any) -> sqlite3.Cursor:
        return self._guarded(super().executemany, *args, **kwargs)

    def _guarded(self, call: Callable[..., sqlite3.Cursor], *args: Any, **kwargs: Any) -> sqlite3.Cursor:
        try:
            return call(*args, **kwargs)
        except sqlite3.OperationalError as exc:
            mapped = translate(exc, self.busy_timeout_s)
            if mapped is exc:
                raise
            raise mapped from exc


class Database(sqlite_utils.Database):
    """sqlite-utils' Database whose outermost `atomic()` is a BEGIN IMMEDIATE transaction behind this
    process's writer queue; nested blocks stay savepoints. sqlite-utils' own writes (Table.insert, update,
    upsert, create) run inside `atomic()` too, so they follow the same rule."""

    lock_key: str = ""
    busy_timeout_s: float = C.DB_BUSY_TIMEOUT_S

    @contextmanager
    def atomic(self) -> Iterator[Database]:
        if self.conn.in_transaction:
            with super().atomic():
                yield self
            return
        lock = _process_lock(self.lock_key)
        if not lock.acquire(timeout=self.busy_timeout_s):
            raise DatabaseBusy(BUSY_MESSAGE.format(s=self.busy_timeout_s))
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                self.rollback()
                raise
            try:
                self.conn.execute("COMMIT")
            except BaseException:
                self.rollback()
                raise
        finally:
            lock.release()


def connect(path: Path, busy_timeout_s: float | None = None) -> Database:
    """A connection to the workspace database in autocommit mode (transactions only through `atomic()`),
    usable from the thread that did not open it (the web server hands requests to worker threads)."""
    busy_timeout_s = C.DB_BUSY_TIMEOUT_S if busy_timeout_s is None else busy_timeout_s
    try:
        conn = sqlite3.connect(str(path), timeout=busy_timeout_s, isolation_level=None, check_same_thread=False,
                               factory=Connection)
    except sqlite3.OperationalError as exc:
        raise translate(exc, busy_timeout_s) from exc
    assert isinstance(conn, Connection)
    conn.busy_timeout_s = busy_timeout_s
    db = Database(conn)
    db.lock_key = os.path.realpath(path)
    db.busy_timeout_s = busy_timeout_s
    return db
