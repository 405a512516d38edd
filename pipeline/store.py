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


def rows(db: DB, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Read-only query helper (tests, benchmark, diagnostics)."""
    return list(db.query(sql, list(params)))


def _pk(last_pk: Any) -> int:
    assert last_pk is not None
    return int(last_pk)


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


# --- batches, files, pages (written by the ingest run) ----------------------------------------------

def insert_batch(db: DB, label: str) -> int:
    return _pk(_t(db, "batches").insert({"label": label, "started_at": now_iso(), "status": "running", "files": 0,
                                         "pages": 0, "sheets": 0, "review_items": 0, "quarantined": 0}).last_pk)


def finish_batch(db: DB, batch_id: int, fields: Mapping[str, Any]) -> None:
    _t(db, "batches").update(batch_id, {**fields, "status": "done", "finished_at": now_iso()})


def file_known(db: DB, sha: str) -> bool:
    return bool(_t(db, "files").count_where("sha256 = ?", [sha]))


def record_file(db: DB, *, sha: str, name: str, size: int, batch_id: int, status: str, pages: int) -> None:
    _t(db, "files").insert({"sha256": sha, "name": name, "size": size, "batch_id": batch_id, "status": status,
                            "pages": pages, "ingested_at": now_iso(), "archived_as": ""})


def set_file_archived(db: DB, sha: str, archived_as: str) -> None:
    _t(db, "files").update(sha, {"archived_as": archived_as})


def insert_page(db: DB, row: Mapping[str, Any]) -> int:
    return _pk(_t(db, "pages").insert({**row, "read_at": now_iso()}).last_pk)


def add_quarantine(db: DB, *, file_name: str, file_sha256: str, page_index: int | None, reason: str, message: str,
                   path: str, batch_id: int) -> None:
    _t(db, "quarantine").insert({"file_name": file_name, "file_sha256": file_sha256, "page_index": page_index,
                                 "reason": reason, "message": message, "path": path, "batch_id": batch_id,
                                 "created_at": now_iso(), "status": "open"})


# --- sheets and readings ----------------------------------------------------------------------------

def duplicate_count(db: DB, serial: str) -> int:
    return _t(db, "sheets").count_where("duplicate_of = ?", [serial])


def sheet_page_numbers(db: DB, sheet_id: str) -> set[int]:
    return {r["page_number"] for r in db.query("select page_number from pages where sheet_id = ? and status = 'read'",
                                               [sheet_id])}


def ensure_sheet(db: DB, row: Mapping[str, Any]) -> None:
    if not _t(db, "sheets").count_where("id = ?", [row["id"]]):
        _t(db, "sheets").insert(dict(row))


def insert_box_readings(db: DB, page_id: int, sheet_id: str, readings: Iterable[Any]) -> None:
    """Machine readings of one page (raw metrics + machine state). Replaces only this page's machine rows."""
    _t(db, "box_readings").insert_all(
        ({"page_id": page_id, "sheet_id": sheet_id, "box_id": b.box_id, "question": b.box_id.split(".")[0],
          "state": b.state, "confidence": round(float(b.confidence), 4),
          "metrics_json": to_json({k: round(float(v), 4) for k, v in b.metrics.items()}), "reason": b.reason}
         for b in readings), replace=True)


def insert_text_readings(db: DB, page_id: int, sheet_id: str, texts: Iterable[Any], crops: Mapping[str, str]) -> None:
    _t(db, "text_readings").insert_all(
        ({"page_id": page_id, "sheet_id": sheet_id, "area_id": t.area_id, "question": t.area_id.split(".")[0],
          "has_ink": int(t.has_ink), "ink_ratio": round(float(t.ink_ratio), 5), "draft": None, "ocr_confidence": None,
          "crop_path": crops.get(t.area_id, "")} for t in texts), replace=True)


def pending_text_drafts(db: DB) -> list[tuple[int, str, str]]:
    return [(r["page_id"], r["area_id"], r["crop_path"]) for r in
            db.query("select page_id, area_id, crop_path from text_readings where crop_path != '' and draft is null "
                     "order by page_id, area_id")]


def set_text_draft(db: DB, page_id: int, area_id: str, text: str, confidence: float) -> None:
    _t(db, "text_readings").update((page_id, area_id), {"draft": text, "ocr_confidence": round(confidence, 3)})


# --- review items -----------------------------------------------------------------------------------

def add_review_item(db: DB, sheet_id: str, kind: str, target: str, reason: str, batch_id: int | None) -> None:
    _t(db, "review_items").insert({"sheet_id": sheet_id, "kind": kind, "target": target, "reason": reason,
                                   "status": "open", "created_at": now_iso(), "batch_id": batch_id}, ignore=True)


def record_decision(db: DB, sheet_id: str, kind: str, target: str, value: str, user: str) -> int:
    """A human decision (kept beside, never over, the machine's reading). Undo sets undone_at."""
    return _pk(_t(db, "decisions").insert({"sheet_id": sheet_id, "kind": kind, "target": target, "value": value,
                                           "user": user, "decided_at": now_iso(), "undone_at": None}).last_pk)


def check_missing_pages(db: DB, sheet_id: str, batch_id: int) -> None:
    sheet = _t(db, "sheets").get(sheet_id)
    present = sheet_page_numbers(db, sheet_id)
    missing = sorted(set(range(1, sheet["pages_expected"] + 1)) - present)
    items = _t(db, "review_items")
    if missing:
        reason = "brak strony " + ", ".join(map(str, missing)) + ": dołącz ją albo przyjmij arkusz jako niepełny"
        if items.count_where("sheet_id = ? and kind = 'missing-page'", [sheet_id]):
            db.execute("update review_items set reason = ? where sheet_id = ? and kind = 'missing-page' and status = 'open'",
                       [reason, sheet_id])
        else:
            add_review_item(db, sheet_id, "missing-page", "", reason, batch_id)
    else:
        db.execute("update review_items set status = 'closed' where sheet_id = ? and kind = 'missing-page'", [sheet_id])


def refresh_sheet_status(db: DB, sheet_id: str) -> str:
    """A sheet is final when nothing on it is open; duplicates stay duplicates until a reviewer keeps one."""
    sheet = _t(db, "sheets").get(sheet_id)
    if sheet["status"] == "duplicate":
        return "duplicate"
    open_items = _t(db, "review_items").count_where("sheet_id = ? and status = 'open'", [sheet_id])
    status = "review" if open_items else "final"
    if status != sheet["status"]:
        _t(db, "sheets").update(sheet_id, {"status": status})
    return status


def count_open_review_items(db: DB, batch_id: int) -> int:
    return _t(db, "review_items").count_where("batch_id = ? and status = 'open'", [batch_id])


# --- reading back (export, report, review) -----------------------------------------------------------

def _period(column: str, date_from: Any, date_to: Any, where: list[str]) -> list[Any]:
    """Add an inclusive day range on `column` (an ISO date or timestamp) to `where`; returns the params."""
    params: list[Any] = []
    if date_from is not None:
        where.append(f"substr({column}, 1, 10) >= ?")
        params.append(str(date_from))
    if date_to is not None:
        where.append(f"substr({column}, 1, 10) <= ?")
        params.append(str(date_to))
    return params


def sheets_between(db: DB, date_from: Any = None, date_to: Any = None,
                   include_duplicates: bool = False) -> Iterator[dict[str, Any]]:
    where = ["1 = 1"]
    params = _period("received_at", date_from, date_to, where)
    if not include_duplicates:
        where.append("status != 'duplicate'")
    yield from db.query(f"select * from sheets where {' and '.join(where)} order by created_at, id", params)


def sheet_box_states(db: DB, sheet_id: str) -> list[dict[str, Any]]:
    return list(db.query("select box_id, state, confidence, reason, metrics_json, page_id from box_readings "
                         "where sheet_id = ? order by page_id, rowid", [sheet_id]))


def sheet_texts(db: DB, sheet_id: str) -> list[dict[str, Any]]:
    return list(db.query("select * from text_readings where sheet_id = ? order by page_id, area_id", [sheet_id]))


def sheet_pages(db: DB, sheet_id: str) -> list[dict[str, Any]]:
    return list(db.query("select id, page_number, file_name, page_index, image_path, rotated_180, residual_pt, dpi "
                         "from pages where sheet_id = ? and status = 'read' order by page_number", [sheet_id]))


def active_decisions(db: DB, sheet_id: str) -> list[dict[str, Any]]:
    """The human decisions in force: the latest not-undone decision per (kind, target)."""
    return list(db.query(
        "select d.* from decisions d join (select kind, target, max(id) as id from decisions "
        "where sheet_id = ? and undone_at is null group by kind, target) last on last.id = d.id order by d.id",
        [sheet_id]))


def manual_answers(db: DB, sheet_id: str) -> list[dict[str, Any]]:
    return list(db.query("select * from answers where sheet_id = ?", [sheet_id]))


def rejected_pages(db: DB, date_from: Any = None, date_to: Any = None) -> list[dict[str, Any]]:
    where = ["status != 'read'"]
    params = _period("read_at", date_from, date_to, where)
    return list(db.query(f"select file_name, page_index, reason, message from pages where {' and '.join(where)} "
                         "order by id", params))


# --- quarantine -------------------------------------------------------------------------------------

def open_quarantine(db: DB) -> list[dict[str, Any]]:
    return list(db.query("select * from quarantine where status = 'open' order by id"))


def quarantine_item(db: DB, item_id: int) -> dict[str, Any] | None:
    found = list(db.query("select * from quarantine where id = ?", [item_id]))
    return found[0] if found else None


def close_quarantine(db: DB, item_id: int, status: str) -> None:
    _t(db, "quarantine").update(item_id, {"status": status})


def archived_path(db: DB, sha: str) -> str:
    found = list(db.query("select archived_as from files where sha256 = ?", [sha]))
    return str(found[0]["archived_as"]) if found else ""


def forget_rejected_file(db: DB, sha: str) -> None:
    """Drop the record of a file none of whose pages was read, so that retrying it reads it afresh."""
    if _t(db, "files").count_where("sha256 = ? and status = 'rejected'", [sha]):
        db.execute("delete from pages where file_sha256 = ?", [sha])
        db.execute("delete from files where sha256 = ?", [sha])


def delete_rejected_page(db: DB, sha: str, index: int) -> None:
    db.execute("delete from pages where file_sha256 = ? and page_index = ? and status != 'read'", [sha, index])


def form_versions_by_key(db: DB) -> dict[tuple[str, int], FormVersion]:
    return {(fv.form, fv.version): fv for fv in all_form_versions(db)}


# --- reports (owned by the report work: migration m002_reports and its functions go here) -------------

@migrations()
def m002_reports(db: DB) -> None:
    """Every generated report, archived with its hash and parameters (the ordinances require a report of
    the results so far before the survey or office data changes)."""
    _t(db, "reports").create({
        "id": int, "created_at": str, "user": str, "period_from": str, "period_to": str, "format": str, "path": str,
        "sha256": str, "params_json": str, "sheets": int,
    }, pk="id")


def insert_report(db: DB, *, user: str, period_from: str, period_to: str, fmt: str, path: str, sha256: str,
                  params: Mapping[str, Any], sheets: int) -> int:
    with db.atomic():
        rid = _pk(_t(db, "reports").insert({
            "created_at": now_iso(), "user": user, "period_from": period_from, "period_to": period_to, "format": fmt,
            "path": path, "sha256": sha256, "params_json": to_json(params), "sheets": sheets,
        }).last_pk)
        audit(db, user, "report.generate", {"id": rid, "from": period_from, "to": period_to, "format": fmt,
                                            "sha256": sha256})
    return rid


def list_reports(db: DB) -> list[dict[str, Any]]:
    return list(db.query("select * from reports order by id"))


def insert_manual_sheet(db: DB, sheet: Mapping[str, Any], answers: Iterable[tuple[str, str, str]]) -> None:
    """A response entered without boxes (online, typed in from paper): the sheet row plus its answers as
    (question, row, value); value is a box id ("q1.kobieta") or, for a text area, the text (row "#text")."""
    row = {"serial": "", "batch_id": None, "batch_label": "", "created_at": now_iso(), "pages_expected": 0,
           "status": "final", "duplicate_of": "", **sheet}
    with db.atomic():
        _t(db, "sheets").insert(row)
        _t(db, "answers").insert_all(
            {"sheet_id": row["id"], "question": q, "row": r, "value": v} for q, r, v in answers)


def complaint_targets(db: DB) -> set[tuple[str, str]]:
    """(sheet id, text area id) of texts a reviewer flagged as a complaint (decision kind 'complaint',
    in force and not undone). Empty while the review work has not introduced that decision kind."""
    found = db.query(
        "select d.sheet_id, d.target, d.value from decisions d join (select sheet_id, kind, target, max(id) as id "
        "from decisions where kind = 'complaint' and undone_at is null group by sheet_id, kind, target) last "
        "on last.id = d.id")
    return {(r["sheet_id"], r["target"]) for r in found if str(r["value"]).lower() not in ("", "0", "nie", "false", "no")}

# (reports section end)


# --- users, review decisions (owned by the web/review work: migration m003_web and its functions) ------

@migrations()
def m003_web(db: DB) -> None:
    """Accounts of the web application, a persistent session secret, and an action id on decisions so that
    one keystroke that writes several decisions (choosing one answer of a double mark) is undone as one."""
    _t(db, "users").create({"name": str, "role": str, "password_hash": str, "active": int, "created_at": str}, pk="name")
    _t(db, "web_settings").create({"key": str, "value": str}, pk="key")
    _t(db, "decisions").add_column("action_id", int)
    _t(db, "decisions").create_index(["action_id"])


def add_user(db: DB, by: str, name: str, role: str, password_hash: str) -> None:
    """Create or replace an account (replacing = resetting the password and role; it is reactivated)."""
    with db.atomic():
        existed = bool(_t(db, "users").count_where("name = ?", [name]))
        _t(db, "users").upsert({"name": name, "role": role, "password_hash": password_hash, "active": 1,
                                "created_at": now_iso()}, pk="name")
        audit(db, by, "user.change" if existed else "user.add", {"name": name, "role": role})


def get_user(db: DB, name: str) -> dict[str, Any] | None:
    found = list(db.query("select * from users where name = ?", [name]))
    return found[0] if found else None


def list_users(db: DB) -> list[dict[str, Any]]:
    return list(db.query("select name, role, active, created_at from users order by name"))


def web_secret(db: DB, make: Any) -> str:
    """The session-signing secret, created once (`make() -> str`) so sessions survive a restart."""
    found = list(db.query("select value from web_settings where key = 'secret'"))
    if found:
        return str(found[0]["value"])
    _t(db, "web_settings").insert({"key": "secret", "value": make()}, ignore=True)
    return str(next(iter(db.query("select value from web_settings where key = 'secret'")))["value"])


def record_action(db: DB, sheet_id: str, user: str, decisions: Sequence[tuple[str, str, str]]) -> int:
    """Several human decisions (kind, target, value) taken as one action; returns the action id (the id of
    its first decision). Call inside the caller's db.atomic()."""
    at = now_iso()
    action = 0
    for kind, target, value in decisions:
        pk = _pk(_t(db, "decisions").insert({"sheet_id": sheet_id, "kind": kind, "target": target, "value": value,
                                             "user": user, "decided_at": at, "undone_at": None}).last_pk)
        action = action or pk
        _t(db, "decisions").update(pk, {"action_id": action})
    return action


def undo_action(db: DB, sheet_id: str, action_id: int) -> int:
    """Mark an action's decisions undone (kept for the audit trail); returns how many were undone."""
    cur = db.execute("update decisions set undone_at = ? where sheet_id = ? and coalesce(action_id, id) = ? "
                     "and undone_at is null", [now_iso(), sheet_id, action_id])
    return int(cur.rowcount)


def set_review_item_status(db: DB, item_id: int, status: str) -> None:
    _t(db, "review_items").update(item_id, {"status": status})


def set_sheet_duplicate(db: DB, sheet_id: str, duplicate_of: str) -> None:
    """Mark a sheet as a duplicate of another (`duplicate_of`), or, with "", as a response again (status
    recomputed from its open review items)."""
    if duplicate_of:
        _t(db, "sheets").update(sheet_id, {"status": "duplicate", "duplicate_of": duplicate_of})
    else:
        _t(db, "sheets").update(sheet_id, {"status": "review", "duplicate_of": ""})
        refresh_sheet_status(db, sheet_id)

# (web section end)
