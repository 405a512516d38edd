"""The report-first rule (pipeline/runs/editing.py): office data and departments change only when an archived report
covers every response recorded so far; the CLI refuses with exit code 7 and says why."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline import store
from pipeline.base.errors import ExitCode, NotAllowed
from pipeline.cli import main
from pipeline.report.periods import half_year
from pipeline.runs import editing, reporting
from pipeline.runs.workspace import Workspace, publish_form

TODAY = date.today()


def respond(ws: Workspace, sid: str, received: date, channel: str = "online", status: str = "final") -> None:
    """One lesko-f1 response as the online survey and hand entry store them (answers without boxes)."""
    fv = publish_form(ws, "lesko-f1")
    store.insert_manual_sheet(ws.db, {"id": sid, "form": "lesko-f1", "version": fv.version, "channel": channel,
                                      "received_at": received.isoformat(), "created_at": received.isoformat(),
                                      "status": status},
                              [("q1", "", "q1.kobieta"), ("q6", "", "q6.tak"), ("q8", "uprzejmosc", "q8.uprzejmosc.5")])


def test_without_responses_every_change_is_allowed(workspace: Workspace) -> None:
    gate = editing.report_gate(workspace)
    assert gate.allowed and gate.responses == 0 and "Nie zebrano" in gate.message
    office, used = editing.set_office(workspace, "ala", name="Urząd Gminy Bliżyn")
    assert office.name == "Urząd Gminy Bliżyn" and used is not None
    editing.add_department(workspace, "ala", "rol", "Referat Rolnictwa")
    assert "rol" in {d.id for d in store.get_office(workspace.db).departments}
    # a rescan is not a response: it does not start the rule either
    respond(workspace, "000007~2", TODAY, channel="paper", status="duplicate")
    assert editing.report_gate(workspace).allowed


def test_responses_without_a_report_block_changes_of_what_results_are_read_against(workspace: Workspace) -> None:
    respond(workspace, "ON-1", TODAY)
    respond(workspace, "R-1", TODAY, channel="paper-manual")
    gate = editing.report_gate(workspace)
    assert not gate.allowed and gate.responses == 2 and gate.report is None
    assert "nie wygenerowano jeszcze żadnego raportu, a zebrano już 2 odpowiedzi" in gate.message
    before = store.get_office(workspace.db)
    with pytest.raises(NotAllowed) as exc:
        editing.set_office(workspace, "ala", name="Inna nazwa")
    assert exc.value.exit_code == ExitCode.NOT_ALLOWED and "Wygeneruj raport wyników do dziś" in exc.value.message
    for change in (lambda: editing.add_department(workspace, "ala", "rol", "Referat Rolnictwa"),
                   lambda: editing.rename_department(workspace, "ala", "fin", "Finanse"),
                   lambda: editing.remove_department(workspace, "ala", "oc")):
        with pytest.raises(NotAllowed):
            change()
    assert store.get_office(workspace.db) == before
    for gated in ({"address": "ul. Inna 2"}, {"respondent": "interesant"}, {"name": "X", "phone": "13 469 66 00"}):
        with pytest.raises(NotAllowed):
            editing.set_office(workspace, "ala", **gated)
    assert store.get_office(workspace.db) == before
    # the same values again are no change: nothing to protect, no report needed
    office, used = editing.set_office(workspace, "ala", name=before.name, address=before.address)
    assert office == before and used is None
    # contact data for the accessibility statement is not results' context: it changes at once (and is audited)
    office, used = editing.set_office(workspace, "ala", phone="13 469 66 00", coordinator="Jan Nowak",
                                      email="dostepnosc@lesko.pl")
    assert (office.phone, office.coordinator, office.name) == ("13 469 66 00", "Jan Nowak", before.name)
    assert used is not None and not used.allowed
    assert store.rows(workspace.db, "select action from audit_log order by id desc limit 1")[0]["action"] == "office.set"


def test_report_so_far_opens_the_gate_and_is_linked(workspace: Workspace) -> None:
    respond(workspace, "ON-1", TODAY)
    respond(workspace, "ON-2", TODAY - timedelta(days=1))
    made = editing.report_so_far(workspace, "ala")
    period = editing.so_far_period(workspace)
    assert period.date_to == TODAY and period.date_from.day == 1 and period.date_from.month in (1, 7)
    assert made.sheets == 2 and made.archived.is_file() and made.archived.read_bytes().startswith(b"%PDF")
    gate = editing.report_gate(workspace)
    assert gate.allowed and gate.report is not None and gate.report.id == made.report_id
    assert f"Raport z wynikami do dnia {TODAY:%d.%m.%Y} został zarchiwizowany" in gate.message
    editing.set_office(workspace, "ala", address="ul. Parkowa 1, 38-600 Lesko, pok. 2")
    editing.rename_department(workspace, "ala", "fin", "Referat Finansów")
    actions = [r["action"] for r in store.rows(workspace.db, "select action from audit_log order by id")]
    assert actions[-3:] == ["report.generate", "office.set", "department.rename"]


def test_a_response_after_the_report_blocks_again(workspace: Workspace) -> None:
    respond(workspace, "ON-1", TODAY)
    made = editing.report_so_far(workspace, "ala")
    respond(workspace, "ON-2", TODAY)          # the same day: only the count of sheets can tell it came later
    gate = editing.report_gate(workspace)
    assert not gate.allowed and gate.unreported == 1 and gate.report is not None and gate.report.id == made.report_id
    assert f"od ostatniego raportu (nr {made.report_id} z" in gate.message and "wpłynęło 1 odpowiedź" in gate.message
    assert editing.report_gate(workspace).message == gate.message
    second = editing.report_so_far(workspace, "ala")
    assert editing.report_gate(workspace).report.id == second.report_id  # type: ignore[union-attr]


def test_a_report_must_reach_the_latest_received_day(workspace: Workspace) -> None:
    respond(workspace, "ON-1", date(2026, 3, 10))
    respond(workspace, "ON-2", date(2026, 11, 20))
    reporting.generate(workspace, half_year("2026H1"), "csv", None, "ala")    # generated now, but ends in June
    gate = editing.report_gate(workspace)
    assert not gate.allowed
    assert "żaden zarchiwizowany raport nie obejmuje odpowiedzi przyjętych do dnia 20.11.2026" in gate.message
    # the one-click period reaches back to the first response after the newest report's period
    assert editing.so_far_period(workspace, date(2026, 11, 23)).date_from == date(2026, 7, 1)
    reporting.generate(workspace, half_year("2026H2"), "json", None, "ala")
    assert editing.report_gate(workspace).allowed


def test_an_archived_file_that_is_gone_does_not_count(workspace: Workspace) -> None:
    respond(workspace, "ON-1", TODAY)
    made = editing.report_so_far(workspace, "ala")
    made.archived.unlink()
    assert not editing.report_gate(workspace).allowed


def test_so_far_period_reaches_unreported_older_responses(workspace: Workspace) -> None:
    respond(workspace, "ON-1", date(2025, 12, 10))
    respond(workspace, "ON-2", date(2026, 8, 2))
    p = editing.so_far_period(workspace, date(2026, 11, 23))
    assert (p.date_from, p.date_to) == (date(2025, 12, 10), date(2026, 11, 23))
    assert p.label == "wyniki do dnia 23.11.2026"


def _cli(ws: Workspace, *args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, ["--home", str(ws.home), *args])
    return r.exit_code, r.output


def test_cli_office_commands_follow_the_rule(workspace: Workspace, tmp_path: Path) -> None:
    code, out = _cli(workspace, "office", "set", "--phone", "13 469 66 00")
    assert code == 0 and "Zapisano" in out                        # no responses yet: allowed
    respond(workspace, "ON-1", TODAY)
    for args in (("office", "set", "--name", "Urząd Gminy Bliżyn"), ("office", "departments", "add", "rol", "Rolnictwo"),
                 ("office", "departments", "rename", "fin", "Finanse"), ("office", "departments", "remove", "oc")):
        code, out = _cli(workspace, *args)
        assert code == ExitCode.NOT_ALLOWED == 7, args
        assert "Błąd: Zmiana danych urzędu lub ankiety jest możliwa dopiero po wygenerowaniu" in out
        assert "ankieta report" in out and "Traceback" not in out
    assert store.get_office(workspace.db).name == "Urząd Miasta i Gminy Lesko"
    code, _ = _cli(workspace, "office", "departments", "list")
    assert code == 0                                              # reading is never blocked
    half = f"{TODAY.year}H{1 if TODAY.month <= 6 else 2}"
    code, out = _cli(workspace, "report", "--half", half, "-o", str(tmp_path / "r.pdf"))
    assert code == 0, out
    code, out = _cli(workspace, "office", "set", "--name", "Urząd Gminy Bliżyn")
    assert code == 0 and "Zapisano" in out
    code, out = _cli(workspace, "office", "set", "--name", "Urząd Gminy Bliżyn")
    assert code == 0 and "Bez zmian" in out
    assert json.loads(_cli(workspace, "office", "show", "--json")[1])["name"] == "Urząd Gminy Bliżyn"
