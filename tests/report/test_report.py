"""The satisfaction report: every figure of a fixture of known responses, computed by hand below.

Fixture (lesko-f1, period II półrocze 2026; 12 counted sheets, 1 awaiting review, 1 outside the period):

 sheet  gender age     frequency     dept  q7 (multi)          q8 uprzejmosc  q8 sprawnosc  q6
  1-6   K      26-35   kilka-w-roku  fin   brak-trudnosci      5 5 5 5 4 4    3 3 3 2 2 4   tak
  7     K      36-45   kilka-w-roku  usc   brak-trudnosci      4              5             tak
  8     M      36-45   kilka-w-roku  usc   brak-trudnosci      3              3             tak
  9     M      36-45   pierwszy-raz  usc   brak-trudnosci      3              3             tak
  10    M      46-55   pierwszy-raz  usc   bledne, inne        2              3             tak
  11    M      46-55   -             gk    bledne, inne        5              2             nie
  12    M      66plus  -             gk    bledne-informacje   4              4             tak+nie -> invalid

Previous period (6 sheets, all fin, K K K M M M, q7 brak-trudnosci): uprzejmosc 5 5 4 3 3 2, sprawnosc 4 4 5 5 4 3.
"""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline import store
from pipeline.records.layout import Column, FormLayout, Option, Question, Row
from pipeline.report import build as R
from pipeline.report import files as report_files
from pipeline.runs import reporting
from pipeline.runs.workspace import Workspace, publish_form

H2 = R.half_year("2026H2")

CURRENT = [
    # id, channel, batch, gender, age, freq, dept, q7, upr, spr
    ("A01", "paper", "urna 1", "kobieta", "26-35", "kilka-w-roku", "fin", ["brak-trudnosci"], 5, 3),
    ("A02", "paper", "urna 1", "kobieta", "26-35", "kilka-w-roku", "fin", ["brak-trudnosci"], 5, 3),
    ("A03", "paper", "urna 1", "kobieta", "26-35", "kilka-w-roku", "fin", ["brak-trudnosci"], 5, 3),
    ("A04", "paper", "urna 1", "kobieta", "26-35", "kilka-w-roku", "fin", ["brak-trudnosci"], 5, 2),
    ("A05", "paper", "urna 1", "kobieta", "26-35", "kilka-w-roku", "fin", ["brak-trudnosci"], 4, 2),
    ("A06", "paper", "urna 2", "kobieta", "26-35", "kilka-w-roku", "fin", ["brak-trudnosci"], 4, 4),
    ("A07", "paper", "urna 2", "kobieta", "36-45", "kilka-w-roku", "usc", ["brak-trudnosci"], 4, 5),
    ("A08", "paper", "urna 2", "mezczyzna", "36-45", "kilka-w-roku", "usc", ["brak-trudnosci"], 3, 3),
    ("A09", "paper-manual", "", "mezczyzna", "36-45", "pierwszy-raz", "usc", ["brak-trudnosci"], 3, 3),
    ("A10", "paper-manual", "", "mezczyzna", "46-55", "pierwszy-raz", "usc", ["bledne-informacje", "inne"], 2, 3),
    ("A11", "online", "", "mezczyzna", "46-55", None, "gk", ["bledne-informacje", "inne"], 5, 2),
    ("A12", "online", "", "mezczyzna", "66plus", None, "gk", ["bledne-informacje"], 4, 4),
]
PREVIOUS = [("P1", "kobieta", 5, 4), ("P2", "kobieta", 5, 4), ("P3", "kobieta", 4, 5), ("P4", "mezczyzna", 3, 5),
            ("P5", "mezczyzna", 3, 4), ("P6", "mezczyzna", 2, 3)]


def _sheet(ws: Workspace, sid: str, channel: str, batch: str, day: str, answers: list[tuple[str, str, str]],
           status: str = "final") -> None:
    store.insert_manual_sheet(ws.db, {"id": sid, "form": "lesko-f1", "version": 1, "channel": channel, "batch_label": batch,
                                      "received_at": day, "status": status}, answers)


def _answers(gender: str, age: str | None, freq: str | None, dept: str, q7: list[str], upr: int, spr: int,
             q6: list[str]) -> list[tuple[str, str, str]]:
    a = [("q1", "", f"q1.{gender}"), ("q4", "", f"q4.{dept}"), ("q8", "uprzejmosc", f"q8.uprzejmosc.{upr}"),
         ("q8", "sprawnosc", f"q8.sprawnosc.{spr}")]
    a += [("q2", "", f"q2.{age}")] if age else []
    a += [("q3", "", f"q3.{freq}")] if freq else []
    a += [("q7", o, f"q7.{o}") for o in q7]
    a += [("q6", o, f"q6.{o}") for o in q6]
    return a


