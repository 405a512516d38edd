"""The schema history: every migration, in the order it is applied, and opening (migrating) a database.

New tables or columns get a new migration at the end of this file; never edit an applied one.
"""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from pipeline.store.base import DB, _t, now_iso
from pipeline.store.connection import connect

migrations = sqlite_utils.Migrations("ankieta")


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


@migrations()
def m002_reports(db: DB) -> None:
    """Every generated report, archived with its hash and parameters (the ordinances require a report of
    the results so far before the survey or office data changes)."""
    _t(db, "reports").create({
        "id": int, "created_at": str, "user": str, "period_from": str, "period_to": str, "format": str, "path": str,
        "sha256": str, "params_json": str, "sheets": int,
    }, pk="id")


@migrations()
def m003_web(db: DB) -> None:
    """Accounts of the web application, a persistent session secret, and an action id on decisions so that
    one keystroke that writes several decisions (choosing one answer of a double mark) is undone as one."""
    _t(db, "users").create({"name": str, "role": str, "password_hash": str, "active": int, "created_at": str}, pk="name")
    _t(db, "web_settings").create({"key": str, "value": str}, pk="key")
    _t(db, "decisions").add_column("action_id", int)
    _t(db, "decisions").create_index(["action_id"])



@migrations()
def m004_office_public(db: DB) -> None:
    """Office data the public pages need: contact for the accessibility statement, the survey server's URL."""
    for column in ("email", "phone", "coordinator", "public_url", "statement_date"):
        _t(db, "office").add_column(column, str, not_null_default="")


@migrations()
def m005_page_placement(db: DB) -> None:
    """Where the review picture lies on the page (pipeline/reader/page_image.py): JSON {width_px, height_px, to_pt}.
    Pages read before it have NULL: their picture is already upright at the page's size."""
    _t(db, "pages").add_column("image_placement", str)


@migrations()
def m006_web_sessions(db: DB) -> None:
    """Login sessions kept on the server (issue 18): the browser's cookie names a row here (by the sha256 of its
    random token); logout deletes it, a new password deletes all of that user's rows, so a copied cookie is dead."""
    _t(db, "web_sessions").create({"id": str, "user": str, "created_at": str, "expires_at": str}, pk="id")
    _t(db, "web_sessions").create_index(["user"])


@migrations()
def m007_upload_jobs(db: DB) -> None:
    """Scans uploaded through the browser are read in the background (issue 18): one row per upload with its files,
    progress and per-file result, so the request returns at once and the admin watches it (runs/ingest/uploads.py)."""
    _t(db, "upload_jobs").create({"id": str, "user": str, "created_at": str, "status": str, "files_json": str,
                                  "progress_json": str, "result_json": str, "message": str, "finished_at": str}, pk="id")


def open_db(path: Path, busy_timeout_s: float | None = None) -> DB:
    """Open (and migrate) the workspace database. WAL keeps readers unblocked during a night's ingest; every
    write waits for the others (store/connection.py)."""
    db = connect(path, busy_timeout_s)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")   # WAL + NORMAL: durable across app crashes, consistent after power loss
    db.execute("PRAGMA foreign_keys=ON")
    if migrations.pending(db):
        # Under the write lock, so two processes opening a new database at once do not both migrate it:
        # the second finds nothing pending (each migration is a savepoint inside this transaction).
        with db.atomic():
            migrations.apply(db)
    return db
