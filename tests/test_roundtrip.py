"""End to end: render → fill known boxes → scan-degrade → ingest → the same states.

Uses the real renderer, the generator in samples/, real files on disk (PDF, TIFF, JPEG, PNG) and the whole
ingest run with its worker pool. Each set is small, but together they cross DPI, colour mode, format,
180° rotation and a hidden marker.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import store
from pipeline.runs import export, workspace
from pipeline.runs.ingest import batch
from samples.evaluate import evaluate
from samples.generate import generate_set
from samples.profiles import PROFILES
from samples.synth import DEMO_OFFICE


def _workspace(tmp: Path) -> workspace.Workspace:
    ws = workspace.init_workspace(tmp / "ws", DEMO_OFFICE)
    for form in ("lesko-f1", "satysfakcja-5"):
        workspace.publish_form(ws, form)
    return ws


@pytest.mark.parametrize(("dpi", "mode", "fmt"), [
    (150, "bilevel", "tiff"),
    (200, "colour", "jpeg"),
    (300, "grey", "pdf"),
    (600, "grey", "png"),
])
def test_exact_round_trip(tmp_path: Path, dpi: int, mode: str, fmt: str) -> None:
    # clear marks only, but every page fed upside down half of the time and skewed like a real feeder
    prof = replace(PROFILES["clean"], dpi=((dpi, 1.0),), modes=((mode, 1.0),), p_rotate_180=0.5, skew_deg=3.0)
    truth_path = generate_set(tmp_path / "scans", 3, seed=dpi, profile=prof, formats=(fmt,), files=1)
    ws = _workspace(tmp_path)
    scans = [p for p in (tmp_path / "scans").iterdir() if p.name != "truth.json"]
    summary = batch.ingest(ws, scans, workers=2, draft_texts=False)
    assert summary.quarantined == ()
    e = evaluate(ws, truth_path)
    assert e.sheet_pages_read == e.sheet_pages > 0
    assert e.silent_errors == 0, e.examples
    # clean marks: exact, nothing left to a human
    assert e.flagged == 0
    # pages fed upside down were recognised as such (and read correctly above)
    truth = json.loads(truth_path.read_text("utf-8"))
    want_rotated = sum(1 for pages in truth["files"].values() for p in pages if p["kind"] == "sheet" and p["rotated_180"])
    got_rotated = store.rows(ws.db, "select count(*) as n from pages where rotated_180 = 1")[0]["n"]
    assert got_rotated == want_rotated


def test_office_mix_hidden_marker_blank_and_foreign_pages(tmp_path: Path) -> None:
    prof = replace(PROFILES["office"], p_fold=0.3, p_rotate_180=0.2, p_duplex=1.0)
    truth_path = generate_set(tmp_path / "scans", 6, seed=11, profile=prof, formats=("pdf",), files=2)
    truth = json.loads(truth_path.read_text("utf-8"))
    kinds = [p["kind"] for pages in truth["files"].values() for p in pages]
    assert "blank" in kinds and "foreign" in kinds
    assert any(p.get("hidden_marker") is not None for pages in truth["files"].values() for p in pages)
    ws = _workspace(tmp_path)
    scans = sorted(p for p in (tmp_path / "scans").iterdir() if p.name != "truth.json")
    summary = batch.ingest(ws, scans, workers=2, draft_texts=False)
    e = evaluate(ws, truth_path)
    assert e.other_read_as_sheet == 0                    # blank backs and the letter are never sheets
    assert e.sheet_pages_read == e.sheet_pages           # every page of ours identified, folded corner or not
    assert e.silent_errors == 0, e.examples
    assert summary.rejected_pages.get("blank", 0) == kinds.count("blank")
    # the foreign page is quarantined with a reason; blank backs are not
    assert any("strona" in where for where, _ in summary.quarantined)
    doc = json.loads(export.export_json(ws))
    assert len(doc["sheets"]) == 6
    assert {r["reason"] for r in doc["rejected"]} >= {"blank", "foreign"}
