"""Responses entered without boxes (the online survey, paper surveys typed in by hand): one sheet row plus
its answer rows, written exactly once.

Privacy (online responses): the caller passes only the day (received_at, created_at), never an address,
user agent or cookie. Rows also get a random SQLite rowid, so the physical order of the `sheets` and
`answers` tables does not replay the order of submissions either (an auto-incremented rowid would let
anyone holding the database and a web-server log pair the k-th response of a day with the k-th POST).
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from pipeline.store.base import DB, audit

_ROWID_LIMIT = 1 << 62          # random rowids stay below this, so an ordinary insert's max(rowid) + 1 still fits
_SHEET_COLUMNS = ("id", "form", "version", "serial", "channel", "batch_id", "batch_label", "received_at", "created_at",
                  "pages_expected", "status", "duplicate_of")


def _rowid() -> int:
    return secrets.randbelow(_ROWID_LIMIT - 1) + 1


def insert_response(db: DB, sheet: Mapping[str, Any], answers: Iterable[tuple[str, str, str]], *,
                    user: str = "", audit_details: Mapping[str, Any] | None = None) -> bool:
    """Store one response (sheet row + answers as (question, row, value)) in one transaction. Returns False,
    storing nothing, when a sheet with this id exists already (the same form sent twice: a double click, a
    repeated POST). With `user`, the entry is also written to the audit log (hand entry; never online)."""
    row = {"serial": "", "batch_id": None, "batch_label": "", "pages_expected": 0, "status": "final",
           "duplicate_of": "", **sheet}
    cols = ", ".join(_SHEET_COLUMNS)
    marks = ", ".join("?" for _ in _SHEET_COLUMNS)
    items = list(answers)
    for _attempt in range(3):
        try:
            # db.atomic(): this process's writer queue, then BEGIN IMMEDIATE (store/connection.py), so a
            # response waits for the night's ingest instead of failing
            with db.atomic():
                db.execute(f"insert into sheets (rowid, {cols}) values (?, {marks})",
                           [_rowid(), *(row[c] for c in _SHEET_COLUMNS)])
                db.conn.executemany("insert into answers (rowid, sheet_id, question, row, value) values (?, ?, ?, ?, ?)",
                                    [(_rowid(), row["id"], q, r, v) for q, r, v in items])
                if user:
                    audit(db, user, "response.enter", {"sheet": row["id"], **(audit_details or {})})
            return True
        except sqlite3.IntegrityError:
            if sheet_exists(db, row["id"]):
                return False
            # otherwise two random rowids collided (p ~ n / 2^62): draw again
    raise RuntimeError("could not store the response")   # pragma: no cover - three rowid collisions in a row


def sheet_exists(db: DB, sheet_id: str) -> bool:
    return bool(next(iter(db.query("select count(*) as n from sheets where id = ?", [sheet_id])))["n"])


def get_sheet(db: DB, sheet_id: str) -> dict[str, Any] | None:
    found = list(db.query("select * from sheets where id = ?", [sheet_id]))
    return found[0] if found else None


def version_key(db: DB, form: str, version: int | None = None) -> tuple[int, str] | None:
    """(version, layout hash) of a form's given or latest published version, without parsing its layout: a
    frozen version never changes, so callers may cache what they built from it under this key."""
    if version is None:
        found = list(db.query("select version, layout_hash from form_versions where form = ? order by version desc limit 1",
                              [form]))
    else:
        found = list(db.query("select version, layout_hash from form_versions where form = ? and version = ?",
                              [form, version]))
    return (int(found[0]["version"]), str(found[0]["layout_hash"])) if found else None
