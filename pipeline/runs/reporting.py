"""Report generation (run layer): gather a period's sheets, build the report, write it, archive it.

Sheets come from `export.sheet_states` (human decisions applied, confirmed texts only) and become
`report.ResponseRecord`s through `answers.derive_answers`, so the report counts exactly what the export shows.
Every generated file is copied into the workspace's `reports/` folder and recorded in the `reports` table
with its sha256 and parameters (`ankieta report list`): the ordinances require a report of the results so far
before the survey or the office data is changed, and the survey-edit flow calls `generate` for that.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline import store
from pipeline.base.errors import InvalidInput
from pipeline.records.answers import derive_answers
from pipeline.records.layout import FormLayout
from pipeline.report import build as R
from pipeline.report import files as report_files
from pipeline.report import pdf as report_pdf
from pipeline.runs.export import sheet_states
from pipeline.runs.workspace import Workspace, init_workspace, publish_form

FORMATS = ("pdf", "xlsx", "csv", "json")


@dataclass(frozen=True)
class Generated:
    report_id: int
    path: Path              # where the caller asked for it (or the archive copy when none was given)
    archived: Path
    sha256: str
    sheets: int
    seconds: float


def gather(ws: Workspace, period: R.Period) -> tuple[list[R.ResponseRecord], dict[tuple[str, int], FormLayout]]:
    """Every non-duplicate sheet received in the period, as report records, and the layouts they use."""
    complaints = store.complaint_targets(ws.db)
    records: list[R.ResponseRecord] = []
    layouts: dict[tuple[str, int], FormLayout] = {}
    for st in sheet_states(ws, period.date_from, period.date_to):
        s = st.sheet
        layouts[(s["form"], s["version"])] = st.layout
        derived = derive_answers(st.layout, st.boxes, st.texts, st.verdicts)
        flagged = frozenset(t for sid, t in complaints if sid == s["id"]) if complaints else frozenset()
        records.append(R.ResponseRecord(
            sheet_id=s["id"], form=s["form"], version=s["version"], channel=s["channel"] or "paper",
            batch=s["batch_label"] or "", received=s["received_at"] or "", status=s["status"],
            answers=derived.answers, texts=derived.texts, complaints=flagged))
    return records, layouts


def period_of(date_from: date | None, date_to: date | None, half: str | None) -> R.Period:
    """--half 2026H2, or --from/--to (both needed); a clear Polish message otherwise."""
    if half:
        try:
            p = R.half_year(half)
        except ValueError:
            raise InvalidInput(f"Niepoprawne półrocze {half!r}; podaj np. 2026H1 albo 2026H2.") from None
        if (date_from and date_from != p.date_from) or (date_to and date_to != p.date_to):
            raise InvalidInput(f"--half {half} oznacza okres {p.describe()}; nie podawaj innych dat --from/--to.")
        return p
    if date_from is None or date_to is None:
        raise InvalidInput("Podaj okres raportu: --from RRRR-MM-DD --to RRRR-MM-DD albo --half 2026H2.")
    if date_to < date_from:
        raise InvalidInput(f"Data --to ({date_to}) jest wcześniejsza niż --from ({date_from}).")
    return R.Period(date_from, date_to)


def build(ws: Workspace, period: R.Period, user: str, now: datetime | None = None,
          settings: R.ReportSettings | None = None) -> tuple[R.Report, list[R.ResponseRecord]]:
    """The report of a period (with its previous period of equal length) and the records it counted."""
    records, layouts = gather(ws, period)
    previous, prev_layouts = gather(ws, R.previous_period(period))
    layouts = {**prev_layouts, **layouts}
    stamp = (now or datetime.now(UTC)).astimezone().strftime("%d.%m.%Y %H:%M")
    rep = R.build_report(records, previous, layouts, store.get_office(ws.db), period, generated_at=stamp,
                         generated_by=user, settings=settings)
    return rep, records


def render(rep: R.Report, records: list[R.ResponseRecord], fmt: str) -> bytes:
    if fmt == "pdf":
        return report_pdf.report_pdf(rep)
    if fmt == "xlsx":
        return report_files.report_xlsx(rep, records)
    if fmt == "csv":
        return report_files.report_csv(rep).encode("utf-8")
    if fmt == "json":
        return report_files.report_json(rep).encode("utf-8")
    raise InvalidInput(f"Nieznany format raportu {fmt!r}; dozwolone: {', '.join(FORMATS)}.")


def generate(ws: Workspace, period: R.Period, fmt: str, output: Path | None, user: str) -> Generated:
    """Build, write (to `output` and the archive), hash and record one report."""
    started = time.perf_counter()
    if fmt not in FORMATS:
        raise InvalidInput(f"Nieznany format raportu {fmt!r}; dozwolone: {', '.join(FORMATS)}.")
    # Counted before the data is read (sheets are never deleted, so the count only grows): every sheet counted
    # here is in what the report reads. The report-first rule (pipeline/runs/editing.py) compares it with the count now.
    sheets_seen = store.sheet_count(ws.db)
    rep, records = build(ws, period, user)
    data = render(rep, records, fmt)
    digest = hashlib.sha256(data).hexdigest()
    stamp = datetime.now(UTC).astimezone().strftime("%Y%m%d-%H%M%S")
    folder = ws.folder("reports")
    folder.mkdir(exist_ok=True)
    archived = folder / f"raport-{period.date_from}-{period.date_to}-{stamp}-{digest[:8]}.{fmt}"
    archived.write_bytes(data)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(data)
    params: dict[str, Any] = {
        "from": str(period.date_from), "to": str(period.date_to), "label": period.label, "format": fmt,
        "previous_from": str(rep.previous.date_from), "previous_to": str(rep.previous.date_to),
        "min_cell": rep.settings.min_cell, "mean_below": rep.settings.mean_below,
        "top2_below_pct": rep.settings.top2_below_pct, "drop_pp": rep.settings.drop_pp,
        "output": str(output) if output else "", "sheets_seen": sheets_seen,
    }
    rid = store.insert_report(ws.db, user=user, period_from=str(period.date_from), period_to=str(period.date_to), fmt=fmt,
                              path=str(archived.relative_to(ws.home)), sha256=digest, params=params,
                              sheets=rep.method.included)
    return Generated(rid, output or archived, archived, digest, rep.method.included, time.perf_counter() - started)


def list_reports(ws: Workspace) -> list[dict[str, Any]]:
    return store.list_reports(ws.db)


# --- timing (the `make bench` figure: "a few seconds, not minutes" for 10,000 responses) -------------------

def synthetic_sheets(ws: Workspace, n: int, start: date, days: int, seed: int = 1, prefix: str = "S") -> None:
    """Insert n online lesko-f1 responses spread over `days` days from `start` (deterministic)."""
    rnd = random.Random(seed)
    fv = publish_form(ws, "lesko-f1")
    lay = fv.layout
    deps = [o.id for o in lay.question("q4").options]
    for i in range(n):
        ans: list[tuple[str, str, str]] = []
        for qid in ("q1", "q2", "q3", "q5", "q6", "q9"):
            ans.append((qid, "", f"{qid}.{rnd.choice(lay.question(qid).options).id}"))
        ans.append(("q4", "", f"q4.{rnd.choice(deps)}"))
        ans.append(("q7", "brak-trudnosci", "q7.brak-trudnosci"))
        for r in lay.question("q8").rows:
            ans.append(("q8", r.id, f"q8.{r.id}.{rnd.choice([2, 3, 4, 4, 5, 5])}"))
        if i % 50 == 0:
            ans.append(("uwagi.text", "#text", "Proszę o dłuższe godziny pracy w czwartki."))
        day = start + timedelta(days=i % days)
        store.insert_manual_sheet(ws.db, {"id": f"{prefix}{i:06d}", "form": "lesko-f1", "version": fv.version,
                                          "channel": "online", "received_at": str(day)}, ans)


def time_report(n_responses: int = 10_000, formats: tuple[str, ...] = FORMATS) -> dict[str, float]:
    """Seconds to gather + build and to write each format for n synthetic responses in a temporary
    workspace (plus the same number in the previous period). Call it from a shell or a bench script."""
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws")
        for did, name in (("fin", "Referat Finansowy"), ("usc", "Urząd Stanu Cywilnego"), ("gk", "Gospodarka Komunalna")):
            store.add_department(ws.db, "bench", did, name)
        period = R.half_year("2026H2")
        t0 = time.perf_counter()
        synthetic_sheets(ws, n_responses, period.date_from, period.days)
        synthetic_sheets(ws, n_responses, R.previous_period(period).date_from, period.days, seed=2, prefix="P")
        out: dict[str, float] = {"insert_s": time.perf_counter() - t0}
        t0 = time.perf_counter()
        rep, records = build(ws, period, "bench")
        out["gather_build_s"] = time.perf_counter() - t0
        for fmt in formats:
            t0 = time.perf_counter()
            render(rep, records, fmt)
            out[f"{fmt}_s"] = time.perf_counter() - t0
        out["responses"] = float(rep.method.included)
        ws.db.close()
        shutil.rmtree(Path(tmp) / "ws", ignore_errors=True)
    return out
