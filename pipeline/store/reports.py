"""Generated reports (archived with sha256) and responses entered without boxes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pipeline.store.base import DB, _pk, _t, audit, now_iso, to_json

# --- reports ---------------------------------------------------------------------------------------


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
