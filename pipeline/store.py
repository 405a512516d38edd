"""The workspace database: one SQLite file through sqlite-utils, schema under migrations.

Only this module touches sqlite_utils. Raw measurements (box_readings), the machine's decision (the
state column beside them) and the human's decision (decisions) live in separate tables: re-reading a
scan replaces machine rows only and never a human decision.

Writes that belong together go through `db.atomic()`; the database runs in WAL mode on local disk.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.db import Table

from pipeline.errors import InvalidInput, NotFound
from pipeline.layout import FormLayout, layout_from_dict
from pipeline.records import Department, FormGeometry, Office, geometry_from_dict

DB = sqlite_utils.Database

migrations = sqlite_utils.Migrations("ankieta")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _t(db: DB, name: str) -> Table:
    table = db[name]
    assert isinstance(table, Table)
    return table


@migrations()
def m001_initial(db: DB) -> None:
    _t(db, "office").create({"id": int, "name": str, "address": str, "respondent": str, "contact": str,
                             "updated_at": str}, pk="id")
    _t(db, "departments").create({"id": str, "name": str, "position": int, "active": int}, pk="id")
    _t(db, "form_versions").create({
        "form": str, "version": int, "title": str, "layout_hash": str, "layout_json": str, "geometry_json": str,
        "source_text": str, "published_at": str,
    }, pk=("form", "version"))
    _t(db, "print_jobs").create({"id": int, "form": str, "version": int, "copies": int, "first_serial": str,
                                 "last_serial": str, "created_at": str}, pk="id")
    _t(db, "serials").create({"serial": str, "form": str, "version": int, "print_job": int}, pk="serial",
                             foreign_keys=[("print_job", "print_jobs", "id")])
    _t(db, "batches").create({"id": int, "label": str, "started_at": str, "finished_at": str, "status": str,
                              "files": int, "pages": int, "sheets": int, "review_items": int, "quarantined": int,
                              "seconds": float, "summary_json": str}, pk="id")
    _t(db, "files").create({"sha256": str, "name": str, "size": int, "batch_id": int, "status": str,
                            "pages": int, "ingested_at": str, "archived_as": str}, pk="sha256")
    _t(db, "sheets").create({
        "id": str, "form": str, "version": int, "serial": str, "channel": str, "batch_id": int, "batch_label": str,
        "received_at": str, "created_at": str, "pages_expected": int, "status": str, "duplicate_of": str,
    }, pk="id")
    _t(db, "pages").create({
        "id": int, "file_sha256": str, "file_name": str, "page_index": int, "status": str, "reason": str,
        "message": str, "form": str, "version": int, "page_number": int, "serial": str, "sheet_id": str,
        "dpi": float, "rotated_180": int, "markers_found": int, "residual_pt": float, "image_path": str,
        "issues_json": str, "batch_id": int, "read_at": str,
    }, pk="id")
    _t(db, "pages").create_index(["file_sha256", "page_index"], unique=True)
    _t(db, "pages").create_index(["sheet_id"])
    _t(db, "box_readings").create({
        "page_id": int, "sheet_id": str, "box_id": str, "question": str, "state": str, "confidence": float,
        "metrics_json": str, "reason": str,
    }, pk=("page_id", "box_id"))
    _t(db, "box_readings").create_index(["sheet_id"])
    _t(db, "text_readings").create({
        "page_id": int, "sheet_id": str, "area_id": str, "question": str, "has_ink": int, "ink_ratio": float,
        "draft": str, "ocr_confidence": float, "crop_path": str,
    }, pk=("page_id", "area_id"))
    _t(db, "text_readings").create_index(["sheet_id"])
    _t(db, "answers").create({"sheet_id": str, "question": str, "row": str, "value": str}, pk=("sheet_id", "question", "row"))
    _t(db, "decisions").create({
        "id": int, "sheet_id": str, "kind": str, "target": str, "value": str, "user": str, "decided_at": str,
        "undone_at": str,
    }, pk="id")
    _t(db, "decisions").create_index(["sheet_id"])
    _t(db, "review_items").create({
        "id": int, "sheet_id": str, "kind": str, "target": str, "reason": str, "status": str, "created_at": str,
        "batch_id": int,
    }, pk="id")
    _t(db, "review_items").create_index(["sheet_id", "kind", "target"], unique=True)
    _t(db, "quarantine").create({
        "id": int, "file_name": str, "file_sha256": str, "page_index": int, "reason": str, "message": str,
        "path": str, "batch_id": int, "created_at": str, "status": str,
    }, pk="id")
    _t(db, "audit_log").create({"id": int, "at": str, "user": str, "action": str, "details": str}, pk="id")
    _t(db, "office").insert({"id": 1, "name": "Urząd Gminy", "address": "", "respondent": "klient", "contact": "",
                             "updated_at": now_iso()})


def open_db(path: Path) -> DB:
    """Open (and migrate) the workspace database. WAL keeps readers unblocked during a night's ingest."""
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    db = sqlite_utils.Database(conn)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")   # WAL + NORMAL: durable across app crashes, consistent after power loss
    db.execute("PRAGMA foreign_keys=ON")
    migrations.apply(db)
    return db


