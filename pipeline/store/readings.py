"""What the ingest run writes (batches, files, pages, sheets, machine readings, review items) and the
queries that read responses back for export, report and review."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from typing import Any

from pipeline.store.base import DB, _insert, _pk, _t, now_iso, to_json

# --- batches, files, pages (written by the ingest run) ----------------------------------------------

def insert_batch(db: DB, label: str) -> int:
    return _pk(_t(db, "batches").insert({"label": label, "started_at": now_iso(), "status": "running", "files": 0,
                                         "pages": 0, "sheets": 0, "review_items": 0, "quarantined": 0}).last_pk)


def finish_batch(db: DB, batch_id: int, fields: Mapping[str, Any]) -> None:
    _t(db, "batches").update(batch_id, {**fields, "status": "done", "finished_at": now_iso()})


def fail_batch(db: DB, batch_id: int, message: str) -> None:
    """A run that stopped on an error (disk full): its row says so; what it committed stays."""
    _t(db, "batches").update(batch_id, {"status": "failed", "finished_at": now_iso(),
                                        "summary_json": to_json({"error": message})})


def file_known(db: DB, sha: str) -> bool:
    return db.execute("select 1 from files where sha256 = ?", [sha]).fetchone() is not None


def record_file(db: DB, *, sha: str, name: str, size: int, batch_id: int, status: str, pages: int) -> None:
    _insert(db, "files", {"sha256": sha, "name": name, "size": size, "batch_id": batch_id, "status": status,
                          "pages": pages, "ingested_at": now_iso(), "archived_as": ""})


def set_file_archived(db: DB, sha: str, archived_as: str) -> None:
    _t(db, "files").update(sha, {"archived_as": archived_as})


def insert_page(db: DB, row: Mapping[str, Any]) -> int:
    return _insert(db, "pages", {**row, "read_at": now_iso()})


def add_quarantine(db: DB, *, file_name: str, file_sha256: str, page_index: int | None, reason: str, message: str,
                   path: str, batch_id: int) -> None:
    _insert(db, "quarantine", {"file_name": file_name, "file_sha256": file_sha256, "page_index": page_index,
                               "reason": reason, "message": message, "path": path, "batch_id": batch_id,
                               "created_at": now_iso(), "status": "open"})


# --- sheets and readings ----------------------------------------------------------------------------

def duplicate_count(db: DB, serial: str) -> int:
    return int(db.execute("select count(*) from sheets where duplicate_of = ?", [serial]).fetchone()[0])


def sheet_page_numbers(db: DB, sheet_id: str) -> set[int]:
    return {r["page_number"] for r in db.query("select page_number from pages where sheet_id = ? and status = 'read'",
                                               [sheet_id])}


def ensure_sheet(db: DB, row: Mapping[str, Any]) -> None:
    if db.execute("select 1 from sheets where id = ?", [row["id"]]).fetchone() is None:
        _insert(db, "sheets", row)


def box_values(readings: Iterable[Any]) -> tuple[tuple[Any, ...], ...]:
    """The stored form of machine box readings, without page and sheet: (box_id, question, state, confidence,
    metrics_json, reason). Pure, so the overnight run computes it in its workers."""
    return tuple((b.box_id, b.box_id.split(".")[0], b.state, round(float(b.confidence), 4), metrics_json(b.metrics),
                  b.reason) for b in readings)


def metrics_json(metrics: Mapping[str, float]) -> str:
    """A box's metrics as JSON with 4 decimals, keys sorted: once parsed, the same as to_json of the values
    rounded to 4 places (a correctly rounded "%.4f" reads back as the same float as round(v, 4)), but one
    string format per value: json.dumps and round() on ~850 values a page were ~3 ms of every page."""
    ordered, fmt = _metrics_layout(tuple(metrics))
    values = tuple(float(metrics[k]) for k in ordered)
    if not all(map(math.isfinite, values)):
        return to_json({k: round(float(v), 4) for k, v in metrics.items()})   # NaN/inf: as JSON writes them
    return fmt % values


@cache
def _metrics_layout(keys: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
    """For one set of metric names: the names sorted, and the JSON format string of their values."""
    ordered = tuple(sorted(keys))
    return ordered, "{" + ", ".join(json.dumps(k).replace("%", "%%") + ": %.4f" for k in ordered) + "}"


def insert_box_values(db: DB, page_id: int, sheet_id: str, values: Iterable[tuple[Any, ...]]) -> None:
    """Machine readings of one page (raw metrics + machine state, from box_values). Replaces only this page's
    machine rows. Plain executemany: Table.insert_all re-reads the table's schema on every call, which was
    most of the overnight run's database time (one call per page)."""
    db.conn.executemany(
        "insert or replace into box_readings (page_id, sheet_id, box_id, question, state, confidence, metrics_json, "
        "reason) values (?, ?, ?, ?, ?, ?, ?, ?)", [(page_id, sheet_id, *v) for v in values])


