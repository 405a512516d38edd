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
from typing import Any, Literal

from pipeline import store
from pipeline.base.errors import InvalidInput
from pipeline.records.answers import derive_answers
from pipeline.records.layout import FormLayout
from pipeline.report import build as R
from pipeline.report import files as report_files
from pipeline.report import model as M
from pipeline.report import pdf as report_pdf
from pipeline.report import periods
from pipeline.report.periods import Period
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


def gather(ws: Workspace, date_from: date, date_to: date,
           ) -> tuple[list[M.ResponseRecord], dict[tuple[str, int], FormLayout]]:
    """Every non-duplicate sheet received between the dates, as report records, and the layouts they use."""
    complaints = store.complaint_targets(ws.db)
    records: list[M.ResponseRecord] = []
    layouts: dict[tuple[str, int], FormLayout] = {}
    for st in sheet_states(ws, date_from, date_to):
        s = st.sheet
        layouts[(s["form"], s["version"])] = st.layout
        derived = derive_answers(st.layout, st.boxes, st.texts, st.verdicts)
        flagged = frozenset(t for sid, t in complaints if sid == s["id"]) if complaints else frozenset()
        records.append(M.ResponseRecord(
            sheet_id=s["id"], form=s["form"], version=s["version"], channel=s["channel"] or "paper",
            batch=s["batch_label"] or "", received=(s["received_at"] or "")[:10], status=s["status"],
            answers=derived.answers, texts=derived.texts, complaints=flagged))
    return records, layouts


def period_of(date_from: date | None, date_to: date | None, half: str | None = None, *, year: str | None = None,
              quarter: str | None = None, month: str | None = None) -> Period:
    """--half 2026H2, --year 2026, --quarter 2026Q3, --month 2026-11, or --from/--to (both); a clear Polish message
    otherwise. Dates that are exactly a calendar period become that period (named in words)."""
    given = [(flag, v, example) for flag, v, example in (("--half", half, "2026H2"), ("--year", year, "2026"),
                                                        ("--quarter", quarter, "2026Q3"), ("--month", month, "2026-11"))
             if v]
    if len(given) > 1:
        raise InvalidInput(f"Podaj jeden okres: {' albo '.join(f for f, _, _ in given)}.")
    if given:
        flag, value, example = given[0]
        try:
            p = periods.parse_period(value)
        except ValueError:
            p = None
        if p is None or p.kind != {"--half": "half", "--year": "year", "--quarter": "quarter", "--month": "month"}[flag]:
            hint = " albo 2026H1" if flag == "--half" else ""
            raise InvalidInput(f"Niepoprawny okres {flag} {value!r}; podaj np. {example}{hint}.")
        if (date_from and date_from != p.date_from) or (date_to and date_to != p.date_to):
            raise InvalidInput(f"{flag} {value} oznacza okres {p.describe()}; nie podawaj innych dat --from/--to.")
        return p
    if date_from is None or date_to is None:
        raise InvalidInput("Podaj okres raportu: --half 2026H2, --year 2026, --quarter 2026Q3, --month 2026-11 "
                           "albo --from RRRR-MM-DD --to RRRR-MM-DD.")
    if date_to < date_from:
        raise InvalidInput(f"Data --to ({date_to}) jest wcześniejsza niż --from ({date_from}).")
    return periods.of_dates(date_from, date_to)


NO_COMPARISON = ("brak", "bez", "none")


def comparison_of(period: Period, spec: str | None) -> Period | None:
    """The period a report is compared with: by default the previous one of the same kind; `spec` chooses another
    ('2025H2', '2025', '2025Q4', '2025-11', '2025-07-01..2025-12-31') or none ('brak')."""
    if not spec:
        return periods.previous(period)
    if spec.strip().lower() in NO_COMPARISON:
        return None
    try:
        other = periods.parse_period(spec)
    except ValueError:
        raise InvalidInput(f"Niepoprawny okres porównawczy {spec!r}; podaj np. 2025H2, 2025, 2025Q4, 2025-11, "
                           "2025-07-01..2025-12-31 albo „brak”.") from None
    if other.date_from <= period.date_to and period.date_from <= other.date_to:
        raise InvalidInput(f"Okres porównawczy {other.describe()} nakłada się na okres raportu {period.describe()}.")
    return other


PREVIOUS: Literal["previous"] = "previous"
COMPARISONS = {"previous": "poprzedni okres tego samego rodzaju", "year": "ten sam okres rok wcześniej",
               "none": "bez porównania"}


