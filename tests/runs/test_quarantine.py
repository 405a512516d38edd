"""Quarantine: pages of a form the workspace does not know are kept, listed and read on retry — once."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import store
from pipeline.base.errors import NotFound
from pipeline.runs.ingest import batch, quarantine
from pipeline.runs.workspace import init_workspace, publish_form
from samples.generate import generate_set
from samples.profiles import PROFILES
from samples.synth import DEMO_OFFICE


def _set(tmp: Path, weights: tuple[float, float], seed: int) -> list[Path]:
    prof = replace(PROFILES["clean"], dpi=((200, 1.0),))
    generate_set(tmp, 2, seed=seed, profile=prof, formats=("pdf",), files=1, weights=weights)
    return sorted(tmp.glob("*.pdf"))


def test_page_retry_after_publishing_the_form(tmp_path: Path) -> None:
    scans = _set(tmp_path / "scans", (1.0, 1.0), 31)                # one sheet of each form in one file
    ws = init_workspace(tmp_path / "ws", DEMO_OFFICE)
    publish_form(ws, "lesko-f1")                                 # satysfakcja-5 not published yet
    s = batch.ingest(ws, scans, workers=1, draft_texts=False)
    assert s.rejected_pages == {"unknown-form": 3} and len(s.quarantined) == 3
    items = quarantine.list_open(ws)
    assert [i["reason"] for i in items] == ["unknown-form"] * 3 and all("satysfakcja-5" in i["message"] for i in items)
    publish_form(ws, "satysfakcja-5")
    for item in items:
        assert "Wczytano stronę" in quarantine.retry(ws, item["id"], "admin")
    assert quarantine.list_open(ws) == []
    sheets = store.rows(ws.db, "select form, status from sheets order by form")
    assert [r["form"] for r in sheets] == ["lesko-f1", "satysfakcja-5"]
    pages = store.rows(ws.db, "select count(*) as n, count(distinct file_sha256 || page_index) as d from pages")[0]
    assert pages["n"] == pages["d"] == 5                             # each page exactly once
    open_missing = store.rows(ws.db, "select count(*) as n from review_items where kind = 'missing-page' and status = 'open'")
    assert open_missing[0]["n"] == 0
    with pytest.raises(NotFound):
        quarantine.retry(ws, items[0]["id"], "admin")                # a closed item cannot be retried twice


def test_whole_file_retry_and_discard(tmp_path: Path) -> None:
    scans = _set(tmp_path / "scans", (0.0, 1.0), 32)                # only satysfakcja-5
    ws = init_workspace(tmp_path / "ws", DEMO_OFFICE)
    publish_form(ws, "lesko-f1")
    inbox_copy = ws.folder("inbox") / scans[0].name
    inbox_copy.write_bytes(scans[0].read_bytes())
    s = batch.ingest(ws, None, workers=1, min_age_s=0, settle_s=0, draft_texts=False)
    assert len(s.quarantined) == 1 and s.sheets == 0
    [item] = quarantine.list_open(ws)
    assert item["page_index"] is None and (ws.home / item["path"]).exists()
    publish_form(ws, "satysfakcja-5")
    assert "Wczytano" in quarantine.retry(ws, item["id"], "admin")
    assert store.rows(ws.db, "select count(*) as n from sheets")[0]["n"] == 2
    # a file that is not a scan at all: discarding removes it and records who did it
    (ws.folder("inbox") / "lista.pdf").write_text("lista obecności", "utf-8")
    batch.ingest(ws, None, workers=1, min_age_s=0, settle_s=0, draft_texts=False)
    [junk] = quarantine.list_open(ws)
    quarantine.discard(ws, junk["id"], "admin")
    assert not (ws.home / junk["path"]).exists() and quarantine.list_open(ws) == []
    assert store.rows(ws.db, "select user from audit_log where action = 'quarantine.discard'") == [{"user": "admin"}]
