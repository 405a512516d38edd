"""Scans uploaded through the browser (pipeline/runs/ingest/uploads.py): written atomically into the inbox and read by the
night's ingest rules: a good scan is read, a damaged one quarantined with its Polish reason, a known one
skipped; when another run holds the lock the files wait in the inbox for it."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from pipeline import store
from pipeline.base import config as C
from pipeline.base.errors import InvalidInput
from pipeline.runs import workspace
from pipeline.runs.ingest import batch, inbox, uploads

ROOT = Path(__file__).resolve().parents[2]
GOOD = ROOT / "samples" / "scans" / "stack-02-0001.jpg"       # one page of lesko-f1 or satysfakcja-5, 200-300 DPI
STACK = ROOT / "samples" / "scans" / "stack-01.pdf"


@pytest.fixture
def demo(tmp_path: Path) -> workspace.Workspace:
    """The office and form versions the committed sample scans were printed from."""
    from samples.synth import DEMO_OFFICE

    ws = workspace.init_workspace(tmp_path / "ws", DEMO_OFFICE)
    for form in ("lesko-f1", "satysfakcja-5"):
        workspace.publish_form(ws, form)
    return ws


def _files(*items: tuple[str, bytes]) -> list[tuple[str, io.BytesIO]]:
    return [(name, io.BytesIO(data)) for name, data in items]


def test_safe_names() -> None:
    assert uploads.safe_name("C:\\Skany\\Urna 2 (listopad).pdf") == "Urna_2_listopad_.pdf"
    assert uploads.safe_name("../../ankieta.db") == "ankieta.db"
    assert uploads.safe_name(".ukryty.pdf") == "ukryty.pdf"
    assert uploads.safe_name("skan.pdf.part") == "skan.pdf.part_"          # would wait forever in the inbox
    assert uploads.safe_name("żółć.jpg") == "żółć.jpg" and uploads.safe_name("...") == "skan"


def test_good_damaged_and_known_files(demo: workspace.Workspace) -> None:
    good = GOOD.read_bytes()
    data = STACK.read_bytes()
    result = uploads.upload_and_ingest(demo, _files(("strona 1.jpg", good), ("stos.pdf", data[: len(data) // 3]),
                                                    ("kopia.jpg", good), ("list.pdf", b"Szanowni Panstwo, ...")),
                                       "admin", label="urna 1")
    by_name = {f.original: f for f in result.files}
    ok = by_name["strona 1.jpg"]
    assert ok.status == "read" and ok.name == "strona_1.jpg" and ok.pages == 1 and len(ok.sheets) == 1
    assert ok.review_items == store.rows(demo.db, "select count(*) as n from review_items where status = 'open'")[0]["n"]
    cut = by_name["stos.pdf"]
    assert cut.status == "quarantined" and cut.label == "w kwarantannie" and "stos.pdf" in cut.message
    assert any(w in cut.message for w in ("ucięty", "uszkodzony"))
    assert by_name["kopia.jpg"].status == "duplicate" and "już wczytany" in by_name["kopia.jpg"].message
    assert by_name["list.pdf"].status == "quarantined" and "nie jest skanem" in by_name["list.pdf"].message
    assert result.batch_id and result.quarantined == 2
    # nothing left in the inbox; the evidence kept where the night's run keeps it
    assert not any(demo.folder("inbox").iterdir())
    assert [p.name for p in demo.folder("archive").rglob("strona_1.jpg")]
    reasons = list(demo.folder("quarantine").rglob("*.powod.txt"))
    assert len(reasons) == 2 and all("Powód:" in p.read_text("utf-8") for p in reasons)
    sheet = store.rows(demo.db, "select * from sheets where id = ?", [ok.sheets[0]])[0]
    assert sheet["batch_label"] == "urna 1" and sheet["channel"] == "paper"
    audit = store.rows(demo.db, "select details from audit_log where action = 'scan.upload'")
    assert "strona_1.jpg" in audit[0]["details"]


def test_a_held_lock_leaves_the_files_for_the_next_run(demo: workspace.Workspace) -> None:
    with inbox.workspace_lock(demo):           # the night's run, as far as the upload can tell
        result = uploads.upload_and_ingest(demo, _files(("strona.jpg", GOOD.read_bytes())), "admin")
    assert result.batch_id == 0 and "Wczytywanie już trwa" in result.locked_message
    assert "nie wysyłaj ich ponownie" in result.locked_message and result.files[0].status == "waiting"
    waiting = demo.folder("inbox") / "strona.jpg"
    assert waiting.is_file() and waiting.read_bytes() == GOOD.read_bytes()
    assert [p.name for p in demo.folder("inbox").iterdir()] == ["strona.jpg"]      # no temporary file left
    later = batch.ingest(demo, None, workers=1, min_age_s=0, settle_s=0)
    assert later.files == 1 and later.sheets == 1 and not waiting.exists()


def test_limits_leave_nothing_behind(demo: workspace.Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidInput) as exc:
        uploads.store_uploads(demo, [])
    assert "co najmniej jeden plik" in exc.value.message
    monkeypatch.setattr(C, "UPLOAD_MAX_FILES", 2)
    with pytest.raises(InvalidInput) as exc:
        uploads.store_uploads(demo, _files(("a.jpg", b"1"), ("b.jpg", b"2"), ("c.jpg", b"3")))
    assert "Za dużo plików naraz (3); wyślij najwyżej 2" in exc.value.message
    monkeypatch.setattr(C, "UPLOAD_MAX_BYTES", 1000)
    with pytest.raises(InvalidInput) as exc:
        uploads.store_uploads(demo, _files(("a.jpg", b"x" * 600), ("b.jpg", b"y" * 600)))
    assert "większe niż" in exc.value.message
    assert not any(demo.folder("inbox").iterdir())
    stored = uploads.store_uploads(demo, _files(("a.jpg", b"x" * 600), ("a.jpg", b"y" * 300)))
    assert [s.name for s in stored] == ["a.jpg", "a-1.jpg"] and [s.size for s in stored] == [600, 300]


def test_a_long_name_keeps_its_extension() -> None:
    name = uploads.safe_name("Skan " + "bardzo długiej nazwy " * 15 + "urna 2.PDF")
    assert len(name) <= C.UPLOAD_NAME_MAX_CHARS and name.endswith(".PDF") and name.startswith("Skan_bardzo")
    assert uploads.safe_name("x" * 400 + ".jpeg").endswith(".jpeg")
    assert uploads.safe_name("skan." + "a" * 300) == ("skan." + "a" * 300)[:C.UPLOAD_NAME_MAX_CHARS]   # no real extension


def _wait_for(demo: workspace.Workspace, job_id: str) -> uploads.UploadJob:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        job = uploads.upload_job(demo, job_id)
        assert job is not None
        if not job.running:
            return job
        time.sleep(0.1)
    raise AssertionError("the upload did not finish")


def test_an_upload_returns_at_once_and_is_read_in_the_background(demo: workspace.Workspace) -> None:
    with uploads._ONE_AT_A_TIME:           # the reader is busy (an earlier upload): the request must not wait for it
        job_id = uploads.start_upload(demo, _files(("strona.jpg", GOOD.read_bytes())), "admin", label="urna 7")
        job = uploads.upload_job(demo, job_id)
        assert job is not None and job.running and job.files == ("strona.jpg",) and job.result is None
        assert (demo.folder("inbox") / "strona.jpg").is_file()          # stored before the request returned
    done = _wait_for(demo, job_id)
    assert done.status == "done" and done.result is not None and done.message == ""
    assert [(f.original, f.status, f.pages) for f in done.result.files] == [("strona.jpg", "read", 1)]
    assert done.files_done == 1 and done.result.batch_id
    assert store.rows(demo.db, "select count(*) as n from sheets where batch_label = 'urna 7'")[0]["n"] == 1
    assert [j.id for j in uploads.recent_upload_jobs(demo)] == [job_id]


def test_a_job_whose_server_stopped_says_so(demo: workspace.Workspace) -> None:
    store.insert_upload_job(demo.db, "stary", "admin", '["a.pdf"]')     # "running", but no thread runs it here
    job = uploads.upload_job(demo, "stary")
    assert job is not None and job.status == "interrupted" and "przerwane" in job.label
