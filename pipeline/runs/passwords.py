"""The password policy of web accounts: refuse the obvious, explain why in Polish, impose no composition rules.

Following NIST SP 800-63B rather than "one digit and one capital": a password is refused when it is
- shorter than PASSWORD_MIN_CHARS;
- a common password, or one with digits and symbols stuck to its ends (`Password2024!`), or one that is weak once
  the user's own name is taken out of it (`ola-ola-2026` for ola),
  checked after lower-casing, dropping Polish diacritics and undoing the usual letter-for-digit swaps (`p@ssw0rd`).
  The lists ship with the package (runs/data/: Django's 20,000 common passwords and our Polish/office supplement);
- predictable: its estimated entropy is under PASSWORD_MIN_ENTROPY_BITS. The estimate charges a full character
  (log2 of the alphabet the password draws on: lower case, upper case, digits, symbols, Polish letters) only where
  the next character is not the obvious one: a run of one repeated character (`aaaa`), of consecutive characters
  (`abcd`, `4321`) or of neighbours on a keyboard row (`qwerty`) costs one character plus log2 of its length, and a
  password that is one piece repeated (`haslohaslo`) costs that piece plus log2 of the count. `aaaaaaaaaa` is ~8 bits;
  ten random lower-case letters are ~47.
"""

from __future__ import annotations

import gzip
import math
import unicodedata
from functools import cache
from itertools import pairwise
from pathlib import Path

from pipeline.base import config as C
from pipeline.base.errors import InvalidInput

_DATA = Path(__file__).resolve().parent / "data"
_KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
_LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s", "5": "s", "7": "t",
                       "ł": "l", "€": "e"})
_POLISH = "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ"


@cache
def common_passwords() -> frozenset[str]:
    """The shipped lists, normalised (lower case, no diacritics)."""
    with gzip.open(_DATA / "common-passwords.txt.gz", "rt", encoding="utf-8") as fh:
        words = {w.strip() for w in fh}
    local = (_DATA / "pl-common-passwords.txt").read_text("utf-8").splitlines()
    words.update(w.strip() for w in local if w.strip() and not w.startswith("#"))
    return frozenset(_plain(w) for w in words if w)


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("ł", "l"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _core(text: str) -> str:
    """The word inside: digits and symbols stripped from both ends (`!Haslo2024` -> `haslo`)."""
    return text.strip("0123456789!@#$%^&*()_+-=[]{};:'\",.<>/?\\|`~ ")


def _variants(password: str) -> set[str]:
    plain = _plain(password)
    out = {plain, _core(plain), plain.translate(_LEET), _core(plain).translate(_LEET)}
    return {v for v in out if len(v) >= 4}


def _alphabet(password: str) -> int:
    size = 0
    size += 26 if any(c.islower() and c.isascii() for c in password) else 0
    size += 26 if any(c.isupper() and c.isascii() for c in password) else 0
    size += 10 if any(c.isdigit() for c in password) else 0
    size += 33 if any(not c.isalnum() and c.isascii() for c in password) else 0
    size += 18 if any(c in _POLISH for c in password) else 0
    size += 100 if any(not c.isascii() and c not in _POLISH for c in password) else 0
    return max(size, 2)


def _step(a: str, b: str) -> tuple[str, int] | None:
    """How b follows a when it is the obvious next character: the same one, the next or previous one (`ab`, `21`),
    a neighbour on a keyboard row (`qw`); None otherwise."""
    a, b = a.lower(), b.lower()
    if a == b:
        return ("same", 0)
    if abs(ord(a) - ord(b)) == 1:
        return ("order", ord(b) - ord(a))
    for row in _KEYBOARD_ROWS:
        if a in row and b in row and abs(row.index(a) - row.index(b)) == 1:
            return ("keys", row.index(b) - row.index(a))
    return None


def entropy_bits(password: str) -> float:
    """A conservative estimate of the password's entropy in bits (module docstring)."""
    if not password:
        return 0.0
    n = len(password)
    for size in range(1, n // 2 + 1):          # one piece repeated: "haslohaslo", "abab..."
        if n % size == 0 and password == password[:size] * (n // size):
            return entropy_bits(password[:size]) + math.log2(n // size)
    per_char = math.log2(_alphabet(password))
    bits, run, step = 0.0, 1, None
    for prev, cur in pairwise(password):
        this = _step(prev, cur)
        if this is not None and (run == 1 or this == step):
            run, step = run + 1, this
            continue
        bits += per_char + math.log2(run)
        run, step = 1, None
    return bits + per_char + math.log2(run)


def check_password(password: str, user: str = "") -> None:
    """Raise InvalidInput (Polish: what is wrong and what would do) unless the password is acceptable."""
    hint = " Dobre hasło to np. kilka niezwiązanych słów z odstępami albo znakami między nimi."
    if len(password) < C.PASSWORD_MIN_CHARS:
        raise InvalidInput(f"Hasło jest za krótkie: podaj co najmniej {C.PASSWORD_MIN_CHARS} znaków.{hint}")
    variants = _variants(password)
    if user and (_plain(user) in {_plain(password), _core(_plain(password)), _core(_plain(password)).translate(_LEET)}
                 or entropy_bits(_plain(password).replace(_plain(user), "")) < C.PASSWORD_MIN_ENTROPY_BITS):
        # the user's own name is the first guess: it adds nothing, and what is left must be strong on its own
        raise InvalidInput(f"Hasło nie może opierać się na nazwie użytkownika (bez niej zostaje za mało).{hint}")
    if variants & common_passwords():
        raise InvalidInput(f"To hasło jest na liście najczęściej używanych haseł (także po dopisaniu cyfr czy "
                           f"zamianie liter na cyfry) i zgaduje się je w pierwszej kolejności.{hint}")
    if entropy_bits(password) < C.PASSWORD_MIN_ENTROPY_BITS:
        raise InvalidInput(f"Hasło jest zbyt przewidywalne (powtórzenia, ciągi znaków, sąsiednie klawisze).{hint}")