def fill(ws: Workspace) -> Workspace:
    """Write the fixture of the module docstring into a workspace (also used to eyeball the PDF)."""
    assert publish_form(ws, "lesko-f1").version == 1
    for i, (sid, ch, batch, g, age, freq, dept, q7, upr, spr) in enumerate(CURRENT):
        q6 = ["tak", "nie"] if sid == "A12" else (["nie"] if sid == "A11" else ["tak"])
        ans = _answers(g, age, freq, dept, q7, upr, spr, q6)
        texts = {"A10": [("q7.inne.text", "#text", "długie kolejki")],
                 "A11": [("q7.inne.text", "#text", "brak miejsc parkingowych — skarga na straż")],
                 "A03": [("uwagi.text", "#text", "Bardzo miła obsługa w USC, dziękuję.")],
                 "A08": [("q8.uwagi.text", "#text", "Za długo czekałem na decyzję.")]}.get(sid, [])
        _sheet(ws, sid, ch, f"{batch}, 2026-09" if batch else "", f"2026-{7 + i // 3:02d}-15", ans + texts)
    store.record_decision(ws.db, "A12", "question", "q6", "invalid", "recenzent")
    store.record_decision(ws.db, "A11", "complaint", "q7.inne.text", "tak", "recenzent")
    # awaiting review: excluded but counted; outside the period: ignored
    _sheet(ws, "R01", "paper", "urna 2, 2026-09", "2026-12-31", _answers("kobieta", None, None, "fin", [], 1, 1, []), "review")
    _sheet(ws, "X01", "online", "", "2025-06-01", _answers("kobieta", None, None, "fin", [], 1, 1, []))
    for sid, g, upr, spr in PREVIOUS:
        _sheet(ws, sid, "online", "", "2026-03-10", _answers(g, None, None, "fin", ["brak-trudnosci"], upr, spr, ["tak"]))
    return ws


@pytest.fixture
def filled(workspace: Workspace) -> Workspace:
    return fill(workspace)


@pytest.fixture
def rep(filled: Workspace) -> R.Report:
    return reporting.build(filled, H2, "Anna Nowak")[0]


def _q(rep: R.Report, qid: str) -> R.QuestionReport:
    return next(q for q in rep.questions if q.id == qid)


def _cells(c: R.ChoiceStats | None) -> dict[str, tuple[int, float]]:
    assert c is not None
    return {cell.id: (cell.count, round(cell.pct, 2)) for cell in c.cells}


def test_periods() -> None:
    assert (H2.date_from, H2.date_to, H2.label, H2.days) == (date(2026, 7, 1), date(2026, 12, 31), "II półrocze 2026", 184)
    prev = R.previous_period(H2)                   # 184 days ending 30 June
    assert (prev.date_from, prev.date_to, prev.days) == (date(2025, 12, 29), date(2026, 6, 30), 184)
    assert R.half_year("2027h1").date_to == date(2027, 6, 30)
    with pytest.raises(ValueError):
        R.half_year("2026H3")


def test_method_header_and_forms(rep: R.Report) -> None:
    m = rep.method
    assert m.included == 12 and m.awaiting_review == 1 and m.previous_included == 6
    assert m.by_channel == (("paper", "papier (skan)", 8), ("paper-manual", "papier (wprowadzone ręcznie)", 2),
                            ("online", "online", 2))
    assert m.by_batch == (("urna 1, 2026-09", 5), ("urna 2, 2026-09", 3))
    assert m.invalid_answers == 1                  # A12's double mark in q6, declared invalid
    assert rep.office == "Urząd Miasta i Gminy Lesko" and rep.generated_by == "Anna Nowak"
    assert rep.forms == (R.FormInfo("lesko-f1", "Ankieta do badania zadowolenia klienta", ((1, 12),)),)
    assert [a.version for a in rep.annex] == [1] and rep.annex[0].questions[0].text == "Płeć:"


def test_single_and_multi_choice(rep: R.Report) -> None:
    q6 = _q(rep, "q6").choice
    assert q6 is not None and (q6.n, q6.invalid, q6.no_answer) == (11, 1, 0)
    assert _cells(q6) == {"tak": (10, 90.91), "nie": (1, 9.09), "w-toku": (0, 0.0)}   # 10/11, 1/11
    q7 = _q(rep, "q7").choice
    assert q7 is not None and q7.multi and q7.n == 12 and not q7.protected
    # % of respondents: 9/12, 3/12, 2/12 (sums to more than 100 %)
    assert {k: v for k, v in _cells(q7).items() if v[0]} == {"brak-trudnosci": (9, 75.0), "bledne-informacje": (3, 25.0),
                                                             "inne": (2, 16.67)}
    brak = next(c for c in q7.cells if c.id == "brak-trudnosci")
    assert brak.prev_pct == 100.0 and brak.change_pp == pytest.approx(-25.0)   # previous period: 6/6