def audit(db: DB, user: str, action: str, details: Mapping[str, Any] | str = "") -> None:
    text = details if isinstance(details, str) else json.dumps(details, ensure_ascii=False, sort_keys=True)
    _t(db, "audit_log").insert({"at": now_iso(), "user": user, "action": action, "details": text})


# --- office data ---------------------------------------------------------------------------------

OFFICE_FIELDS = ("name", "address", "respondent", "contact")


def get_office(db: DB) -> Office:
    row = _t(db, "office").get(1)
    deps = tuple(
        Department(r["id"], r["name"])
        for r in _t(db, "departments").rows_where("active = 1", order_by="position, id")
    )
    return Office(name=row["name"], address=row["address"], respondent=row["respondent"], departments=deps,
                  contact=row["contact"])


def set_office(db: DB, user: str, **fields: str) -> Office:
    unknown = set(fields) - set(OFFICE_FIELDS)
    if unknown:
        raise InvalidInput(f"Nieznane pole danych urzędu: {', '.join(sorted(unknown))}. Dozwolone: {', '.join(OFFICE_FIELDS)}.")
    if "respondent" in fields and fields["respondent"] not in ("klient", "interesant"):
        raise InvalidInput("Pole 'respondent' przyjmuje wartość 'klient' albo 'interesant'.")
    with db.atomic():
        _t(db, "office").update(1, {**fields, "updated_at": now_iso()})
        audit(db, user, "office.set", dict(fields))
    return get_office(db)


def add_department(db: DB, user: str, dep_id: str, name: str) -> None:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", dep_id):
        raise InvalidInput(f"Identyfikator komórki {dep_id!r} jest niepoprawny: użyj małych liter a-z, cyfr, '-' lub '_' "
                           "(bez polskich liter i spacji), np. 'usc' albo 'finanse'.")
    if not name.strip():
        raise InvalidInput("Podaj nazwę komórki organizacyjnej.")
    table = _t(db, "departments")
    existing = {r["id"]: r for r in table.rows}
    if dep_id in existing and existing[dep_id]["active"]:
        raise InvalidInput(f"Komórka o identyfikatorze {dep_id!r} już istnieje ({existing[dep_id]['name']}).")
    position = max((r["position"] for r in existing.values()), default=0) + 1
    with db.atomic():
        table.upsert({"id": dep_id, "name": name, "position": position, "active": 1}, pk="id")
        audit(db, user, "department.add", {"id": dep_id, "name": name})


def rename_department(db: DB, user: str, dep_id: str, name: str) -> None:
    table = _t(db, "departments")
    if not table.count_where("id = ? and active = 1", [dep_id]):
        raise NotFound(f"Nie ma komórki {dep_id!r}. Listę pokaże: ankieta office departments list.")
    with db.atomic():
        table.update(dep_id, {"name": name})
        audit(db, user, "department.rename", {"id": dep_id, "name": name})


def remove_department(db: DB, user: str, dep_id: str) -> None:
    """Deactivate (not delete): old answers keep pointing at a department that still has a name."""
    table = _t(db, "departments")
    if not table.count_where("id = ? and active = 1", [dep_id]):
        raise NotFound(f"Nie ma komórki {dep_id!r}. Listę pokaże: ankieta office departments list.")
    with db.atomic():
        table.update(dep_id, {"active": 0})
        audit(db, user, "department.remove", {"id": dep_id})


