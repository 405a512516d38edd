"""The ingest at the edges of the file system (issue 18): a full disk ends the run with a Polish message and exit code
9, never a traceback, and a rerun recovers everything; symbolic links are archived as the scan they point to;
FIFOs and other special files are reported and skipped; a file already in quarantine is recognised by its sha256
when the same folder is read again."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import store
from pipeline.base.errors import ExitCode
from pipeline.runs import workspace
from samples.generate import generate_set
from samples.synth import DEMO_OFFICE


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from samples.profiles import PROFILES

    out = tmp_path_factory.mktemp("scans")
    generate_set(out, 6, seed=5, profile=replace(PROFILES["clean"], dpi=((200, 1.0),)), formats=("pdf",), files=3)
    return out


@pytest.fixture
def ws(tmp_path: Path) -> workspace.Workspace:
    w = workspace.init_workspace(tmp_path / "ws", DEMO_OFFICE)
    for form in ("lesko-f1", "satysfakcja-5"):
        workspace.publish_form(w, form)
    return w


def _ingest(ws: workspace.Workspace, *args: str, file_size_limit: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        # A disk that fills up, as the kernel lets an unprivileged test have it: writes past the limit fail with
        # EFBIG (SIGXFSZ ignored), the same refusal at the same moments as ENOSPC on a full disk.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        assert file_size_limit is not None
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run([sys.executable, "-m", "pipeline.cli", "--home", str(ws.home), "ingest", "--workers", "1", *args],
                          capture_output=True, text=True, preexec_fn=limit if file_size_limit else None,
                          env={**os.environ, "OMP_THREAD_LIMIT": "1"})


def _into_inbox(ws: workspace.Workspace, scans: Path) -> list[Path]:
    out = []
    for p in sorted(scans.glob("*.pdf")):
        target = ws.folder("inbox") / p.name
        shutil.copyfile(p, target)
        old = time.time() - 600              # older than the inbox's minimum age
        os.utime(target, (old, old))
        out.append(target)
    return out


def test_a_full_disk_ends_the_run_cleanly_and_a_rerun_recovers_everything(ws: workspace.Workspace, scans: Path) -> None:
    _into_inbox(ws, scans)
    expected_pages = 15
    r = _ingest(ws, file_size_limit=300_000)
    assert r.returncode == ExitCode.STORAGE == 9, r.stderr
    assert "Traceback" not in r.stderr and "Błąd: Wczytywanie przerwane:" in r.stderr
    assert "uruchom wczytywanie ponownie" in r.stderr
    db = ws.db
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    # a refused write is not a fault of the page: no page was rejected as an "error" because of it
    assert store.rows(db, "select count(*) as n from pages where reason = 'error'")[0]["n"] == 0
    assert {r["status"] for r in store.rows(db, "select status from batches")} <= {"failed"}   # if the disk took even that
    stored_before = store.rows(db, "select count(*) as n from pages")[0]["n"]
    assert stored_before < expected_pages
    # the disk has room again: the next run finishes the job, nothing lost and nothing counted twice
    again = _ingest(ws)
    assert again.returncode == 0, again.stderr
    assert store.rows(db, "select count(*) as n, count(distinct file_sha256 || '/' || page_index) as d from pages")[0] == \
        {"n": expected_pages, "d": expected_pages}
    assert store.rows(db, "select count(*) as n from sheets")[0]["n"] == 6
    assert list(ws.folder("inbox").iterdir()) == []
    assert sorted(r["archived_as"].rsplit("/", 1)[-1] for r in store.rows(db, "select archived_as from files")) == \
        sorted(p.name for p in scans.glob("*.pdf"))
