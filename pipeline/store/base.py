"""Shared core of the workspace database: the audit log and small
helpers every table module uses. Only the `pipeline.store` package touches sqlite_utils."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

import sqlite_utils
from sqlite_utils.db import Table

# The type callers see; every connection is in fact a store.connection.Database (BEGIN IMMEDIATE atomic()).
DB = sqlite_utils.Database


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _t(db: DB, name: str) -> Table:
    table = db[name]
    assert isinstance(table, Table)
    return table


def _insert(db: DB, table: str, row: Mapping[str, Any], *, or_ignore: bool = False) -> int:
    """Insert one row of plain values; return its rowid (meaningless when or_ignore skipped it).

    For the overnight run's per-page writes: Table.insert re-reads the schema (table and view names,
    columns) on every call, which was most of the main process's time while the workers read pages."""
    return int(db.conn.execute(_insert_sql(table, tuple(row), or_ignore), tuple(row.values())).lastrowid or 0)


@cache
def _insert_sql(table: str, columns: tuple[str, ...], or_ignore: bool) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    return f'insert{" or ignore" if or_ignore else ""} into "{table}" ({names}) values ({", ".join("?" * len(columns))})'


def audit(db: DB, user: str, action: str, details: Mapping[str, Any] | str = "") -> None:
    text = details if isinstance(details, str) else json.dumps(details, ensure_ascii=False, sort_keys=True)
    _t(db, "audit_log").insert({"at": now_iso(), "user": user, "action": action, "details": text})



def rows(db: DB, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Read-only query helper (tests, benchmark, diagnostics)."""
    return list(db.query(sql, list(params)))


def _pk(last_pk: Any) -> int:
    assert last_pk is not None
    return int(last_pk)


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
