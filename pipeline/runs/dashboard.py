"""The administrator's dashboard and printing (run layer): the figures of the first page of the panel,
the half-year presets of the report form, the forms available for printing, and the audited printout.

Periods follow the report's rule: a response belongs to the day it was received (`received_at`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from pipeline import store
from pipeline.base import config as C
from pipeline.base.errors import NotFound
from pipeline.report import periods
from pipeline.report.periods import Period, half_year
from pipeline.runs.editing import ArchivedReport, Gate, archived_report, report_gate
from pipeline.runs.workspace import Workspace, form_pdf

CHANNELS = ("paper", "paper-manual", "online")
CHANNEL_LABELS = {"paper": "papier – skany", "paper-manual": "papier – wprowadzone ręcznie", "online": "internet"}


@dataclass(frozen=True)
class Counts:
    period: Period
    by_channel: dict[str, int]       # every channel of CHANNELS, plus any other found
    in_review: int                   # of them, sheets still waiting for review

    @property
    def total(self) -> int:
        return sum(self.by_channel.values())


@dataclass(frozen=True)
class BatchInfo:
    id: int
    label: str
    status: str                      # running | done
    started_at: str
    finished_at: str
    files: int
    pages: int
    sheets: int
    review_items: int
    quarantined: int
    duplicates: int
    waiting: int
    seconds: float


@dataclass(frozen=True)
class Dashboard:
    half: Counts
    month: Counts
    review_items: int
    review_sheets: int
    last_batch: BatchInfo | None
    quarantine: tuple[dict[str, Any], ...]     # open items: id, file_name, page_index, reason, message, created_at
    reports: tuple[ArchivedReport, ...]        # newest first, at most DASHBOARD_REPORTS_SHOWN
    reports_total: int
    gate: Gate


def current_half(today: date) -> Period:
    return half_year(f"{today.year}H{1 if today.month <= 6 else 2}")


def current_month(today: date) -> Period:
    return periods.month_of(today.year, today.month)


def half_year_presets(today: date, count: int = C.DASHBOARD_HALF_YEAR_PRESETS) -> list[tuple[str, Period]]:
    """('2026H2', II półrocze 2026), then the previous half-years, newest first."""
    out: list[tuple[str, Period]] = []
    year, half = today.year, 1 if today.month <= 6 else 2
    for _ in range(count):
        spec = f"{year}H{half}"
        out.append((spec, half_year(spec)))
        year, half = (year, 1) if half == 2 else (year - 1, 2)
    return out


def period_presets(today: date) -> list[tuple[str, list[tuple[str, Period]]]]:
    """The report form's other periods, newest first, grouped: years (this and two before), quarters (this and
    seven before), months (this and eleven before)."""
    groups = (("Lata", periods.year(today.year), 3), ("Kwartały", periods.quarter_of(today.year, (today.month + 2) // 3), 8),
              ("Miesiące", periods.month_of(today.year, today.month), 12))
    return [(title, [(p.spec, p) for p in (periods.shifted(last, -k) for k in range(count))]) for title, last, count in groups]


def _counts(ws: Workspace, period: Period) -> Counts:
    found = store.responses_by_channel(ws.db, str(period.date_from), str(period.date_to))
    by_channel = {ch: found.get(ch, {}).get("all", 0) for ch in CHANNELS}
    by_channel.update({ch: v["all"] for ch, v in found.items() if ch not in by_channel})
    return Counts(period, by_channel, sum(v["review"] for v in found.values()))


def _batch(row: dict[str, Any] | None) -> BatchInfo | None:
    if row is None:
        return None
    extra = json.loads(row["summary_json"] or "{}")
    return BatchInfo(int(row["id"]), row["label"] or "", row["status"] or "", row["started_at"] or "",
                     row["finished_at"] or "", int(row["files"] or 0), int(row["pages"] or 0), int(row["sheets"] or 0),
                     int(row["review_items"] or 0), int(row["quarantined"] or 0), len(extra.get("duplicates", [])),
                     len(extra.get("waiting", [])), float(row["seconds"] or 0.0))


def dashboard(ws: Workspace, today: date | None = None) -> Dashboard:
    today = today or date.today()
    review = store.open_review_counts(ws.db)
    reports = [archived_report(r) for r in store.list_reports(ws.db)]
    return Dashboard(
        half=_counts(ws, current_half(today)), month=_counts(ws, current_month(today)),
        review_items=review["items"], review_sheets=review["sheets"], last_batch=_batch(store.latest_batch(ws.db)),
        quarantine=tuple(store.open_quarantine(ws.db)),
        reports=tuple(reversed(reports[-C.DASHBOARD_REPORTS_SHOWN:])), reports_total=len(reports), gate=report_gate(ws))


# --- forms and printing -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FormInfo:
    form: str
    title: str
    latest_version: int | None
    published_at: str


def forms_overview(ws: Workspace) -> list[FormInfo]:
    """The forms of the workspace's forms/ folder with their newest published version."""
    out: list[FormInfo] = []
    for path in sorted(ws.forms_dir.glob("*.y*ml")):
        latest = store.latest_form_version(ws.db, path.stem)
        title = latest.title if latest else path.stem
        out.append(FormInfo(path.stem, title, latest.version if latest else None, latest.published_at if latest else ""))
    return out


@dataclass(frozen=True)
class Printout:
    pdf: bytes
    file_name: str
    form: str
    version: int
    serials: tuple[str, ...]       # empty for the photocopy master


def print_form(ws: Workspace, form: str, copies: int | None, user: str) -> Printout:
    """The form's current version as a PDF: the photocopy master (copies None) or `copies` numbered sheets.
    Numbered sheets are audited when their serials are allocated; the master is audited here."""
    known = {f.form for f in forms_overview(ws)}
    if form not in known:
        raise NotFound(f"Nie ma formularza {form!r}. Dostępne: {', '.join(sorted(known)) or 'brak'}.")
    pdf, version, serials = form_pdf(ws, form, copies, user)
    if not serials:
        store.audit(ws.db, user, "form.master", {"form": version.form, "version": version.version})
    suffix = f"{serials[0]}-{serials[-1]}" if serials else "wzor"
    return Printout(pdf, f"{version.form}-v{version.version}-{suffix}.pdf", version.form, version.version, tuple(serials))
