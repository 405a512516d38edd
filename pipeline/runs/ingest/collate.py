"""Collate read pages into sheets and commit one file's results in one transaction (run layer).

Pages join sheets by serial (serialised copies) or, for photocopied masters, by stack order: page 1
opens a sheet and following pages with higher numbers of the same form version join it. The same paper
sheet scanned twice (a serial whose page is already stored) becomes a duplicate sheet with a review item,
never a second response. A sheet missing a page is flagged, not dropped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pipeline import store
from pipeline.records.answers import transcription_areas
from pipeline.records.reading import PageReading
from pipeline.runs.ingest.readers import PageOutcome
from pipeline.runs.workspace import Workspace


@dataclass(frozen=True)
class FileResult:
    name: str
    pages: int
    sheets: tuple[str, ...] = ()
    quarantined: tuple[tuple[str, str], ...] = ()
    rejected: dict[str, int] = field(default_factory=dict)


def _day() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def _sheet_for(db: store.DB, reading: PageReading, sha: str,
               open_master: dict[tuple[str, int], tuple[str, int]]) -> tuple[str, str | None]:
    """Choose the sheet a page belongs to; returns (sheet id, duplicate_of or None)."""
    ident = reading.identity
    if ident.serial:
        candidates = [ident.serial] + [f"{ident.serial}~{n}" for n in range(2, 2 + store.duplicate_count(db, ident.serial))]
        for sid in candidates:
            if ident.page not in store.sheet_page_numbers(db, sid):
                return sid, (None if sid == ident.serial else ident.serial)
        new = f"{ident.serial}~{len(candidates) + 1}"
        return new, ident.serial
    key = (ident.form, ident.version)
    current = open_master.get(key)
    if current is not None and ident.page > current[1]:
        open_master[key] = (current[0], ident.page)
        return current[0], None
    sid = f"M-{sha[:10]}-{reading.source.index:04d}"
    open_master[key] = (sid, ident.page)
    return sid, None


def commit_file(ws: Workspace, path: Path, sha: str, batch_id: int, label: str, outcomes: list[PageOutcome],
                record: bool = True, received: str = "", quarantined_whole: bool = False) -> FileResult:
    """Store everything read from one file atomically (the caller files the original away afterwards).
    `record=False` adds pages to a file already stored (a page retried from the quarantine). `received` is the
    day the paper was collected (the report's period uses it); default: today. `quarantined_whole`: the whole
    file goes to quarantine (filing.judge), so its rejected pages get no quarantine rows of their own."""
    db = ws.db
    rejected: Counter[str] = Counter()
    quarantined: list[tuple[str, str]] = []
    touched: list[str] = []
    open_master: dict[tuple[str, int], tuple[str, int]] = {}
    versions: dict[tuple[str, int], store.FormVersion] = {}
    read_any = any(o.reading is not None for o in outcomes)
    with db.atomic():
        if record:
            store.record_file(db, sha=sha, name=path.name, size=path.stat().st_size, batch_id=batch_id,
                              status="read" if read_any else "rejected", pages=len(outcomes))
        for o in outcomes:
            if o.rejected is not None:
                r = o.rejected
                rejected[r.reason] += 1
                store.insert_page(db, {"file_sha256": sha, "file_name": path.name, "page_index": r.index,
                                       "status": "blank" if r.reason == "blank" else "rejected", "reason": r.reason,
                                       "message": r.message, "batch_id": batch_id})
                if r.reason != "blank" and not quarantined_whole:    # blank duplex backs are expected, nothing to act on
                    where = f"{path.name}, strona {r.index + 1}"
                    store.add_quarantine(db, file_name=path.name, file_sha256=sha, page_index=r.index, reason=r.reason,
                                         message=r.message, path="", batch_id=batch_id)
                    quarantined.append((where, r.message))
                continue
            assert o.reading is not None
            rd = o.reading
            ident = rd.identity
            sheet_id, duplicate_of = _sheet_for(db, rd, sha, open_master)
            key = (ident.form, ident.version)
            if key not in versions:      # parsed once per file, not once per page
                versions[key] = store.get_form_version(db, ident.form, ident.version)
            fv = versions[key]
            if sheet_id not in touched:
                touched.append(sheet_id)
            store.ensure_sheet(db, {
                "id": sheet_id, "form": ident.form, "version": ident.version, "serial": ident.serial or "",
                "channel": "paper", "batch_id": batch_id, "batch_label": label, "received_at": received or _day(),
                "created_at": store.now_iso(), "pages_expected": len(fv.geometry.pages),
                "status": "duplicate" if duplicate_of else "review", "duplicate_of": duplicate_of or "",
            })
            reg = rd.registration
            page_id = store.insert_page(db, {
                "file_sha256": sha, "file_name": path.name, "page_index": rd.source.index, "status": "read",
                "form": ident.form, "version": ident.version, "page_number": ident.page, "serial": ident.serial or "",
                "sheet_id": sheet_id, "dpi": rd.source.dpi, "rotated_180": int(reg.rotated_180),
                "markers_found": reg.markers_found, "residual_pt": reg.residual_pt, "image_path": o.image_name,
                "image_placement": store.to_json(o.image_placement) if o.image_placement else None,
                "issues_json": store.to_json(list(rd.issues)), "batch_id": batch_id,
            })
            store.insert_box_values(db, page_id, sheet_id, o.box_values)
            store.insert_text_readings(db, page_id, sheet_id, rd.texts, o.crops)
            for b in rd.boxes:
                if b.state == "uncertain":
                    store.add_review_item(db, sheet_id, "box", b.box_id, b.reason or "niepewne zaznaczenie", batch_id)
            for issue in rd.issues:
                target, _, reason = issue.partition(":")
                store.add_review_item(db, sheet_id, "question", target.strip(), reason.strip() or issue, batch_id)
            marked = {b.box_id for b in rd.boxes if b.state == "marked"}
            needs_text = transcription_areas(fv.layout, marked) | {t.area_id for t in rd.texts if t.has_ink}
            for area in sorted(needs_text):
                store.add_review_item(db, sheet_id, "text", area, "tekst do przepisania", batch_id)
            if duplicate_of:
                store.add_review_item(db, sheet_id, "duplicate", duplicate_of,
                                      f"ten sam arkusz ({duplicate_of}) zeskanowany ponownie: zostaw jeden", batch_id)
        for sheet_id in touched:
            store.check_missing_pages(db, sheet_id, batch_id)
            store.refresh_sheet_status(db, sheet_id)
    return FileResult(path.name, len(outcomes), tuple(touched), tuple(quarantined), dict(rejected))
