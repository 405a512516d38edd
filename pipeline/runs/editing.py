"""The report-first rule and the office edits it guards (run layer; the web panel and the CLI call it).

The ordinances (seeds 000–002) allow the office's data or the survey to change only after the system has
generated and archived a report of the results so far, so that every result is on record under the wording
and office data it was collected with. The rule, as enforced here:

- a *response* is a sheet that is not a discarded rescan (status != duplicate), of any channel (paper scans,
  paper typed in by hand, online);
- an archived report *covers the results so far* when its file is in the archive, no sheet has been recorded
  since it read its data, and its period reaches the latest day on which a response was received. "Recorded
  since" is exact: the report stores how many sheets existed before it read them (`sheets_seen`; sheets are
  never deleted), and any larger count now means something came in after. Time stamps could not decide this:
  online responses keep only their day, for anonymity;
- a change is allowed when there is no response at all, or when an archived report covers the results so far.

The rule guards what results are read against: the survey, the departments listed in it, and the office data
printed on the survey and in reports (name, address, how respondents are called). Contact data for the
accessibility statement and the survey's public address are not results' context; the law wants them kept
current, so they change at any time (still audited).

`report_so_far` is the one-click way out of a refusal: it generates and archives the PDF report of the current
half-year up to today, reaching further back to every response received after the newest report's period.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pipeline import store
from pipeline.base.errors import InvalidInput, NotAllowed
from pipeline.records.office import Office
from pipeline.report.periods import Period
from pipeline.runs import reporting
from pipeline.runs.workspace import Workspace


@dataclass(frozen=True)
class ArchivedReport:
    id: int
    created_at: str          # ISO, UTC
    period_from: str
    period_to: str
    format: str
    path: str                # relative to the workspace
    sheets_seen: int | None  # sheets recorded when it read its data (None: a report made before this was stored)

    @property
    def covers_until(self) -> str:
        """The day (dd.mm.rrrr) up to which the report covers results: its period's end."""
        return date.fromisoformat(self.period_to).strftime("%d.%m.%Y")


@dataclass(frozen=True)
class Gate:
    allowed: bool
    responses: int                    # responses recorded so far
    unreported: int                   # sheets recorded after the newest archived report read its data
    report: ArchivedReport | None     # allowed: the newest report covering the results so far; blocked: the newest one
    message: str                      # Polish: why the change is allowed or refused


