"""The ingest run: nothing lost, nothing twice, nothing stops the batch. Damaged inputs are generated
here, at test time; the crash test kills a real `ankieta ingest` process with SIGKILL."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image

from pipeline import store
from pipeline.base.errors import ExitCode, Locked
from pipeline.runs import export, workspace
from pipeline.runs.ingest import batch, inbox
from samples.generate import generate_set
from samples.synth import DEMO_OFFICE


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three small stacks of the clean profile at 200 DPI (fast to read), with truth.json."""
    from dataclasses import replace

    from samples.profiles import PROFILES

    out = tmp_path_factory.mktemp("scans")
    prof = replace(PROFILES["clean"], dpi=((200, 1.0),))
    generate_set(out, 6, seed=5, profile=prof, formats=("pdf",), files=3)
    return out


def _stacks(scans: Path) -> list[Path]:
    return sorted(p for p in scans.iterdir() if p.suffix == ".pdf")


@pytest.fixture
def ws(tmp_path: Path) -> workspace.Workspace:
    w = workspace.init_workspace(tmp_path / "ws", DEMO_OFFICE)
    for form in ("lesko-f1", "satysfakcja-5"):
        workspace.publish_form(w, form)
    return w


def _drop(ws: workspace.Workspace, *files: Path) -> None:
    for f in files:
        (ws.folder("inbox") / f.name).write_bytes(f.read_bytes())


def _counts(ws: workspace.Workspace) -> dict[str, int]:
    q = "select (select count(*) from sheets where status != 'duplicate') as sheets, (select count(*) from pages) as pages, " \
        "(select count(*) from files) as files"
    return store.rows(ws.db, q)[0]


def test_inbox_files_are_read_archived_and_never_twice(ws: workspace.Workspace, scans: Path) -> None:
    stacks = _stacks(scans)
    _drop(ws, *stacks)
    s = batch.ingest(ws, None, label="urna 2, 2026-11", workers=2, min_age_s=0, settle_s=0)
    assert s.files == 3 and s.quarantined == () and s.sheets == 6
    assert list(ws.folder("inbox").iterdir()) == []
    archived = sorted(p.name for p in ws.folder("archive").rglob("*.pdf"))
    assert archived == sorted(p.name for p in stacks)
    before = _counts(ws)
    # the same files dropped again (a scanner re-sent them): nothing read twice
    _drop(ws, *stacks)
    s2 = batch.ingest(ws, None, workers=2, min_age_s=0, settle_s=0)
    assert sorted(s2.duplicates) == sorted(p.name for p in stacks) and s2.pages == 0
    assert _counts(ws) == before
    assert len(list(ws.folder("archive").rglob("duplikaty/*.pdf"))) == 3
    # every response carries the paper batch label
    labels = {r["batch_label"] for r in store.rows(ws.db, "select batch_label from sheets")}
    assert labels == {"urna 2, 2026-11"}
    row = store.rows(ws.db, "select * from batches where id = ?", [s.batch_id])[0]
    assert row["status"] == "done" and row["sheets"] == 6 and row["files"] == 3


def test_same_sheet_scanned_twice_is_a_duplicate_review_item(ws: workspace.Workspace, scans: Path) -> None:
    first = _stacks(scans)[0]
    batch.ingest(ws, [first], workers=1, draft_texts=False)
    # a rescan of the same paper: same serials, different bytes (a new file)
    rescan = ws.home / "rescan.pdf"
    with pikepdf.open(first) as pdf:
        pdf.docinfo["/Title"] = "ponowny skan"
        pdf.save(rescan)
    n_before = _counts(ws)["sheets"]
    batch.ingest(ws, [rescan], workers=1, draft_texts=False)
    assert _counts(ws)["sheets"] == n_before                     # never a second response
    dups = store.rows(ws.db, "select id, duplicate_of from sheets where status = 'duplicate'")
    assert dups and all(d["id"].startswith(d["duplicate_of"] + "~") for d in dups)
    items = store.rows(ws.db, "select sheet_id from review_items where kind = 'duplicate' and status = 'open'")
    assert {i["sheet_id"] for i in items} == {d["id"] for d in dups}
    assert all(s["sheet"] not in {d["id"] for d in dups} for s in json.loads(export.export_json(ws))["sheets"])


