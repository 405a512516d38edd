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
from pipeline.runs.ingest import batch
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


def test_a_symbolic_link_in_the_inbox_is_archived_as_the_scan_it_points_to(ws: workspace.Workspace, scans: Path,
                                                                             tmp_path: Path) -> None:
    real = tmp_path / "skaner" / "stack-01.pdf"          # the scanner's software keeps the file elsewhere ...
    real.parent.mkdir()
    shutil.copyfile(sorted(scans.glob("*.pdf"))[0], real)
    link = ws.folder("inbox") / "stack-01.pdf"             # ... and links it into the inbox
    link.symlink_to(real)
    s = batch.ingest(ws, None, workers=1, min_age_s=0, settle_s=0)
    assert s.files == 1 and s.quarantined == () and s.sheets >= 1
    archived = [p for p in ws.folder("archive").rglob("*.pdf")]
    assert len(archived) == 1 and not archived[0].is_symlink() and archived[0].read_bytes() == real.read_bytes()
    assert not link.exists() and not link.is_symlink() and real.is_file()   # the link is gone, the real file untouched
    row = store.rows(ws.db, "select archived_as from files")[0]
    assert not (ws.home / row["archived_as"]).is_symlink()


def test_fifos_and_dangling_links_are_reported_and_skipped(ws: workspace.Workspace, scans: Path) -> None:
    inbox_dir = ws.folder("inbox")
    os.mkfifo(inbox_dir / "kolejka.pdf")                   # reading it would block the night's run forever
    (inbox_dir / "znikniety.pdf").symlink_to(inbox_dir / "nie-ma-takiego.pdf")
    shutil.copyfile(sorted(scans.glob("*.pdf"))[0], inbox_dir / "dobry.pdf")
    s = batch.ingest(ws, None, workers=1, min_age_s=0, settle_s=0)
    assert s.files == 1 and s.sheets >= 1
    reasons = dict(s.skipped)
    assert set(reasons) == {"kolejka.pdf", "znikniety.pdf"}
    assert "FIFO" in reasons["kolejka.pdf"] and "którego nie ma" in reasons["znikniety.pdf"]
    assert not s.exit_ok                                   # someone has to look: exit code 3
    r = _ingest(ws)                                        # and the command line says so, every time
    assert r.returncode == ExitCode.QUARANTINED and "pominięty: kolejka.pdf" in r.stdout, r.stdout + r.stderr
    assert "Traceback" not in r.stderr


def test_a_file_already_quarantined_is_recognised_when_the_folder_is_read_again(ws: workspace.Workspace,
                                                                                tmp_path: Path) -> None:
    folder = tmp_path / "teczka"
    folder.mkdir()
    (folder / "pusty.pdf").write_bytes(b"")                              # damaged in ways caught before reading
    (folder / "tekst.pdf").write_text("To nie jest PDF, tylko notatka.", "utf-8")
    first = batch.ingest(ws, [folder], workers=1, min_age_s=0, settle_s=0)
    assert len(first.quarantined) == 2
    rows = store.rows(ws.db, "select count(*) as n from quarantine")[0]["n"]
    for _ in range(2):                                                    # the same folder, read again and again
        again = batch.ingest(ws, [folder], workers=1, min_age_s=0, settle_s=0)
        assert again.quarantined == () and sorted(again.duplicates) == ["pusty.pdf", "tekst.pdf"]
    assert store.rows(ws.db, "select count(*) as n from quarantine")[0]["n"] == rows     # not quarantined again
    assert len(list(ws.folder("quarantine").rglob("*.powod.txt"))) == 2