def local_stamp(iso: str) -> str:
    """An ISO timestamp (stored in UTC) as the office reads it: local 'dd.mm.rrrr gg:mm'."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone().strftime("%d.%m.%Y %H:%M")


def archived_report(row: dict[str, Any]) -> ArchivedReport:
    params = json.loads(row["params_json"] or "{}")
    seen = params.get("sheets_seen")
    return ArchivedReport(int(row["id"]), row["created_at"], row["period_from"], row["period_to"], row["format"],
                          row["path"], int(seen) if seen is not None else None)


def _responses_pl(n: int) -> str:
    return "1 odpowiedź" if n == 1 else f"{n} odpowiedzi"      # 2-4 and 5+ share the form in Polish


def report_gate(ws: Workspace) -> Gate:
    """May the office data or the survey change now? See the module docstring for the rule."""
    ext = store.response_extent(ws.db)
    recorded = store.sheet_count(ws.db)
    reports = [archived_report(r) for r in store.list_reports(ws.db)]
    newest = reports[-1] if reports else None
    if ext["n"] == 0:
        return Gate(True, 0, 0, newest, "Nie zebrano jeszcze żadnej odpowiedzi, więc zmiana nie wymaga raportu.")
    covering = [r for r in reports if r.sheets_seen == recorded and r.period_to >= ext["last_received"]
                and (ws.home / r.path).is_file()]
    if covering:
        best = covering[-1]
        return Gate(True, ext["n"], 0, best, f"Raport z wynikami do dnia {best.covers_until} został zarchiwizowany "
                                            f"(raport nr {best.id} z {local_stamp(best.created_at)}).")
    unreported = recorded - newest.sheets_seen if newest and newest.sheets_seen is not None else ext["n"]
    if newest is None:
        why = f"nie wygenerowano jeszcze żadnego raportu, a zebrano już {_responses_pl(ext['n'])}"
    elif unreported:
        why = (f"od ostatniego raportu (nr {newest.id} z {local_stamp(newest.created_at)}) wpłynęło "
               f"{_responses_pl(unreported)}")
    else:
        last = date.fromisoformat(ext["last_received"]).strftime("%d.%m.%Y")
        why = (f"żaden zarchiwizowany raport nie obejmuje odpowiedzi przyjętych do dnia {last} "
               f"(ostatni, nr {newest.id}, kończy się {newest.covers_until})")
    return Gate(False, ext["n"], unreported, newest,
                "Zmiana danych urzędu lub ankiety jest możliwa dopiero po wygenerowaniu i zarchiwizowaniu raportu "
                f"z wynikami do dziś: {why}.")


def require_report(ws: Workspace) -> Gate:
    """The gate, or NotAllowed (exit code 7) with the reason and what to do."""
    gate = report_gate(ws)
    if not gate.allowed:
        raise NotAllowed(gate.message + " Wygeneruj go w panelu administratora (przycisk „Wygeneruj raport wyników do "
                                        "dziś”) albo poleceniem: ankieta report --from RRRR-MM-DD --to RRRR-MM-DD.")
    return gate


def _half_start(day: date) -> date:
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def so_far_period(ws: Workspace, today: date | None = None) -> Period:
    """The period of the one-click report: the current half-year up to today (or up to the latest received day,
    if later), reaching back to the first response received after the newest report's period."""
    today = today or date.today()
    ext = store.response_extent(ws.db)
    reports = store.list_reports(ws.db)
    end = max(today, date.fromisoformat(ext["last_received"])) if ext["last_received"] else today
    start = _half_start(end)
    earliest = store.earliest_received_after(ws.db, reports[-1]["period_to"] if reports else "")
    if earliest:
        start = min(start, date.fromisoformat(earliest))
    return Period(start, end, "wyniki do dnia " + end.strftime("%d.%m.%Y"))


def report_so_far(ws: Workspace, user: str, fmt: str = "pdf") -> reporting.Generated:
    """Generate and archive the report of the results so far (what the report-first rule asks for)."""
    return reporting.generate(ws, so_far_period(ws), fmt, None, user)


# --- office data and departments, behind the rule -----------------------------------------------------

# printed on the survey (render) or in the report (report): a change needs the report of the results so far
GATED_OFFICE_FIELDS = ("name", "address", "respondent")


def set_office(ws: Workspace, user: str, **fields: str) -> tuple[Office, Gate | None]:
    """Change office fields. Only fields whose value differs count as a change; no change needs no report
    (returns gate None), and neither does a change of contact data only (returns the gate as it stands)."""
    current = store.get_office(ws.db)
    unknown = set(fields) - set(store.OFFICE_FIELDS)
    if unknown:
        raise InvalidInput(f"Nieznane pole danych urzędu: {', '.join(sorted(unknown))}. "
                           f"Dozwolone: {', '.join(store.OFFICE_FIELDS)}.")
    changed = {k: v.strip() for k, v in fields.items() if v.strip() != getattr(current, k)}
    if not changed:
        return current, None
    if "name" in changed and not changed["name"]:
        raise InvalidInput("Pole „Nazwa urzędu” nie może być puste.")
    gate = require_report(ws) if set(changed) & set(GATED_OFFICE_FIELDS) else report_gate(ws)
    return store.set_office(ws.db, user, **changed), gate


def add_department(ws: Workspace, user: str, dep_id: str, name: str) -> Gate:
    """Add a department (or bring a deactivated one back under this name)."""
    gate = require_report(ws)
    store.add_department(ws.db, user, dep_id.strip(), name.strip())
    return gate


def rename_department(ws: Workspace, user: str, dep_id: str, name: str) -> Gate:
    if not name.strip():
        raise InvalidInput(f"Podaj nową nazwę komórki {dep_id!r}.")
    gate = require_report(ws)
    store.rename_department(ws.db, user, dep_id, name.strip())
    return gate


def remove_department(ws: Workspace, user: str, dep_id: str) -> Gate:
    gate = require_report(ws)
    store.remove_department(ws.db, user, dep_id)
    return gate