# --- forms ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FormVersion:
    form: str
    version: int
    title: str
    layout: FormLayout
    geometry: FormGeometry
    layout_hash: str
    published_at: str


def _version_from_row(row: Mapping[str, Any]) -> FormVersion:
    return FormVersion(row["form"], row["version"], row["title"], layout_from_dict(json.loads(row["layout_json"])),
                       geometry_from_dict(json.loads(row["geometry_json"])), row["layout_hash"], row["published_at"])


def publish_form_version(db: DB, user: str, form: str, title: str, layout_hash: str, layout_json: str,
                         geometry_for_version: Any, source_text: str) -> FormVersion:
    """Freeze a form version. The same content as the latest version returns it unchanged; new content
    gets the next version number. `geometry_for_version(version) -> dict` builds the geometry JSON."""
    latest = latest_form_version(db, form)
    if latest is not None and latest.layout_hash == layout_hash:
        return latest
    version = 1 if latest is None else latest.version + 1
    with db.atomic():
        _t(db, "form_versions").insert({
            "form": form, "version": version, "title": title, "layout_hash": layout_hash, "layout_json": layout_json,
            "geometry_json": json.dumps(geometry_for_version(version), ensure_ascii=False), "source_text": source_text,
            "published_at": now_iso(),
        })
        audit(db, user, "form.publish", {"form": form, "version": version})
    found = get_form_version(db, form, version)
    return found


def latest_form_version(db: DB, form: str) -> FormVersion | None:
    rows = list(_t(db, "form_versions").rows_where("form = ?", [form], order_by="version desc", limit=1))
    return _version_from_row(rows[0]) if rows else None


def get_form_version(db: DB, form: str, version: int | None = None) -> FormVersion:
    if version is None:
        latest = latest_form_version(db, form)
        if latest is None:
            raise NotFound(f"Formularz {form!r} nie został jeszcze opublikowany. Wydrukuj go: ankieta forms pdf {form}.")
        return latest
    rows = list(_t(db, "form_versions").rows_where("form = ? and version = ?", [form, version]))
    if not rows:
        known = [str(r["version"]) for r in _t(db, "form_versions").rows_where("form = ?", [form])]
        raise NotFound(f"Nie ma wersji {version} formularza {form!r}."
                       + (f" Dostępne wersje: {', '.join(known)}." if known else " Formularz nie był publikowany."))
    return _version_from_row(rows[0])


def list_form_versions(db: DB) -> list[dict[str, Any]]:
    return list(_t(db, "form_versions").rows_where(select="form, version, title, published_at", order_by="form, version"))


def all_form_versions(db: DB) -> Iterator[FormVersion]:
    for row in _t(db, "form_versions").rows_where(order_by="form, version"):
        yield _version_from_row(row)


def allocate_serials(db: DB, user: str, form: str, version: int, copies: int) -> list[str]:
    """Reserve `copies` new sheet serials, unique across every print run of the workspace."""
    if copies < 1 or copies > 10_000:
        raise InvalidInput("Liczba kopii musi być od 1 do 10000.")
    with db.atomic():
        row = next(iter(db.query("select max(cast(serial as integer)) as m from serials")), {"m": None})
        start = int(row["m"] or 0) + 1
        serials = [f"{n:06d}" for n in range(start, start + copies)]
        job = _t(db, "print_jobs").insert({"form": form, "version": version, "copies": copies, "first_serial": serials[0],
                                           "last_serial": serials[-1], "created_at": now_iso()}).last_pk
        _t(db, "serials").insert_all({"serial": s, "form": form, "version": version, "print_job": job} for s in serials)
        audit(db, user, "form.print", {"form": form, "version": version, "copies": copies,
                                       "serials": f"{serials[0]}-{serials[-1]}"})
    return serials


def rows(db: DB, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict[str, Any]]:
    """Read-only query helper for stages that need reporting data (run, report, web)."""
    return list(db.query(sql, params))


def insert_rows(db: DB, table: str, records: Iterable[Mapping[str, Any]], **kw: Any) -> None:
    _t(db, table).insert_all(records, **kw)
