"""Writers in several processes share the database (store/connection.py): a writer waits for another process's
transaction instead of failing, and a wait past the bound is a Polish DatabaseBusy with nothing written."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pipeline import store
from pipeline.base import config as C
from pipeline.base.errors import DatabaseBusy, ExitCode
from pipeline.runs.workspace import Workspace

_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN IMMEDIATE")
conn.execute("insert into audit_log (at, user, action, details) values ('t', 'other', 'hold', '')")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


@contextmanager
def another_process_writing(db_path: Path, seconds: float) -> Iterator[subprocess.Popen[str]]:
    """A separate process (not a thread: the in-process queue must not be what makes it work) holding the write lock."""
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(db_path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    try:
        yield proc
    finally:
        proc.wait(timeout=30)


def test_a_transaction_that_reads_then_writes_waits_for_another_process(workspace: Workspace) -> None:
    db = store.open_db(workspace.home / C.DB_NAME, busy_timeout_s=10)
    with another_process_writing(workspace.home / C.DB_NAME, 1.0):
        t0 = time.monotonic()
        # the pattern that failed at once with "database is locked" under a deferred BEGIN: read, then write, while
        # another process commits in between (sqlite-utils' upsert reads before it writes, as the review and ingest do)
        store.add_user(db, "t", "ala", "reviewer", "hash")
        waited = time.monotonic() - t0
    assert waited > 0.5
    assert store.get_user(db, "ala") is not None
    actions = [r["action"] for r in store.rows(db, "select action from audit_log where action in ('hold', 'user.add')")]
    assert actions == ["hold", "user.add"]          # the other process's write first, then ours


def test_a_wait_past_the_bound_is_a_clear_message_and_nothing_is_written(workspace: Workspace) -> None:
    db = store.open_db(workspace.home / C.DB_NAME, busy_timeout_s=0.3)
    with another_process_writing(workspace.home / C.DB_NAME, 2.0):
        with pytest.raises(DatabaseBusy, match="Baza danych jest zajęta") as err:
            store.add_user(db, "t", "ola", "reviewer", "hash")
        assert err.value.exit_code == ExitCode.BUSY == 8
    assert store.get_user(db, "ola") is None
    assert not db.conn.in_transaction
    store.add_user(db, "t", "ola", "reviewer", "hash")       # afterwards the same call simply works
    assert store.get_user(db, "ola") is not None


def test_nested_blocks_are_savepoints_of_one_immediate_transaction(workspace: Workspace) -> None:
    db = workspace.db
    with pytest.raises(RuntimeError), db.atomic():
        store.audit(db, "t", "outer")
        with pytest.raises(ValueError), db.atomic():
            store.audit(db, "t", "inner")
            raise ValueError
        raise RuntimeError
    assert store.rows(db, "select action from audit_log where action in ('outer', 'inner')") == []


def test_a_survey_sent_while_the_database_stays_busy_comes_back_with_its_answers(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    from pipeline.runs.workspace import publish_form
    from pipeline.web import create_app

    publish_form(workspace, "lesko-f1")
    monkeypatch.setattr(C, "DB_BUSY_TIMEOUT_S", 0.3)
    app = create_app(workspace.home)
    app.config["SURVEY_RATE_LIMIT_POSTS"] = 0
    c = app.test_client()
    page = c.get("/ankieta/lesko-f1").text
    hidden = dict(re.findall(r'name="(csrf_token|zgloszenie|wersja)" value="([^"]*)"', page))
    answers = {"q1": "kobieta", "uwagi.text": "Proszę o dłuższe godziny pracy w czwartki."}
    with another_process_writing(workspace.home / C.DB_NAME, 2.0):
        r = c.post("/ankieta/lesko-f1", data={**answers, **hidden})
    assert r.status_code == 503
    assert "serwer jest chwilowo zajęty" in r.text and "Proszę o dłuższe godziny pracy w czwartki." in r.text
    assert store.rows(workspace.db, "select count(*) as n from sheets")[0]["n"] == 0
    r = c.post("/ankieta/lesko-f1", data={**answers, **hidden})           # sent again a moment later: stored once
    assert r.status_code == 303
    assert store.rows(workspace.db, "select count(*) as n from sheets")[0]["n"] == 1
