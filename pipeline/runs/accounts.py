"""Web accounts: creating users, checking passwords (werkzeug's scrypt KDF) and throttling failed logins.

Hashing is werkzeug.security's (it ships with Flask): scrypt with a random salt, the method stored in the
hash so it can be raised later. Throttling is in memory: a restart forgets it, which is acceptable for a
single-process office server (waitress) and keeps the database free of login noise.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from dataclasses import dataclass

from werkzeug.security import check_password_hash, generate_password_hash

from pipeline import store
from pipeline.base.errors import InvalidInput, NotAllowed, NotFound

ROLES = ("admin", "reviewer")
ROLE_LABELS = {"admin": "administrator", "reviewer": "osoba przeglądająca"}
MIN_PASSWORD_CHARS = 10
LOGIN_MAX_FAILURES = 5           # per user name and per client address ...
LOGIN_WINDOW_S = 15 * 60         # ... within this window; then refused until the oldest failure ages out
# A fixed hash to compare against when the user does not exist, so that a missing account costs the same time.
_DUMMY_HASH = generate_password_hash("nie-ma-takiego-konta", method="scrypt")


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    active: bool


def add_user(db: store.DB, by: str, name: str, role: str, password: str) -> Account:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{1,39}", name):
        raise InvalidInput(f"Nazwa użytkownika {name!r} jest niepoprawna: 2–40 znaków, litery a-z, cyfry, '.', '-' lub '_'.")
    if role not in ROLES:
        raise InvalidInput(f"Rola {role!r} nie istnieje. Dozwolone: {', '.join(ROLES)}.")
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInput(f"Hasło jest za krótkie: podaj co najmniej {MIN_PASSWORD_CHARS} znaków.")
    store.add_user(db, by, name, role, generate_password_hash(password, method="scrypt"))
    return Account(name, role, True)


def set_active(db: store.DB, by: str, name: str, active: bool) -> Account:
    """Disable or enable an account (a disabled one cannot log in; its open sessions end on the next request).
    Nobody disables themself: the panel must always keep the administrator who is using it."""
    acc = get_account(db, name)
    if acc is None:
        raise NotFound(f"Nie ma konta {name!r}.")
    if not active and name == by:
        raise NotAllowed("Nie możesz wyłączyć własnego konta. Poproś o to innego administratora.")
    if acc.active != active:
        store.set_user_active(db, by, name, active)
    return Account(acc.name, acc.role, active)


def change_password(db: store.DB, name: str, old: str, new: str, repeated: str) -> None:
    """The logged-in user's own password: the old one proves it is them, the new one is typed twice."""
    if authenticate(db, name, old) is None:
        raise InvalidInput("Obecne hasło jest nieprawidłowe.")
    if len(new) < MIN_PASSWORD_CHARS:
        raise InvalidInput(f"Nowe hasło jest za krótkie: podaj co najmniej {MIN_PASSWORD_CHARS} znaków.")
    if new != repeated:
        raise InvalidInput("Powtórzone hasło różni się od nowego hasła.")
    if new == old:
        raise InvalidInput("Nowe hasło musi się różnić od obecnego.")
    store.set_password_hash(db, name, name, generate_password_hash(new, method="scrypt"))


def get_account(db: store.DB, name: str) -> Account | None:
    row = store.get_user(db, name)
    return Account(row["name"], row["role"], bool(row["active"])) if row else None


def authenticate(db: store.DB, name: str, password: str) -> Account | None:
    row = store.get_user(db, name)
    ok = check_password_hash(row["password_hash"] if row else _DUMMY_HASH, password)
    if not (row and ok and row["active"]):
        return None
    return Account(row["name"], row["role"], True)


class Throttle:
    """Failed login attempts per key (user name, client address) in a sliding window; thread-safe."""

    def __init__(self, max_failures: int = LOGIN_MAX_FAILURES, window_s: float = LOGIN_WINDOW_S) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def retry_after(self, *keys: str) -> int:
        """Seconds until another attempt is allowed (0: allowed now)."""
        now = time.monotonic()
        with self._lock:
            waits = [self.window_s - (now - q[0]) for k in keys if len(q := self._recent(k, now)) >= self.max_failures]
        return int(max(waits, default=0)) + (1 if waits else 0)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)
