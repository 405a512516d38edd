"""The review stage as a library: queue, decisions, undo, and what the export makes of them."""

from __future__ import annotations

import json
from pathlib import Path

import pikepdf
import pytest

from pipeline import store
from pipeline.base.errors import InvalidInput, NotFound
from pipeline.runs import export, review, workspace
from pipeline.runs.ingest import batch
from tests.web.harness import copy_workspace


@pytest.fixture
def ws(prepared_batch: Path, tmp_path: Path) -> workspace.Workspace:
    return copy_workspace(prepared_batch / "ws", tmp_path / "ws")


def _exported(ws: workspace.Workspace, sheet_id: str) -> dict:
    return next(s for s in json.loads(export.export_json(ws))["sheets"] if s["sheet"] == sheet_id)


def _open(ws: workspace.Workspace, kind: str) -> list[dict]:
    return store.rows(ws.db, "select * from review_items where kind = ? and status = 'open' order by id", [kind])


def test_queue_lists_sheets_with_open_items_oldest_batch_first(ws: workspace.Workspace) -> None:
    rows = review.queue(ws.db)
    open_total = store.rows(ws.db, "select count(*) as n from review_items where status = 'open'")[0]["n"]
    assert rows and sum(r.open_items for r in rows) == open_total
    assert all(r.open_items == sum(r.counts.values()) for r in rows)
    assert [r.batch_id for r in rows] == sorted(r.batch_id or 0 for r in rows)
    kinds = {k for r in rows for k in r.counts}
    assert {"box", "question", "text"} <= kinds, "the office profile must give every kind of work"


def test_box_decision_closes_item_and_undo_reopens_it(ws: workspace.Workspace) -> None:
    item = _open(ws, "box")[0]
    sid, box = item["sheet_id"], item["target"]
    machine_before = store.rows(ws.db, "select * from box_readings where sheet_id = ? and box_id = ?", [sid, box])
    review.decide_box(ws.db, sid, box, "marked", "ala")
    assert _exported(ws, sid)["boxes"][box] == "marked"
    assert not store.rows(ws.db, "select 1 from review_items where id = ? and status = 'open'", [item["id"]])
    assert store.rows(ws.db, "select * from box_readings where sheet_id = ? and box_id = ?", [sid, box]) == machine_before
    d = store.rows(ws.db, "select * from decisions where sheet_id = ?", [sid])[-1]
    assert d["user"] == "ala" and d["decided_at"] and d["value"] == "marked"
    assert store.rows(ws.db, "select 1 from audit_log where action = 'review.box' and user = 'ala'")
    review.undo(ws.db, sid, "ala")
    assert _exported(ws, sid)["boxes"][box] == "uncertain"
    assert store.rows(ws.db, "select status from review_items where id = ?", [item["id"]])[0]["status"] == "open"
    with pytest.raises(NotFound):
        review.undo(ws.db, sid, "ala")


def test_sheet_is_final_when_nothing_is_open(ws: workspace.Workspace) -> None:
    sid = review.queue(ws.db)[0].sheet_id
    while (nxt := review.next_open(ws.db, sid)) and nxt[0] == sid:
        item = review.sheet_view(ws.db, sid).item(nxt[1])
        if item.kind == "box":
            review.decide_box(ws.db, sid, item.target, "empty", "ala")
        elif item.kind == "question":
            group, members = next(iter(item.groups.items()))
            review.choose_answer(ws.db, sid, group, members[0], "ala")
        elif item.kind == "text":
            review.transcribe(ws.db, sid, item.target, "bez uwag", "ala")
        else:
            pytest.skip(f"unexpected first item kind {item.kind}")
    assert store.rows(ws.db, "select status from sheets where id = ?", [sid])[0]["status"] == "final"
    obj = _exported(ws, sid)
    assert obj["status"] == "final" and not obj["needs_review"] and obj["open_questions"] == []


def test_double_mark_choose_and_one_undo_reverts_the_whole_choice(ws: workspace.Workspace) -> None:
    item = _open(ws, "question")[0]
    sid = item["sheet_id"]
    it = review.sheet_view(ws.db, sid).item(item["id"])
    group, members = next(iter(it.groups.items()))
    marked = [m for m in members if review.sheet_view(ws.db, sid).box(m).state == "marked"]
    assert len(marked) >= 2
    review.choose_answer(ws.db, sid, group, marked[-1], "ala")
    obj = _exported(ws, sid)
    assert group not in obj["open_questions"] and all(obj["boxes"][m] == ("marked" if m == marked[-1] else "empty")
                                                      for m in marked)
    review.undo(ws.db, sid, "ala")
    assert all(_exported(ws, sid)["boxes"][m] == "marked" for m in marked)
    assert store.rows(ws.db, "select status from review_items where id = ?", [item["id"]])[0]["status"] == "open"