def test_profile_small_groups_are_merged(rep: R.Report) -> None:
    prof = {q.id: q.choice for q in rep.profile}
    assert _cells(prof["gender"]) == {"kobieta": (7, 58.33), "mezczyzna": (5, 41.67)}
    # previous period had 3 + 3: below the threshold, so no previous % is shown
    assert all(c.prev_pct is None for c in prof["gender"].cells)  # type: ignore[union-attr]
    # age: 36-45 (3), 46-55 (2), 66plus (1) merged = 6 of 12; empty bands stay
    age = prof["age"]
    assert age is not None
    assert _cells(age) == {"18-25": (0, 0.0), "26-35": (6, 50.0), "56-65": (0, 0.0), R.MERGED_ID: (6, 50.0)}
    assert age.cells[-1].merged == ("36-45", "46-55", "powyżej 66")
    # frequency: pierwszy-raz (2) alone would be computable from 10 - 8, so kilka-w-roku (8) joins the group
    freq = prof["frequency"]
    assert freq is not None and freq.n == 10 and freq.no_answer == 2
    assert {k: v for k, v in _cells(freq).items() if v[0]} == {R.MERGED_ID: (10, 100.0)}
    # the same protection in the per-question section, and the report says so
    assert _cells(_q(rep, "q2").choice) == _cells(age)
    assert rep.notes and "mniej niż 5" in rep.notes[0]


def test_protect_rules() -> None:
    assert R.protect([("a", 10), ("b", 6)], 5) == (set(), False)
    assert R.protect([("a", 10), ("b", 3), ("c", 2)], 5) == ({"b", "c"}, False)
    assert R.protect([("a", 10), ("b", 3), ("c", 0)], 5) == ({"a", "b"}, False)
    assert R.protect([("a", 6), ("b", 7), ("c", 1)], 5) == ({"a", "c"}, False)
    assert R.protect([("a", 3), ("b", 1)], 5) == ({"a", "b"}, True)
    assert R.protect([("a", 0)], 5) == (set(), False)


def test_grid_means_top2_and_comparison(rep: R.Report) -> None:
    g = _q(rep, "q8").grid
    assert g is not None and g.top_values == (4, 5)
    upr, spr = g.rows[0], g.rows[1]
    assert upr.n == 12 and upr.mean == pytest.approx(49 / 12) and upr.top2_pct == pytest.approx(75.0)
    assert dict(upr.counts) == {"1": 0, "2": 1, "3": 2, "4": 4, "5": 5}
    assert upr.prev_mean == pytest.approx(22 / 6) and upr.prev_top2_pct == pytest.approx(50.0)
    assert upr.mean_change == pytest.approx(49 / 12 - 22 / 6) and upr.top2_change_pp == pytest.approx(25.0)
    assert spr.mean == pytest.approx(37 / 12) and spr.top2_pct == pytest.approx(25.0)
    assert spr.prev_mean == pytest.approx(25 / 6) and spr.top2_change_pp == pytest.approx(25.0 - 500 / 6)
    assert g.rows[2].n == 0 and g.rows[2].mean is None
    # satisfaction index: 24 ratings, sum of (v - 1) = 86 - 24 = 62 -> 62 / 24 / 4 * 100
    assert rep.index.answers == 24 and rep.index.value == pytest.approx(62 / 96 * 100)
    assert rep.index.prev_value == pytest.approx(35 / 48 * 100)
    assert rep.index.change == pytest.approx(62 / 96 * 100 - 35 / 48 * 100)


def test_departments_and_actions(rep: R.Report) -> None:
    d = rep.departments
    assert not d.suppressed and d.merged_count == 2 and d.no_answer == 0
    fin, rest = d.rows
    assert (fin.id, fin.label, fin.n) == ("fin", "Referat Finansowy", 6)
    assert fin.index == pytest.approx(33 / 48 * 100) and fin.top2_pct == pytest.approx(7 / 12 * 100)
    assert fin.prev_index == pytest.approx(35 / 48 * 100)
    assert (rest.id, rest.n, rest.merged) == (R.MERGED_ID, 6, ("Kierownik Urzędu Stanu Cywilnego", "Gospodarka Komunalna"))
    assert rest.index == pytest.approx(29 / 48 * 100) and rest.top2_pct == pytest.approx(5 / 12 * 100)
    assert rest.prev_index is None
    (a,) = rep.actions
    assert (a.question, a.row, a.n) == ("q8", "sprawnosc", 12)
    assert a.reasons == ("średnia 3,08 < 3,50", "oceny najwyższe 25,0 % < 70,0 %",
                         "spadek o 58,3 pp względem poprzedniego okresu")