def insert_box_readings(db: DB, page_id: int, sheet_id: str, readings: Iterable[Any]) -> None:
    insert_box_values(db, page_id, sheet_id, box_values(readings))


def insert_text_readings(db: DB, page_id: int, sheet_id: str, texts: Iterable[Any], crops: Mapping[str, str]) -> None:
    db.conn.executemany(
        "insert or replace into text_readings (page_id, sheet_id, area_id, question, has_ink, ink_ratio, draft, "
        "ocr_confidence, crop_path) values (?, ?, ?, ?, ?, ?, null, null, ?)",
        [(page_id, sheet_id, t.area_id, t.area_id.split(".")[0], int(t.has_ink), round(float(t.ink_ratio), 5),
          crops.get(t.area_id, "")) for t in texts])


def pending_text_drafts(db: DB) -> list[tuple[int, str, str]]:
    return [(r["page_id"], r["area_id"], r["crop_path"]) for r in
            db.query("select page_id, area_id, crop_path from text_readings where crop_path != '' and draft is null "
                     "order by page_id, area_id")]


def set_text_draft(db: DB, page_id: int, area_id: str, text: str, confidence: float) -> None:
    _t(db, "text_readings").update((page_id, area_id), {"draft": text, "ocr_confidence": round(confidence, 3)})


# --- review items -----------------------------------------------------------------------------------

def add_review_item(db: DB, sheet_id: str, kind: str, target: str, reason: str, batch_id: int | None) -> None:
    # or ignore: one item per sheet, kind and target (unique index), however often it is raised
    _insert(db, "review_items", {"sheet_id": sheet_id, "kind": kind, "target": target, "reason": reason,
                                 "status": "open", "created_at": now_iso(), "batch_id": batch_id}, or_ignore=True)


def record_decision(db: DB, sheet_id: str, kind: str, target: str, value: str, user: str) -> int:
    """A human decision (kept beside, never over, the machine's reading). Undo sets undone_at."""
    return _pk(_t(db, "decisions").insert({"sheet_id": sheet_id, "kind": kind, "target": target, "value": value,
                                           "user": user, "decided_at": now_iso(), "undone_at": None}).last_pk)


def check_missing_pages(db: DB, sheet_id: str, batch_id: int) -> None:
    (expected,) = db.execute("select pages_expected from sheets where id = ?", [sheet_id]).fetchone()
    present = sheet_page_numbers(db, sheet_id)
    missing = sorted(set(range(1, expected + 1)) - present)
    if missing:
        reason = "brak strony " + ", ".join(map(str, missing)) + ": dołącz ją albo przyjmij arkusz jako niepełny"
        if db.execute("select 1 from review_items where sheet_id = ? and kind = 'missing-page'", [sheet_id]).fetchone():
            db.execute("update review_items set reason = ? where sheet_id = ? and kind = 'missing-page' and status = 'open'",
                       [reason, sheet_id])
        else:
            add_review_item(db, sheet_id, "missing-page", "", reason, batch_id)
    else:
        db.execute("update review_items set status = 'closed' where sheet_id = ? and kind = 'missing-page'", [sheet_id])


def refresh_sheet_status(db: DB, sheet_id: str) -> str:
    """A sheet is final when nothing on it is open; duplicates stay duplicates until a reviewer keeps one."""
    (current,) = db.execute("select status from sheets where id = ?", [sheet_id]).fetchone()
    if current == "duplicate":
        return "duplicate"
    open_items = db.execute("select 1 from review_items where sheet_id = ? and status = 'open' limit 1", [sheet_id]).fetchone()
    status = "review" if open_items else "final"
    if status != current:
        db.execute("update sheets set status = ? where id = ?", [status, sheet_id])
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
    return list(db.query("select id, page_number, file_name, page_index, image_path, image_placement, rotated_180, "
                         "residual_pt, dpi from pages where sheet_id = ? and status = 'read' order by page_number", [sheet_id]))


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
