"""Web accounts: creating users, passwords (werkzeug's scrypt KDF, the policy in runs/passwords.py), login
sessions kept on the server, and throttling of failed logins.

- Sessions: a login opens a row in `web_sessions` (store); the browser's cookie carries only a random token whose
  sha256 names that row. Logout deletes the row, a new password or a disabled account deletes every row of that
  user (the password's owner gets a fresh one), so a cookie copied before any of these opens nothing afterwards.
- Throttling (in memory: a restart forgets it, and the database stays free of login noise) slows a password guesser
  without handing him a way to lock the owner out: failures count per client address, per account and per known
  browser (a device cookie the web app gives a browser after a successful login); after LOGIN_FREE_FAILURES each
  further failure doubles a wait, capped at 15 min for an address but at 1 min for an account, and a browser that
  has logged in before is counted under its own key instead of the account's. So an attacker's address is soon
  blocked, guesses at one account from many addresses are held to about one a minute, and the owner either gets
  straight in (known browser, or another address) or waits at most a minute. Memory is bounded whatever the number
  of names or addresses tried (LOGIN_THROTTLE_MAX_KEYS, least recently failed forgotten first).
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from werkzeug.security import check_password_hash, generate_password_hash

from pipeline import store
from pipeline.base import config as C
from pipeline.base.errors import InvalidInput, NotAllowed, NotFound
from pipeline.runs.passwords import check_password

ROLES = ("admin", "reviewer")
ROLE_LABELS = {"admin": "administrator", "reviewer": "osoba przeglądająca"}
MIN_PASSWORD_CHARS = C.PASSWORD_MIN_CHARS
# A fixed hash to compare against when the user does not exist, so that a missing account costs the same time.
_DUMMY_HASH = generate_password_hash("nie-ma-takiego-konta", method="scrypt")


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    active: bool


def _valid_new(name: str, role: str, password: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{1,39}", name):
        raise InvalidInput(f"Nazwa użytkownika {name!r} jest niepoprawna: 2–40 znaków, litery a-z, cyfry, '.', '-' lub '_'.")
    if role not in ROLES:
        raise InvalidInput(f"Rola {role!r} nie istnieje. Dozwolone: {', '.join(ROLES)}.")
    check_password(password, name)


def add_user(db: store.DB, by: str, name: str, role: str, password: str) -> Account:
    """A new account. An existing name is refused: adding a user never changes someone's role or password (the
    web panel's "add user" cannot demote its own admin or take over another account)."""
    _valid_new(name, role, password)
    if not store.create_user(db, by, name, role, generate_password_hash(password, method="scrypt")):
        raise InvalidInput(f"Konto {name!r} już istnieje. Wybierz inną nazwę; hasło zmienia jego właściciel (Zmień hasło), "
                           "a konto wyłącza się na liście użytkowników.")
    return Account(name, role, True)


def set_user(db: store.DB, by: str, name: str, role: str, password: str) -> Account:
    """Create or reset an account (the server's administrator at the command line: `ankieta users add`). A reset
    sets the role and the password, reactivates the account and ends all its open sessions."""
    _valid_new(name, role, password)
    store.add_user(db, by, name, role, generate_password_hash(password, method="scrypt"))
    store.close_sessions(db, user=name)
    return Account(name, role, True)


def set_active(db: store.DB, by: str, name: str, active: bool) -> Account:
    """Disable or enable an account (a disabled one cannot log in; its open sessions are ended).
    Nobody disables themself: the panel must always keep the administrator who is using it."""
    acc = get_account(db, name)
    if acc is None:
        raise NotFound(f"Nie ma konta {name!r}.")
    if not active and name == by:
        raise NotAllowed("Nie możesz wyłączyć własnego konta. Poproś o to innego administratora.")
    if acc.active != active:
        store.set_user_active(db, by, name, active)
    if not active:
        store.close_sessions(db, user=name)
    return Account(acc.name, acc.role, active)


