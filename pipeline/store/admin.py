"""Queries and writes of the administrator's panel: dashboard figures, the report-first rule's facts,
account switches, the audit log, and what one uploaded file became."""

from __future__ import annotations

from typing import Any

from pipeline.store.base import DB, _t, audit, now_iso

# --- responses (the dashboard and the report-first rule) ---------------------------------------------


def responses_by_channel(db: DB, date_from: str, date_to: str) -> dict[str, dict[str, int]]:
    """Non-duplicate sheets received in [date_from, date_to] (ISO days, inclusive) per channel:
    {"paper": {"all": n, "review": k}, ...}. Scanned sheets written before channels existed count as paper."""
    found = db.query(
        "select coalesce(nullif(channel, ''), 'paper') as channel, count(*) as n, "
        "sum(case when status = 'review' then 1 else 0 end) as review from sheets "
        "where status != 'duplicate' and substr(received_at, 1, 10) between ? and ? group by 1", [date_from, date_to])
    return {r["channel"]: {"all": int(r["n"]), "review": int(r["review"] or 0)} for r in found}


def response_extent(db: DB) -> dict[str, Any]:
    """How many responses (non-duplicate sheets, any channel) exist and the latest day one was received."""
    row = next(iter(db.query("select count(*) as n, max(substr(received_at, 1, 10)) as last_received from sheets "
                             "where status != 'duplicate'")))
    return {"n": int(row["n"]), "last_received": row["last_received"] or ""}


def sheet_count(db: DB) -> int:
    """Every sheet row ever recorded (responses, rescans, any channel). Sheets are never deleted, so the count
    only grows: a report stores it, and a larger count later means something was recorded since."""
    return int(next(iter(db.query("select count(*) as n from sheets")))["n"])


def earliest_received_after(db: DB, day: str) -> str:
    """The earliest day after `day` (ISO; "" = ever) on which a response was received, or ""."""
    row = next(iter(db.query("select min(substr(received_at, 1, 10)) as d from sheets where status != 'duplicate' "
                             "and substr(received_at, 1, 10) > ?", [day])))
    return str(row["d"] or "")


def open_review_counts(db: DB) -> dict[str, int]:
    """Open review items and the sheets they sit on (discarded rescans' own boxes are nobody's work)."""
    row = next(iter(db.query(
        "select count(*) as items, count(distinct ri.sheet_id) as sheets from review_items ri "
        "join sheets s on s.id = ri.sheet_id where ri.status = 'open' and (s.status != 'duplicate' or ri.kind = 'duplicate')")))
    return {"items": int(row["items"]), "sheets": int(row["sheets"])}


def latest_batch(db: DB) -> dict[str, Any] | None:
    found = list(db.query("select * from batches order by id desc limit 1"))
    return found[0] if found else None


def get_report(db: DB, report_id: int) -> dict[str, Any] | None:
    found = list(db.query("select * from reports where id = ?", [report_id]))
    return found[0] if found else None


def all_departments(db: DB) -> list[dict[str, Any]]:
    """Every department, active or not (the office page offers to bring a deactivated one back)."""
    return list(db.query("select id, name, position, active from departments order by active desc, position, id"))


# --- accounts and the audit log -------------------------------------------------------------------


def set_user_active(db: DB, by: str, name: str, active: bool) -> None:
    with db.atomic():
        _t(db, "users").update(name, {"active": int(active)})
        audit(db, by, "user.enable" if active else "user.disable", {"name": name})


def set_password_hash(db: DB, by: str, name: str, password_hash: str) -> None:
    with db.atomic():
        _t(db, "users").update(name, {"password_hash": password_hash})
        audit(db, by, "user.password", {"name": name})


def audit_entries(db: DB, offset: int, limit: int) -> list[dict[str, Any]]:
    """The audit log, newest first."""
    return list(db.query("select * from audit_log order by id desc limit ? offset ?", [limit, offset]))


def audit_count(db: DB) -> int:
    return int(next(iter(db.query("select count(*) as n from audit_log")))["n"])


# --- what an uploaded file became -------------------------------------------------------------------


def file_outcome(db: DB, sha: str, name: str, batch_id: int) -> dict[str, Any]:
    """The ingest's record of one file in one batch: its `files` row (or None), the sheets its pages
    joined, open review items on them, and its quarantine rows (whole file: page_index None)."""
    files = list(db.query("select * from files where sha256 = ?", [sha]))
    sheets = [r["sheet_id"] for r in db.query(
        "select distinct sheet_id from pages where file_sha256 = ? and status = 'read' order by sheet_id", [sha])]
    review = 0
    if sheets:
        marks = ", ".join("?" for _ in sheets)
        review = int(next(iter(db.query(
            f"select count(*) as n from review_items where status = 'open' and sheet_id in ({marks})", sheets)))["n"])
    quarantined = list(db.query(
        "select page_index, reason, message from quarantine where batch_id = ? and file_name = ? "
        "and (file_sha256 = ? or file_sha256 = '') order by page_index", [batch_id, name, sha]))
    blank = int(next(iter(db.query("select count(*) as n from pages where file_sha256 = ? and status = 'blank'",
                                   [sha])))["n"])
    return {"file": files[0] if files else None, "sheets": sheets, "review_items": review, "quarantined": quarantined,
            "blank_pages": blank}



# --- uploads read in the background -----------------------------------------------------------------

def insert_upload_job(db: DB, job_id: str, user: str, files_json: str) -> None:
    with db.atomic():
        _t(db, "upload_jobs").insert({"id": job_id, "user": user, "created_at": now_iso(), "status": "running",
                                      "files_json": files_json, "progress_json": "{}", "result_json": "",
                                      "message": "", "finished_at": ""})


def update_upload_job(db: DB, job_id: str, **fields: str) -> None:
    """Progress (progress_json) while it runs; status, result_json, message and finished_at when it ends."""
    with db.atomic():
        _t(db, "upload_jobs").update(job_id, dict(fields))


def get_upload_job(db: DB, job_id: str) -> dict[str, Any] | None:
    found = list(db.query("select * from upload_jobs where id = ?", [job_id]))
    return found[0] if found else None


def recent_upload_jobs(db: DB, limit: int) -> list[dict[str, Any]]:
    return list(db.query("select * from upload_jobs order by created_at desc, rowid desc limit ?", [limit]))
