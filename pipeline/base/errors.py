"""Exceptions the library raises, each carrying a Polish message for the user and an exit code.

The CLI turns these into a clean message and the documented exit code; nothing else in the package
prints. Messages say what was wrong and what to do about it.
"""

from __future__ import annotations

import errno


class ExitCode:
    """Documented exit codes of the `ankieta` command (README, "Kody wyjścia")."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    QUARANTINED = 3      # the run finished, but some files or pages were quarantined
    LOCKED = 4           # another ingest holds the workspace lock
    NO_WORKSPACE = 5     # the workspace does not exist or is not initialised
    INVALID_INPUT = 6    # a layout file, form name or argument is wrong
    NOT_ALLOWED = 7      # the action is refused by a rule (e.g. report-first before editing)
    BUSY = 8             # the database stayed busy (another process writing) longer than the wait bound
    STORAGE = 9          # the disk is full or refused a read/write (the database stays consistent)


class AnkietaError(Exception):
    """Base class: an expected failure with a message meant for the person at the keyboard."""

    exit_code = ExitCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WorkspaceMissing(AnkietaError):
    exit_code = ExitCode.NO_WORKSPACE


class LayoutError(AnkietaError):
    """A layout file does not match the schema; the message names file, place and the fix."""

    exit_code = ExitCode.INVALID_INPUT


class NotFound(AnkietaError):
    exit_code = ExitCode.INVALID_INPUT


class InvalidInput(AnkietaError):
    exit_code = ExitCode.INVALID_INPUT


class Locked(AnkietaError):
    exit_code = ExitCode.LOCKED


class NotAllowed(AnkietaError):
    exit_code = ExitCode.NOT_ALLOWED


class PageRejected(AnkietaError):
    """A page cannot be read as one of our sheets (foreign, blank, unregistrable).

    `code` is a stable machine-readable reason (used in exports and the quarantine); `message` is Polish.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class InputDamaged(AnkietaError):
    """A scan file is unreadable, truncated, encrypted or otherwise unusable as a whole."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class DatabaseBusy(AnkietaError):
    """Another process held the database's write lock longer than the wait bound (config DB_BUSY_TIMEOUT_S).
    Nothing of the refused action was written; trying again later is safe."""

    exit_code = ExitCode.BUSY


class StorageFailed(AnkietaError):
    """The operating system refused a write or read (disk full, I/O error, permissions). What was committed
    before stays; the interrupted step left nothing half-written, so a rerun after the fix recovers."""

    exit_code = ExitCode.STORAGE

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message     # short, for a sentence that tells what the run did before it

    def __reduce__(self) -> tuple[type[StorageFailed], tuple[str, str]]:     # raised in reader processes too
        return (type(self), (self.message, self.reason))


_OS_REASONS = {errno.ENOSPC: "brak miejsca na dysku", errno.EDQUOT: "przekroczony przydział miejsca na dysku",
               errno.EFBIG: "plik przekroczył rozmiar dozwolony przez system", errno.EACCES: "brak uprawnień",
               errno.EPERM: "brak uprawnień", errno.EROFS: "dysk jest tylko do odczytu",
               errno.EIO: "błąd odczytu/zapisu dysku"}


def os_reason(exc: BaseException) -> str:
    """A short Polish reason for an operating-system error (disk full, no permission...), naming the file."""
    if not isinstance(exc, OSError):
        return str(exc)
    reason = _OS_REASONS.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    return f"{reason}{f' ({exc.filename})' if exc.filename else ''}"
