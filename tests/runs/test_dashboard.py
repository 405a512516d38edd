"""The dashboard's figures and printing (pipeline/runs/dashboard.py) on a workspace with responses of every
channel, an ingest batch, quarantine items and archived reports."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline import store
from pipeline.base.errors import NotFound
from pipeline.report.periods import half_year
from pipeline.runs import dashboard, reporting
from pipeline.runs.workspace import Workspace, publish_form

TODAY = date(2026, 11, 23)


def _sheet(ws: Workspace, sid: str, channel: str, received: str, status: str = "final") -> None:
    fv = publish_form(ws, "lesko-f1")
    store.insert_manual_sheet(ws.db, {"id": sid, "form": "lesko-f1", "version": fv.version, "channel": channel,
                                      "received_at": received, "created_at": received, "status": status},
                              [("q1", "", "q1.mezczyzna")])


def test_responses_by_channel_this_half_year_and_month(workspace: Workspace) -> None:
    _sheet(workspace, "000001", "paper", "2026-11-20", status="review")
    _sheet(workspace, "000002", "paper", "2026-11-21")
    _sheet(workspace, "000002~2", "paper", "2026-11-21", status="duplicate")      # a rescan is not a response
    _sheet(workspace, "R-1", "paper-manual", "2026-09-03")
    _sheet(workspace, "ON-1", "online", "2026-11-01")
    _sheet(workspace, "ON-2", "online", "2026-07-01")
    _sheet(workspace, "ON-3", "online", "2026-06-30")                              # the previous half-year
    _sheet(workspace, "X-1", "", "2026-11-02")                                     # written before channels: paper
    d = dashboard.dashboard(workspace, TODAY)
    assert d.half.period.label == "II półrocze 2026" and d.month.period.label == "listopad 2026"
    assert d.half.by_channel == {"paper": 3, "paper-manual": 1, "online": 2} and d.half.total == 6
    assert d.month.by_channel == {"paper": 3, "paper-manual": 0, "online": 1} and d.month.in_review == 1
    assert (d.month.period.date_from, d.month.period.date_to) == (date(2026, 11, 1), date(2026, 11, 30))
    assert dashboard.current_month(date(2026, 2, 10)).date_to == date(2026, 2, 28)
    assert not d.gate.allowed and d.last_batch is None and d.reports == () and d.quarantine == ()


def test_review_queue_last_batch_quarantine_and_reports(workspace: Workspace) -> None:
    _sheet(workspace, "000001", "paper", "2026-11-20", status="review")
    store.add_review_item(workspace.db, "000001", "box", "q1.kobieta", "niepewne zaznaczenie", None)
    store.add_review_item(workspace.db, "000001", "text", "q5.inna.text", "tekst do przepisania", None)
    bid = store.insert_batch(workspace.db, "urna 2, 2026-11")
    store.add_quarantine(workspace.db, file_name="stos-3.pdf", file_sha256="ab" * 32, page_index=None, reason="truncated",
                         message="Plik „stos-3.pdf” jest niekompletny (ucięty).", path="quarantine/x/stos-3.pdf", batch_id=bid)
    running = dashboard.dashboard(workspace, TODAY).last_batch
    assert running is not None and running.status == "running" and running.label == "urna 2, 2026-11"
    store.finish_batch(workspace.db, bid, {"files": 3, "pages": 12, "sheets": 5, "review_items": 2, "quarantined": 1,
                                           "seconds": 8.5, "summary_json": '{"duplicates": ["a.pdf"], "waiting": []}'})
    for spec in ("2026H1", "2026H2"):
        reporting.generate(workspace, half_year(spec), "json", None, "ala")
    d = dashboard.dashboard(workspace, TODAY)
    assert (d.review_items, d.review_sheets) == (2, 1)
    b = d.last_batch
    assert b is not None and (b.status, b.files, b.pages, b.sheets, b.quarantined, b.duplicates) == ("done", 3, 12, 5, 1, 1)
    assert [q["file_name"] for q in d.quarantine] == ["stos-3.pdf"] and "ucięty" in d.quarantine[0]["message"]
    assert [r.period_from for r in d.reports] == ["2026-07-01", "2026-01-01"] and d.reports_total == 2
    assert d.gate.allowed and d.gate.report is not None and d.gate.report.period_to == "2026-12-31"


def test_half_year_presets_cross_the_year() -> None:
    presets = dashboard.half_year_presets(date(2026, 3, 5), 4)
    assert [spec for spec, _ in presets] == ["2026H1", "2025H2", "2025H1", "2024H2"]
    assert presets[1][1].label == "II półrocze 2025" and presets[1][1].date_to == date(2025, 12, 31)


def test_print_master_and_numbered_sheets(workspace: Workspace) -> None:
    forms = dashboard.forms_overview(workspace)
    assert [(f.form, f.latest_version) for f in forms] == [("lesko-f1", None), ("satysfakcja-5", None)]
    master = dashboard.print_form(workspace, "satysfakcja-5", None, "ala")
    assert master.pdf.startswith(b"%PDF") and master.file_name == "satysfakcja-5-v1-wzor.pdf" and master.serials == ()
    numbered = dashboard.print_form(workspace, "satysfakcja-5", 3, "ala")
    assert numbered.serials == ("000001", "000002", "000003") and numbered.file_name == "satysfakcja-5-v1-000001-000003.pdf"
    actions = [r["action"] for r in store.rows(workspace.db, "select action from audit_log where user = 'ala' order by id")]
    assert actions == ["form.publish", "form.master", "form.print"]
    assert dashboard.forms_overview(workspace)[1].latest_version == 1
    with pytest.raises(NotFound):
        dashboard.print_form(workspace, "../ankieta", None, "ala")