def change_password(db: store.DB, name: str, old: str, new: str, repeated: str) -> str:
    """The logged-in user's own password: the old one proves it is them, the new one is typed twice. Every session
    of the user ends (a cookie stolen earlier is dead); returns the token of a fresh session for the browser that
    made the change."""
    if authenticate(db, name, old) is None:
        raise InvalidInput("Obecne hasło jest nieprawidłowe.")
    if new != repeated:
        raise InvalidInput("Powtórzone hasło różni się od nowego hasła.")
    if new == old:
        raise InvalidInput("Nowe hasło musi się różnić od obecnego.")
    try:
        check_password(new, name)
    except InvalidInput as exc:
        raise InvalidInput("Nowe hasło: " + exc.message[0].lower() + exc.message[1:]) from None
    store.set_password_hash(db, name, name, generate_password_hash(new, method="scrypt"))
    store.close_sessions(db, user=name)
    return open_session(db, name)


def get_account(db: store.DB, name: str) -> Account | None:
    row = store.get_user(db, name)
    return Account(row["name"], row["role"], bool(row["active"])) if row else None


def authenticate(db: store.DB, name: str, password: str) -> Account | None:
    row = store.get_user(db, name)
    ok = check_password_hash(row["password_hash"] if row else _DUMMY_HASH, password)
    if not (row and ok and row["active"]):
        return None
    return Account(row["name"], row["role"], True)


# --- sessions ----------------------------------------------------------------------------------------

def _session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(db: store.DB, name: str, hours: float = C.WEB_SESSION_HOURS) -> str:
    """A new login session for `name`; returns the token the browser keeps (the database keeps only its hash)."""
    token = secrets.token_urlsafe(32)
    expires = (datetime.now(UTC) + timedelta(hours=hours)).isoformat(timespec="seconds")
    store.open_session(db, _session_id(token), name, expires)
    return token


def session_account(db: store.DB, token: str) -> Account | None:
    """The account of a live session (None: logged out, expired, replaced by a new password, account disabled)."""
    row = store.session_user(db, _session_id(token)) if token else None
    return Account(row["name"], row["role"], True) if row else None


def close_session(db: store.DB, token: str) -> None:
    store.close_sessions(db, session_id=_session_id(token))


# --- throttling failed logins -------------------------------------------------------------------------

def address_key(address: str) -> str:
    return f"addr:{address}"


def account_key(name: str) -> str:
    return f"user:{name.lower()}"


def device_key(device: str) -> str:
    return f"device:{device}"


class Throttle:
    """Failed logins per key ("addr:…", "user:…", "device:…") with a doubling wait after LOGIN_FREE_FAILURES,
    capped per kind of key (module docstring); thread-safe, in memory, at most `max_keys` keys."""

    def __init__(self, *, free_failures: int = C.LOGIN_FREE_FAILURES, first_delay_s: float = C.LOGIN_FIRST_DELAY_S,
                 address_max_delay_s: float = C.LOGIN_ADDRESS_MAX_DELAY_S,
                 account_max_delay_s: float = C.LOGIN_ACCOUNT_MAX_DELAY_S, forget_s: float = C.LOGIN_FORGET_S,
                 max_keys: int = C.LOGIN_THROTTLE_MAX_KEYS, clock: Callable[[], float] = time.monotonic) -> None:
        self.free_failures = free_failures
        self.first_delay_s = first_delay_s
        self.address_max_delay_s = address_max_delay_s
        self.account_max_delay_s = account_max_delay_s
        self.forget_s = forget_s
        self.max_keys = max_keys
        self.clock = clock
        # key -> (failures, time of the last failure, blocked until); most recently failed last
        self._keys: OrderedDict[str, tuple[int, float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._keys)

    def _cap(self, key: str) -> float:
        return self.address_max_delay_s if key.startswith("addr:") else self.account_max_delay_s

    def retry_after(self, *keys: str) -> int:
        """Whole seconds until an attempt under all of `keys` is allowed (0: allowed now)."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for k in keys:
                entry = self._keys.get(k)
                if entry is not None and now - entry[1] <= self.forget_s:
                    wait = max(wait, entry[2] - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for k in keys:
                count, last, _ = self._keys.pop(k, (0, now, now))
                if now - last > self.forget_s:
                    count = 0
                count += 1
                extra = count - self.free_failures + 1     # the free-th failure already waits
                delay = 0.0 if extra <= 0 else min(self._cap(k), self.first_delay_s * 2 ** min(extra - 1, 30))
                self._keys[k] = (count, now, now + delay)
            while len(self._keys) > self.max_keys:
                self._keys.popitem(last=False)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._keys.pop(k, None)
