"""Export: one object per sheet; human decisions win unless --machine; CSV for Polish Excel."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import store
from pipeline.runs import export
from pipeline.runs.ingest import batch
from pipeline.runs.workspace import Workspace, init_workspace, publish_form
from samples.generate import generate_set
from samples.profiles import PROFILES
from samples.synth import DEMO_OFFICE


@pytest.fixture(scope="module")
def read_ws(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, dict[str, object]]:
    tmp = tmp_path_factory.mktemp("export")
    prof = replace(PROFILES["clean"], dpi=((200, 1.0),), p_remark=0.0)
    truth_path = generate_set(tmp / "scans", 3, seed=21, profile=prof, formats=("pdf",), files=1, weights=(1.0, 0.0))
    ws = init_workspace(tmp / "ws", DEMO_OFFICE)
    publish_form(ws, "lesko-f1")
    publish_form(ws, "satysfakcja-5")
    batch.ingest(ws, [p for p in (tmp / "scans").iterdir() if p.suffix == ".pdf"], label="urna 1", workers=1,
                 draft_texts=False)
    return ws, json.loads(truth_path.read_text("utf-8"))


def test_json_shape_and_truth(read_ws: tuple[Workspace, dict[str, object]]) -> None:
    ws, truth = read_ws
    doc = json.loads(export.export_json(ws))
    assert set(doc) == {"sheets", "rejected"} and len(doc["sheets"]) == 3
    files = truth["files"]
    assert isinstance(files, dict)
    by_serial = {p["serial"]: p for pages in files.values() for p in pages if p["kind"] == "sheet"}
    for s in doc["sheets"]:
        assert s["form"] == "lesko-f1" and s["version"] == 1 and s["channel"] == "paper" and s["batch"] == "urna 1"
        assert [p["number"] for p in s["pages"]] == [1, 2] and all(p["file"].endswith(".pdf") for p in s["pages"])
        page1 = by_serial[s["sheet"]]
        want = {b: st for b, st in dict(page1["boxes"]).items()}
        assert {b: s["boxes"][b] for b in want} == want
        q1 = [b.split(".")[1] for b, st in want.items() if b.startswith("q1.") and st == "marked"]
        if len(q1) == 1:
            assert s["answers"]["q1"] == q1[0]


def test_human_decision_wins_but_machine_export_keeps_the_reading(read_ws: tuple[Workspace, dict[str, object]]) -> None:
    ws, _ = read_ws
    sheet = json.loads(export.export_json(ws))["sheets"][0]
    target = "q9.nie"
    before = sheet["boxes"][target]
    flipped = "empty" if before == "marked" else "marked"
    with ws.db.atomic():
        store.record_decision(ws.db, sheet["sheet"], "box", target, flipped, "recenzent")
    human = {s["sheet"]: s for s in json.loads(export.export_json(ws))["sheets"]}[sheet["sheet"]]
    machine = {s["sheet"]: s for s in json.loads(export.export_json(ws, machine=True))["sheets"]}[sheet["sheet"]]
    assert human["boxes"][target] == flipped and machine["boxes"][target] == before
    # a re-read of the scan replaces machine rows only; the decision stays in force
    page_id = store.rows(ws.db, "select page_id from box_readings where sheet_id = ? and box_id = ?", [sheet["sheet"], target])[0]
    store.insert_box_readings(ws.db, page_id["page_id"], sheet["sheet"], [])
    assert {s["sheet"]: s for s in json.loads(export.export_json(ws))["sheets"]}[sheet["sheet"]]["boxes"][target] == flipped


def test_csv_for_polish_excel(read_ws: tuple[Workspace, dict[str, object]], tmp_path: Path) -> None:
    ws, _ = read_ws
    text = export.export_csv(ws)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))
    assert len(rows) == 3
    assert {"arkusz", "q1", "q8.uprzejmosc", "q5.inna.text", "uwagi.text"} <= set(rows[0])
    doc = {s["sheet"]: s for s in json.loads(export.export_json(ws))["sheets"]}
    for r in rows:
        s = doc[r["arkusz"]]
        assert r["q1"] == str(s["answers"].get("q1", "")) or r["q1"] == "?"
        if "q8" in s["answers"] and "uprzejmosc" in s["answers"]["q8"]:
            assert r["q8.uprzejmosc"] == str(s["answers"]["q8"]["uprzejmosc"])


def test_date_filter(read_ws: tuple[Workspace, dict[str, object]]) -> None:
    from datetime import date

    ws, _ = read_ws
    assert json.loads(export.export_json(ws, date(2000, 1, 1), date(2000, 12, 31)))["sheets"] == []
    assert len(json.loads(export.export_json(ws, date(2000, 1, 1), None))["sheets"]) == 3


def test_hand_entered_invalid_becomes_a_verdict(workspace: Workspace) -> None:
    """Typed-in paper: an "invalid" answer row is the reviewer's verdict for the question or the grid row."""
    publish_form(workspace, "lesko-f1")
    store.insert_response(workspace.db, {"id": "R-1", "form": "lesko-f1", "version": 1, "channel": "paper-manual",
                                         "received_at": "2026-11-20", "created_at": "2026-11-23"},
                          [("q1", "", "invalid"), ("q8", "uprzejmosc", "invalid"), ("q8", "sprawnosc", "q8.sprawnosc.4"),
                           ("q9", "", "q9.tak")])
    sheet = json.loads(export.export_json(workspace))["sheets"][0]
    assert sheet["answers"] == {"q1": "invalid", "q8": {"uprzejmosc": "invalid", "sprawnosc": 4}, "q9": "tak"}
    assert sheet["boxes"] == {"q8.sprawnosc.4": "marked", "q9.tak": "marked"}    # "invalid" is no box