def test_invalid_verdict_and_a_correction_that_creates_a_double_mark(ws: workspace.Workspace) -> None:
    item = _open(ws, "question")[0]
    sid = item["sheet_id"]
    group = next(iter(review.sheet_view(ws.db, sid).item(item["id"]).groups))
    review.declare_invalid(ws.db, sid, group, "ala")
    answers = _exported(ws, sid)["answers"]
    qid, _, row = group.partition(".")
    assert (answers[qid][row] if row else answers[qid]) == "invalid"
    # any box can be corrected; marking a second answer of a single-choice question must reopen the question
    view = review.sheet_view(ws.db, sid)
    single = next(q for q in view.layout.questions if q.kind == "single" and q.id != qid
                  and any(view.box(f"{q.id}.{o.id}").state == "marked" for o in q.options if _has(view, f"{q.id}.{o.id}")))
    empty = next(f"{single.id}.{o.id}" for o in single.options if _has(view, f"{single.id}.{o.id}")
                 and view.box(f"{single.id}.{o.id}").state == "empty")
    review.decide_box(ws.db, sid, empty, "marked", "ala")
    assert store.rows(ws.db, "select 1 from review_items where sheet_id = ? and kind = 'question' and target = ? "
                             "and status = 'open'", [sid, single.id])
    review.undo(ws.db, sid, "ala")
    assert not store.rows(ws.db, "select 1 from review_items where sheet_id = ? and kind = 'question' and target = ? "
                                 "and status = 'open'", [sid, single.id])


def _has(view: review.SheetView, box_id: str) -> bool:
    try:
        view.box(box_id)
    except NotFound:
        return False
    return True


def test_transcription_and_complaint_flag(ws: workspace.Workspace) -> None:
    item = _open(ws, "text")[0]
    sid, area = item["sheet_id"], item["target"]
    assert area not in _exported(ws, sid)["texts"]              # a draft is not an answer until confirmed
    review.transcribe(ws.db, sid, area, "  Pani w okienku była niemiła, skarżę się.  ", "ala", complaint=True)
    assert _exported(ws, sid)["texts"][area] == "Pani w okienku była niemiła, skarżę się."
    assert (sid, area) in store.complaint_targets(ws.db)
    review.flag_complaint(ws.db, sid, area, False, "ala")
    assert (sid, area) not in store.complaint_targets(ws.db)
    with pytest.raises(InvalidInput):
        review.decide_box(ws.db, sid, next(iter(review.sheet_view(ws.db, sid).pages[0].boxes)).id, "maybe", "ala")


def test_a_reread_never_overwrites_a_decision(ws: workspace.Workspace) -> None:
    item = _open(ws, "box")[0]
    sid, box = item["sheet_id"], item["target"]
    review.decide_box(ws.db, sid, box, "empty", "ala")
    page_id = store.rows(ws.db, "select page_id from box_readings where sheet_id = ? and box_id = ?", [sid, box])[0]["page_id"]

    class Reading:
        box_id, state, confidence, metrics, reason = box, "marked", 0.9, {"coverage": 0.3}, ""

    store.insert_box_readings(ws.db, page_id, sid, [Reading()])   # the machine reads the page again
    assert _exported(ws, sid)["boxes"][box] == "empty"
    assert json.loads(export.export_json(ws, machine=True))["sheets"]


def test_duplicate_keep_one_and_missing_page_accepted(ws: workspace.Workspace, prepared_batch: Path) -> None:
    first = sorted((prepared_batch / "scans").glob("*.pdf"))[0]
    rescan = ws.home / "ponownie.pdf"
    with pikepdf.open(first) as pdf:
        pdf.docinfo["/Title"] = "ponowny skan"
        pdf.save(rescan)
    batch.ingest(ws, [rescan], workers=1, draft_texts=False)
    dup = _open(ws, "duplicate")[0]
    sid, original = dup["sheet_id"], dup["target"]
    assert any(r.sheet_id == sid for r in review.queue(ws.db))
    review.resolve_duplicate(ws.db, sid, "keep-this", "ala")
    states = _statuses(ws, sid, original)
    assert states[original] == "duplicate" and states[sid] != "duplicate"
    review.undo(ws.db, sid, "ala")
    review.resolve_duplicate(ws.db, sid, "keep-original", "ala")
    states = _statuses(ws, sid, original)
    assert states[sid] == "duplicate" and states[original] != "duplicate"
    assert all(r.sheet_id != sid for r in review.queue(ws.db))     # a discarded rescan is nobody's work
    # a sheet missing a page (its last page's row marked unread here): accepted as partial, undo reopens it
    target = review.queue(ws.db)[0].sheet_id
    ws.db.execute("update pages set status = 'rejected' where id = (select max(id) from pages where sheet_id = ?)", [target])
    store.add_review_item(ws.db, target, "missing-page", "", "brak strony", None)
    review.accept_partial(ws.db, target, "ala")
    assert not _open(ws, "missing-page")
    review.undo(ws.db, target, "ala")
    assert [r["sheet_id"] for r in _open(ws, "missing-page")] == [target]


def _statuses(ws: workspace.Workspace, *ids: str) -> dict[str, str]:
    return {r["id"]: r["status"] for r in store.rows(ws.db, "select id, status from sheets where id in (?, ?)", list(ids))}