def test_texts_and_complaints(rep: R.Report) -> None:
    q7 = _q(rep, "q7")
    assert [(t.sheet, t.text, t.complaint) for t in q7.texts] == [
        ("A10", "długie kolejki", False), ("A11", "brak miejsc parkingowych — skarga na straż", True)]
    assert [t.text for t in _q(rep, "q8").texts] == ["Za długo czekałem na decyzję."]
    assert [t.text for t in _q(rep, "uwagi").texts] == ["Bardzo miła obsługa w USC, dziękuję."]
    assert [t.sheet for t in rep.complaints] == ["A11"]


def test_versions_merge_by_stable_ids_and_non_scored_columns() -> None:
    cols = (Column("1", "1", 1), Column("2", "2", 2), Column("3", "3", 3), Column("4", "4", 4), Column("5", "5", 5))
    v1 = FormLayout("f", "Ankieta", (Question("g", "grid", "Oceny", 1, rows=(Row("a", "A"), Row("old", "Stary")),
                                              columns=(*cols, Column("nd", "nie dotyczy"))),
                                     Question("s", "single", "Płeć", 2, options=(Option("k", "kobieta"),))))
    v2 = FormLayout("f", "Ankieta v2", (Question("g", "grid", "Oceny (nowe)", 1, rows=(Row("a", "A nowe"),),
                                                 columns=(*cols, Column("nw", "nie wiem"))),))
    merged = R.merge_layouts([v1, v2])
    assert [q.id for q in merged.questions] == ["g", "s"] and merged.questions[0].text == "Oceny (nowe)"
    assert [r.id for r in merged.questions[0].rows] == ["a", "old"]
    assert [c.id for c in merged.questions[0].columns][-2:] == ["nw", "nd"]
    recs = [R.ResponseRecord("1", "f", 1, "online", answers={"g": {"a": 5, "old": 2}}),
            R.ResponseRecord("2", "f", 2, "online", answers={"g": {"a": "nw"}}),
            R.ResponseRecord("3", "f", 2, "online", answers={"g": {"a": 3}}),
            R.ResponseRecord("4", "f", 1, "online", answers={"g": {"a": "nd"}})]
    rep = R.build_report(recs, [], {("f", 1): v1, ("f", 2): v2}, R.Office(), H2, generated_at="x", generated_by="t")
    g = rep.questions[0].grid
    assert g is not None
    a = g.rows[0]
    assert (a.n, a.mean, a.top2_pct, a.not_scored) == (2, 4.0, 50.0, 2)   # "nie wiem"/"nie dotyczy" shown, not averaged
    assert dict(a.counts)["nw"] == 1 and dict(a.counts)["nd"] == 1
    assert rep.index.value == pytest.approx((100 + 25 + 50) / 3)
    assert [(f.versions) for f in rep.forms] == [((1, 2), (2, 2))] and len(rep.annex) == 2


def test_formatting_is_polish() -> None:
    assert R.num(3.0833, 2) == "3,08" and R.pct(58.333) == "58,3 %"
    assert R.change(25.0) == "▲ +25,0 pp" and R.change(-58.33) == "▼ −58,3 pp" and R.change(0.01) == "= 0,0 pp"
    assert R.change(None) == "–"


def test_csv_json_xlsx(filled: Workspace, rep: R.Report) -> None:
    records, _ = reporting.gather(filled, H2)
    text = report_files.report_csv(rep)
    assert text.startswith("\ufeffsekcja;formularz;")
    lines = text.splitlines()
    # ASCII minus: Polish Excel reads "-58,33" as a number, not "−58,33"
    assert any(line.startswith("pytanie;lesko-f1;q8;") and line.endswith(";12;;;3,08;25,00;83,33;-58,33") for line in lines)
    assert "metoda;;;kanał;online;;2;" in text
    doc = json.loads(report_files.report_json(rep))
    assert doc["method"]["included"] == 12 and "0–100" in doc["index_formula"]
    assert doc["period"]["date_from"] == "2026-07-01"
    wb = load_workbook(__import__("io").BytesIO(report_files.report_xlsx(rep, records)))
    assert wb.sheetnames == ["Podsumowanie", "Komórki", "Działania", "Teksty", "Odpowiedzi"]
    summary = [[c.value for c in row] for row in wb["Podsumowanie"].iter_rows()]
    upr = next(r for r in summary if r[0] == "pytanie" and r[2] == "q8" and str(r[4]).startswith("uprzejmość"))
    assert upr[5] == 12 and upr[8] == pytest.approx(49 / 12) and upr[9] == pytest.approx(75.0)
    raw = [[c.value for c in row] for row in wb["Odpowiedzi"].iter_rows()]
    assert raw[0][:6] == report_files.RAW_HEAD and len(raw) == 13            # header + 12 counted sheets
    assert "q8.uprzejmosc" in raw[0] and raw[1][raw[0].index("q8.uprzejmosc")] == 5
    deps = [[c.value for c in row] for row in wb["Komórki"].iter_rows()]
    assert deps[1][:3] == ["Referat Finansowy", None, 6]