def _damaged_inputs(folder: Path, good: Path) -> dict[str, str]:
    """Write damaged files; returns name -> expected reason code."""
    (folder / "pusty.pdf").write_bytes(b"")
    (folder / "notatka.pdf").write_text("To nie jest PDF, tylko notatka.\n", "utf-8")
    data = good.read_bytes()
    (folder / "uciety.pdf").write_bytes(data[: len(data) // 2])
    with pikepdf.open(good) as pdf:
        pdf.save(folder / "haslo.pdf", encryption=pikepdf.Encryption(owner="a", user="tajne"))
    # a PDF whose embedded JPEG is cut: renderers would paint it white and read "no marks"
    img = Image.fromarray(np.full((1400, 1000), 230, np.uint8))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    jpeg = buf.getvalue()
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    pdf.pages[0].Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=pikepdf.Stream(pdf, jpeg[: len(jpeg) // 2],
                                                 Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=1000,
                                                 Height=1400, ColorSpace=pikepdf.Name.DeviceGray, BitsPerComponent=8,
                                                 Filter=pikepdf.Name.DCTDecode)))
    pdf.pages[0].Contents = pikepdf.Stream(pdf, b"q 595 0 0 842 0 0 cm /Im0 Do Q")
    pdf.save(folder / "ucieta-grafika.pdf")
    Image.fromarray(np.full((400, 300), 255, np.uint8)).save(folder / "tiff-uciety.tif", compression="tiff_lzw")
    t = (folder / "tiff-uciety.tif").read_bytes()
    (folder / "tiff-uciety.tif").write_bytes(t[: len(t) - 200])
    # a PNG whose header claims 60000 x 60000 pixels: refused before allocating anything
    huge = io.BytesIO()
    Image.new("L", (8, 8)).save(huge, "PNG")
    raw = bytearray(huge.getvalue())
    raw[16:24] = (60000).to_bytes(4, "big") + (60000).to_bytes(4, "big")
    import zlib

    raw[29:33] = zlib.crc32(bytes(raw[12:29])).to_bytes(4, "big")
    (folder / "ogromny.png").write_bytes(bytes(raw))
    return {"pusty.pdf": "empty", "notatka.pdf": "not-a-scan", "uciety.pdf": "", "haslo.pdf": "encrypted",
            "ucieta-grafika.pdf": "", "tiff-uciety.tif": "", "ogromny.png": "too-large"}


def test_damaged_files_are_quarantined_and_the_batch_goes_on(ws: workspace.Workspace, scans: Path) -> None:
    good = _stacks(scans)
    expected = _damaged_inputs(ws.folder("inbox"), good[0])
    _drop(ws, good[1])
    s = batch.ingest(ws, None, workers=2, min_age_s=0, settle_s=0, draft_texts=False)
    assert not s.exit_ok
    assert s.files >= 1 and s.sheets == 2                      # the good stack was read in full
    q = {r["file_name"]: r for r in store.open_quarantine(ws.db)}
    assert set(expected) <= set(q)
    for name, code in expected.items():
        if code:
            assert q[name]["reason"] == code, name
        if q[name]["path"]:
            moved = ws.home / q[name]["path"]
            assert moved.exists(), name                        # nothing lost: the file is kept
            reason = moved.with_name(moved.name + ".powod.txt").read_text("utf-8")
            assert "Powód:" in reason and "Co zrobić" in reason
    assert [p.name for p in ws.folder("inbox").iterdir()] == []


def test_scans_printed_by_another_office_are_not_read_against_this_geometry(tmp_path: Path, scans: Path) -> None:
    """Same form name and version number, different content (here: another department list moves the boxes of
    q4): the page-code fingerprint does not match, so every form page is rejected, none read as a sheet."""
    other = workspace.init_workspace(tmp_path / "other", replace(DEMO_OFFICE, departments=DEMO_OFFICE.departments[:3]))
    for form in ("lesko-f1", "satysfakcja-5"):
        assert workspace.publish_form(other, form).version == 1
    stack = _stacks(scans)[0]
    _drop(other, stack)
    s = batch.ingest(other, None, workers=1, min_age_s=0, settle_s=0, draft_texts=False)
    assert s.sheets == 0 and not s.exit_ok
    rejected = store.rows(other.db, "select reason, message from pages where status != 'read'")
    lesko = [r for r in rejected if "lesko-f1" in r["message"]]
    assert lesko and all(r["reason"] == "unknown-form" for r in lesko)
    assert "inną treścią" in lesko[0]["message"] and "innego urzędu" in lesko[0]["message"]
    assert store.rows(other.db, "select count(*) as n from box_readings")[0]["n"] == 0


def test_a_file_still_being_written_is_not_taken(ws: workspace.Workspace, scans: Path) -> None:
    good = _stacks(scans)[0]
    target = ws.folder("inbox") / "skan-w-toku.pdf"
    data = good.read_bytes()
    target.write_bytes(data[:1000])
    old = time.time() - 3600
    os.utime(target, (old, old))                               # old enough, but it is still growing:

    def keep_writing() -> None:
        time.sleep(0.3)
        with target.open("ab") as fh:
            fh.write(data[1000:5000])

    writer = threading.Thread(target=keep_writing)
    writer.start()
    s = batch.ingest(ws, None, workers=1, min_age_s=60, settle_s=1.0, draft_texts=False)
    writer.join()
    assert s.waiting == ("skan-w-toku.pdf",) and s.quarantined == () and target.exists()
    # a young file is left for the next run; a temporary name is never taken
    (ws.folder("inbox") / "nowy.pdf").write_bytes(data)
    (ws.folder("inbox") / "~skan.pdf.part").write_bytes(data)
    target.write_bytes(data)
    s = batch.ingest(ws, None, workers=1, min_age_s=60, settle_s=0, draft_texts=False)
    assert set(s.waiting) == {"nowy.pdf", "skan-w-toku.pdf"} and s.files == 0


def test_second_run_is_refused_while_one_holds_the_lock(ws: workspace.Workspace) -> None:
    with inbox.workspace_lock(ws), pytest.raises(Locked, match="pid"):
        batch.ingest(ws, None, workers=1, min_age_s=0, settle_s=0)
    r = subprocess.run([sys.executable, "-m", "pipeline.cli", "--home", str(ws.home), "ingest"], capture_output=True, text=True)
    assert r.returncode == ExitCode.OK


def test_lock_exit_code_from_the_command_line(ws: workspace.Workspace) -> None:
    with inbox.workspace_lock(ws):
        r = subprocess.run([sys.executable, "-m", "pipeline.cli", "--home", str(ws.home), "ingest"],
                           capture_output=True, text=True)
    assert r.returncode == ExitCode.LOCKED and "Wczytywanie już trwa" in r.stderr


def test_killed_run_resumes_without_loss_or_duplicates(ws: workspace.Workspace, scans: Path) -> None:
    stacks = _stacks(scans)
    _drop(ws, *stacks)
    for f in ws.folder("inbox").iterdir():
        os.utime(f, (time.time() - 3600, time.time() - 3600))
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "--home", str(ws.home), "ingest", "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:                              # kill it once the first file is committed
        if store.rows(ws.db, "select count(*) as n from files")[0]["n"] >= 1:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = store.rows(ws.db, "select count(*) as n from files")[0]["n"]
    assert 1 <= done < 3, "the kill should land mid-batch"
    r = subprocess.run([sys.executable, "-m", "pipeline.cli", "--home", str(ws.home), "ingest"], capture_output=True, text=True)
    assert r.returncode == ExitCode.OK, r.stderr
    truth = json.loads((scans / "truth.json").read_text("utf-8"))
    expected_pages = sum(len(v) for v in truth["files"].values())
    rows = store.rows(ws.db, "select file_name, page_index, count(*) as n from pages group by file_sha256, page_index")
    assert len(rows) == expected_pages and all(r["n"] == 1 for r in rows)
    assert _counts(ws)["sheets"] == 6 and _counts(ws)["files"] == 3
    assert list(ws.folder("inbox").iterdir()) == []