def _year_back(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:              # 29 February
        return d.replace(year=d.year - 1, day=28)


def comparison_choice(period: Period, choice: str) -> Period | None:
    """The admin form's comparison: 'previous' (default), 'year' (a year earlier) or 'none'."""
    if choice == "none":
        return None
    if choice == "year":
        steps = {"year": 1, "half": 2, "quarter": 4, "month": 12}.get(period.kind)
        if steps:
            return periods.shifted(period, -steps)
        return periods.of_dates(_year_back(period.date_from), _year_back(period.date_to))
    if choice in ("", "previous"):
        return periods.previous(period)
    raise InvalidInput(f"Nieznany wybór okresu porównawczego {choice!r}.")


def build(ws: Workspace, period: Period, author: str, now: datetime | None = None,
          settings: M.ReportSettings | None = None, compare: Period | Literal["previous"] | None = PREVIOUS,
          ) -> tuple[M.Report, list[M.ResponseRecord]]:
    """The report of a period, compared with `compare` (default: the previous period of the same kind), with the
    trend over the earlier comparable periods; and the records it counted. One read of the database covers the
    trend's span (and the comparison period when it lies outside it)."""
    s = settings or M.ReportSettings()
    other = periods.previous(period) if compare == PREVIOUS else compare
    assert other is None or isinstance(other, Period)
    spans = periods.trend_periods(period, s.trend_periods)
    records, layouts = gather(ws, spans[0].date_from, period.date_to)
    if other is not None and not (spans[0].date_from <= other.date_from and other.date_to <= period.date_to):
        extra, extra_layouts = gather(ws, other.date_from, other.date_to)
        seen = {r.sheet_id for r in records}
        records += [r for r in extra if r.sheet_id not in seen]
        layouts.update(extra_layouts)

    def within(p: Period) -> M.PeriodData:
        lo, hi = p.date_from.isoformat(), p.date_to.isoformat()
        return M.PeriodData(p, tuple(r for r in records if lo <= r.received <= hi))

    current = within(period)
    stamp = (now or datetime.now(UTC)).astimezone().strftime("%d.%m.%Y %H:%M")
    rep = R.build_report(current, within(other) if other else None, layouts, store.get_office(ws.db),
                         trend=[within(p) for p in spans[:-1]], generated_at=stamp, generated_by=author, settings=s)
    return rep, list(current.records)


def render(rep: M.Report, records: list[M.ResponseRecord], fmt: str) -> bytes:
    if fmt == "pdf":
        return report_pdf.report_pdf(rep)
    if fmt == "xlsx":
        return report_files.report_xlsx(rep, records)
    if fmt == "csv":
        return report_files.report_csv(rep).encode("utf-8")
    if fmt == "json":
        return report_files.report_json(rep).encode("utf-8")
    raise InvalidInput(f"Nieznany format raportu {fmt!r}; dozwolone: {', '.join(FORMATS)}.")


def generate(ws: Workspace, period: Period, fmt: str, output: Path | None, user: str, *, author: str | None = None,
             compare: Period | Literal["previous"] | None = PREVIOUS) -> Generated:
    """Build, write (to `output` and the archive), hash and record one report. `user` is who generated it (the
    signed-in user, or the CLI); `author` is the name printed as the protocol's author (default: `user`; "" leaves
    the line blank to be filled in by hand)."""
    started = time.perf_counter()
    if fmt not in FORMATS:
        raise InvalidInput(f"Nieznany format raportu {fmt!r}; dozwolone: {', '.join(FORMATS)}.")
    # Counted before the data is read (sheets are never deleted, so the count only grows): every sheet counted
    # here is in what the report reads. The report-first rule (pipeline/runs/editing.py) compares it with the count now.
    sheets_seen = store.sheet_count(ws.db)
    rep, records = build(ws, period, user if author is None else author, compare=compare)
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
    st = rep.settings
    params: dict[str, Any] = {
        "from": str(period.date_from), "to": str(period.date_to), "label": period.label, "kind": period.kind,
        "format": fmt, "author": rep.generated_by,
        "previous_from": str(rep.previous.date_from) if rep.previous else "",
        "previous_to": str(rep.previous.date_to) if rep.previous else "",
        "min_cell": st.min_cell, "min_n": st.min_n, "warn_n": st.warn_n, "mean_below": st.mean_below,
        "top2_below_pct": st.top2_below_pct, "family_alpha": st.family_alpha, "resamples": st.resamples,
        "seed": st.seed, "output": str(output) if output else "", "sheets_seen": sheets_seen,
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
        period = periods.half_year("2026H2")
        before = periods.previous(period)
        t0 = time.perf_counter()
        synthetic_sheets(ws, n_responses, period.date_from, period.days)
        synthetic_sheets(ws, n_responses, before.date_from, before.days, seed=2, prefix="P")
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