def test_generate_archives_and_lists(filled: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "raport.json"
    g = reporting.generate(filled, H2, "json", out, "Anna Nowak")
    assert out.read_bytes() == g.archived.read_bytes() and g.archived.parent == filled.folder("reports")
    import hashlib

    assert g.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    (row,) = reporting.list_reports(filled)
    assert (row["period_from"], row["period_to"], row["format"], row["sheets"], row["user"]) == (
        "2026-07-01", "2026-12-31", "json", 12, "Anna Nowak")
    assert json.loads(row["params_json"])["min_cell"] == 5


def test_pdf_text_sections_and_polish_letters(filled: Workspace, tmp_path: Path) -> None:
    g = reporting.generate(filled, H2, "pdf", tmp_path / "raport.pdf", "Anna Nowak")
    text = subprocess.run(["pdftotext", "-layout", str(g.path), "-"], capture_output=True, text=True, check=True).stdout
    for needle in ("Protokół z badania zadowolenia Klienta", "Urząd Miasta i Gminy Lesko", "II półrocze 2026",
                   "Metoda", "Profil respondentów", "Indeks satysfakcji", "Wyniki według komórek", "Obszary wymagające działań",
                   "Załącznik", "sprawna i szybka obsługa", "długie kolejki", "Anna Nowak", "Strona 1 z"):
        assert needle in text, needle
    assert all(ch in text for ch in "ąęłńóśźż")
    assert "Spis treści" in text


def test_cli_report_and_list(filled: Workspace, tmp_path: Path) -> None:
    import sys

    def ankieta(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pipeline.cli", "--home", str(filled.home), *args],
                              capture_output=True, text=True, timeout=120)

    out = tmp_path / "protokol.xlsx"
    r = ankieta("report", "--half", "2026H2", "-o", str(out), "--by", "Anna Nowak")
    assert r.returncode == 0, r.stderr
    assert "12 arkuszy" in r.stdout and "sha256" in r.stdout
    assert load_workbook(out).sheetnames[0] == "Podsumowanie"        # format taken from the file name
    r = ankieta("report", "--from", "2026-07-01", "--to", "2026-12-31", "--format", "csv", "-o", str(tmp_path / "r.csv"))
    assert r.returncode == 0, r.stderr
    listing = ankieta("report", "list").stdout
    assert "2026-07-01 – 2026-12-31  xlsx" in listing and "csv" in listing and "Anna Nowak" in listing
    r = ankieta("report", "--from", "2026-07-01", "-o", str(tmp_path / "x.pdf"))
    assert r.returncode == 6 and "--half 2026H2" in r.stderr and "Traceback" not in r.stderr
    r = ankieta("report", "--half", "2026H3")
    assert r.returncode == 6 and "2026H1" in r.stderr


def test_time_report_runs_every_format() -> None:
    t = reporting.time_report(30)        # the 10,000-response figure is measured by hand (no timed assert)
    assert t["responses"] == 30 and {"gather_build_s", "pdf_s", "xlsx_s", "csv_s", "json_s"} <= set(t)


def test_empty_period_still_makes_every_format(filled: Workspace, tmp_path: Path) -> None:
    empty = R.half_year("2030H1")
    rep, records = reporting.build(filled, empty, "t")
    assert rep.method.included == 0 and rep.index.value is None and rep.questions == () and rep.departments.rows == ()
    for fmt in reporting.FORMATS:
        assert reporting.render(rep, records, fmt)
    text = subprocess.run(["pdftotext", "-", "-"], input=reporting.render(rep, records, "pdf"), capture_output=True,
                          check=True).stdout.decode()
    assert "brak ankiet w okresie" in text and "Żadna pozycja nie spełnia kryteriów." in text
