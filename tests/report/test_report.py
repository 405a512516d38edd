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

Previous period (I półrocze 2026; 12 sheets, all fin, K K K M M M twice, q7 brak-trudnosci): uprzejmosc 5 5 4 3 3 2,
sprawnosc 4 4 5 5 4 3, each twice.

Minimum n 10: every current figure is shown (n = 11 or 12, marked as a small sample) and compared; the departments
(6 and 6 sheets) are not.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline import store
from pipeline.records.layout import Column, FormLayout, Option, Question, Row
from pipeline.report import build as R
from pipeline.report import files as report_files
from pipeline.report import periods, stats
from pipeline.report import wording as W
from pipeline.report.model import PeriodData
from pipeline.runs import reporting
from pipeline.runs.workspace import Workspace, publish_form

H2 = periods.half_year("2026H2")

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
PREVIOUS = [(f"{sid}{k}", g, u, s) for k in "ab" for sid, g, u, s in (
    ("P1", "kobieta", 5, 4), ("P2", "kobieta", 5, 4), ("P3", "kobieta", 4, 5), ("P4", "mezczyzna", 3, 5),
    ("P5", "mezczyzna", 3, 4), ("P6", "mezczyzna", 2, 3))]


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


def _cells(c: R.ChoiceStats | None) -> dict[str, tuple[int, float | None]]:
    assert c is not None
    return {cell.id: (cell.count, None if cell.share.value is None else round(cell.share.value, 2)) for cell in c.cells}




def test_method_header_and_forms(rep: R.Report) -> None:
    m = rep.method
    assert m.included == 12 and m.awaiting_review == 1 and m.previous_included == 12
    assert m.by_channel == (("paper", "papier (skan)", 8), ("paper-manual", "papier (wprowadzone ręcznie)", 2),
                            ("online", "online", 2))
    assert m.by_batch == (("urna 1, 2026-09", 5), ("urna 2, 2026-09", 3))
    assert m.invalid_answers == 1                  # A12's double mark in q6, declared invalid
    assert rep.office == "Urząd Miasta i Gminy Lesko" and rep.generated_by == "Anna Nowak"
    assert rep.previous == periods.half_year("2026H1")       # the previous half-year, not 184 days back
    assert rep.forms == (R.FormInfo("lesko-f1", "Ankieta do badania zadowolenia klienta", ((1, 12),)),)
    first = rep.annex[0].items[0]
    assert [a.version for a in rep.annex] == [1] and isinstance(first, R.AnnexQuestion) and first.text == "Płeć:"
    assert first.options == ("kobieta", "mężczyzna")


def test_single_and_multi_choice_with_intervals_and_changes(rep: R.Report) -> None:
    q6 = _q(rep, "q6").choice
    assert q6 is not None and (q6.n, q6.invalid, q6.no_answer) == (11, 1, 0)
    assert _cells(q6) == {"tak": (10, 90.91), "nie": (1, 9.09), "w-toku": (0, 0.0)}   # 10/11, 1/11
    tak = q6.cells[0].share
    assert tak.interval == pytest.approx(tuple(100 * x for x in stats.wilson(10, 11))) and tak.small_sample
    assert tak.previous_value == 100.0 and tak.change == pytest.approx(100 * 10 / 11 - 100)
    assert tak.change_interval == pytest.approx(tuple(100 * x for x in stats.newcombe(10, 11, 12, 12)))
    q7 = _q(rep, "q7").choice
    assert q7 is not None and q7.multi and q7.n == 12 and not q7.protected
    # % of respondents: 9/12, 3/12, 2/12 (sums to more than 100 %)
    assert {k: v for k, v in _cells(q7).items() if v[0]} == {"brak-trudnosci": (9, 75.0), "bledne-informacje": (3, 25.0),
                                                             "inne": (2, 16.67)}
    brak = next(c for c in q7.cells if c.id == "brak-trudnosci").share
    assert brak.previous_value == 100.0 and brak.change == pytest.approx(-25.0)   # previous period: 12/12
    _lo, hi = stats.newcombe(9, 12, 12, 12)
    assert brak.significant == (hi < 0) and W.change(brak).startswith("▼" if hi < 0 else "−")


def test_categorical_grid_gets_shares_and_changes(rep: R.Report) -> None:
    g = _q(rep, "q10").grid
    assert g is not None and g.scale is None and [c.id for c in g.categories] == ["prasa", "internet", "tablice"]
    assert all(c.choice.n == 0 for c in g.categories)          # nobody in the fixture answered q10


def test_profile_small_groups_are_merged(rep: R.Report) -> None:
    prof = {q.id: q.choice for q in rep.profile}
    assert _cells(prof["gender"]) == {"kobieta": (7, 58.33), "mezczyzna": (5, 41.67)}
    # previous period 6 + 6: compared
    assert [c.share.previous_value for c in prof["gender"].cells] == [50.0, 50.0]  # type: ignore[union-attr]
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


def test_grid_means_top2_index_and_comparison(rep: R.Report) -> None:
    g = _q(rep, "q8").grid
    assert g is not None and g.top_values == (4, 5) and g.scale == (1, 5)
    upr, spr = g.rows[0], g.rows[1]
    assert upr.n == 12 and upr.mean.value == pytest.approx(49 / 12) and upr.top2.value == pytest.approx(75.0)
    assert dict(upr.counts) == {"1": 0, "2": 1, "3": 2, "4": 4, "5": 5}
    assert upr.mean.previous_value == pytest.approx(22 / 6) and upr.top2.previous_value == pytest.approx(50.0)
    assert upr.mean.change == pytest.approx(49 / 12 - 22 / 6) and upr.top2.change == pytest.approx(25.0)
    # the bootstrap SE of a row mean is the plug-in SE of its 12 ratings (within resampling error)
    ratings = [5, 5, 5, 5, 4, 4, 4, 3, 3, 2, 5, 4]
    mean = sum(ratings) / 12
    se = (sum((x - mean) ** 2 for x in ratings) / 12) ** 0.5 / 12 ** 0.5
    assert upr.mean.interval is not None
    assert (upr.mean.interval[1] - upr.mean.interval[0]) / (2 * stats.Z95) == pytest.approx(se, rel=0.08)
    assert spr.mean.value == pytest.approx(37 / 12) and spr.top2.value == pytest.approx(25.0)
    assert spr.mean.previous_value == pytest.approx(25 / 6) and spr.top2.change == pytest.approx(25.0 - 500 / 6)
    assert spr.top2.significant and spr.top2.change_interval == pytest.approx(
        tuple(100 * x for x in stats.newcombe(3, 12, 10, 12)))
    assert g.rows[2].n == 0 and g.rows[2].mean.value is None
    # satisfaction index: 24 ratings of 12 people, sum of (v - 1) = 62 -> 62 / 24 / 4 * 100
    assert rep.index.n == 12 and rep.index.value == pytest.approx(62 / 96 * 100)
    assert R.satisfaction_index({"lesko-f1": LAYOUT_OF(rep)}, []) == (None, 0)
    assert rep.index.previous_value == pytest.approx(35 / 48 * 100)
    assert rep.index.change == pytest.approx(62 / 96 * 100 - 35 / 48 * 100) and rep.index.change_interval is not None


def LAYOUT_OF(rep: R.Report) -> R.FormLayout:
    from pipeline.records.layout import load_layout
    from tests.conftest import ROOT

    del rep
    return load_layout(ROOT / "form_layouts" / "lesko-f1.yaml")


def test_departments_below_the_minimum_and_findings(rep: R.Report) -> None:
    d = rep.departments
    assert not d.suppressed and d.merged_count == 2 and d.no_answer == 0
    fin, rest = d.rows
    assert (fin.id, fin.label, fin.n) == ("fin", "Referat Finansowy", 6)
    assert fin.index.value is None and fin.index.change is None and fin.vs_rest.value is None   # 6 < 10: not judged
    assert (rest.id, rest.n, rest.merged) == (R.MERGED_ID, 6, ("Kierownik Urzędu Stanu Cywilnego", "Gospodarka Komunalna"))
    # "sprawna i szybka obsługa": 3 of 12 top ratings against the 70 % target, and down from 10 of 12; Holm over
    # all the report's tests still finds it; nothing else is (uprzejmość is up, the departments are too small)
    (f,) = [f for f in rep.findings if f.kind != "complaints"]
    assert (f.kind, f.question, f.row, f.n) == ("row", "q8", "sprawnosc", 12)
    assert any(r.startswith("oceny 4–5: 25,0 % † (8,9–53,2) poniżej progu 70 %") for r in f.reasons)
    assert any(r.startswith("udział ocen 4–5 spadł z 83,3 % do 25,0 %") for r in f.reasons)
    assert rep.tests >= 5


def test_open_answers_and_complaints(rep: R.Report) -> None:
    by_q = {o.question: o for o in rep.open_answers}
    (g,) = by_q["q7"].groups
    assert g.department == "pozostałe komórki łącznie" and [(t.text, t.count, t.complaint) for t in g.items] == [
        ("długie kolejki", 1, False), ("brak miejsc parkingowych — skarga na straż", 1, True)]
    assert [t.text for g in by_q["q8"].groups for t in g.items] == ["Za długo czekałem na decyzję."]
    assert [t.text for g in by_q["uwagi"].groups for t in g.items] == ["Bardzo miła obsługa w USC, dziękuję."]
    (c,) = rep.complaints
    assert (c.text, c.department, c.received, c.status) == (
        "brak miejsc parkingowych — skarga na straż", "pozostałe komórki łącznie", "2026-10-15", "do rozpatrzenia")
    assert c.where.startswith("7. Na jakie trudności")
    (cf,) = [f for f in rep.findings if f.kind == "complaints"]
    assert cf.subject == "pozostałe komórki łącznie" and cf.measure.count == 1 and cf.n == 6


def test_open_answers_merge_duplicates_per_department() -> None:
    lay = LAYOUT_OF(None)  # type: ignore[arg-type]
    texts = ["Długie kolejki.", "długie  kolejki", "miła obsługa", "Długie kolejki"]
    recs = tuple(R.ResponseRecord(f"S{i}", "lesko-f1", 1, "paper", answers={"q4": "fin" if i < 3 else "usc"},
                                  texts={"uwagi.text": t}) for i, t in enumerate(texts))
    from tests.conftest import LESKO

    rep = R.build_report(PeriodData(H2, recs), None, {("lesko-f1", 1): lay}, LESKO, generated_at="x", generated_by="",
                         settings=R.ReportSettings(min_cell=1))
    (o,) = rep.open_answers
    assert [(g.department, [(t.text, t.count) for t in g.items]) for g in o.groups] == [
        ("Referat Finansowy", [("Długie kolejki.", 2), ("miła obsługa", 1)]),
        ("Kierownik Urzędu Stanu Cywilnego", [("Długie kolejki", 1)])]


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
    recs = (R.ResponseRecord("1", "f", 1, "online", answers={"g": {"a": 5, "old": 2}}),
            R.ResponseRecord("2", "f", 2, "online", answers={"g": {"a": "nw"}}),
            R.ResponseRecord("3", "f", 2, "online", answers={"g": {"a": 3}}),
            R.ResponseRecord("4", "f", 1, "online", answers={"g": {"a": "nd"}}))
    rep = R.build_report(PeriodData(H2, recs), None, {("f", 1): v1, ("f", 2): v2}, R.Office(), generated_at="x",
                         generated_by="t", settings=R.ReportSettings(min_n=1))
    g = rep.questions[0].grid
    assert g is not None
    a = g.rows[0]
    assert (a.n, a.mean.value, a.top2.value, a.not_scored) == (2, 4.0, 50.0, 2)   # "nie wiem"/"nie dotyczy" not averaged
    assert dict(a.counts)["nw"] == 1 and dict(a.counts)["nd"] == 1
    assert rep.index.value == pytest.approx((100 + 25 + 50) / 3)
    assert [(f.versions) for f in rep.forms] == [((1, 2), (2, 2))] and len(rep.annex) == 2


def test_profile_of_different_forms_is_not_merged_into_one_table() -> None:
    a = FormLayout("a", "Ankieta A", (Question("plec", "single", "Płeć", 1, options=(Option("k", "kobieta"),)),))
    b = FormLayout("b", "Ankieta B", (Question("q1", "single", "Płeć", 1, options=(Option("k", "kobieta"),)),))
    recs = tuple(R.ResponseRecord(f"{f}{i}", f, 1, "online", answers={q: "k"}) for f, q in (("a", "plec"), ("b", "q1"))
                 for i in range(6))
    s = R.ReportSettings(profile_questions={"a": {"gender": "plec"}, "b": {"gender": "q1"}})
    rep = R.build_report(PeriodData(H2, recs), None, {("a", 1): a, ("b", 1): b}, R.Office(), generated_at="x",
                         generated_by="", settings=s)
    assert [(q.text, q.choice.n if q.choice else 0) for q in rep.profile] == [("Płeć — Ankieta A", 6), ("Płeć — Ankieta B", 6)]


def _measures(node: object) -> list[dict[str, object]]:
    if isinstance(node, dict):
        found = [node] if node.get("kind") in ("share", "mean", "index") and "significant" in node else []
        return found + [m for v in node.values() for m in _measures(v)]
    if isinstance(node, list):
        return [m for v in node for m in _measures(v)]
    return []


def test_json_carries_every_compared_measure(rep: R.Report) -> None:
    doc = json.loads(report_files.report_json(rep))
    measures = _measures(doc)
    assert len(measures) > 50
    for m in measures:
        assert {"n", "value", "interval", "previous_value", "change", "change_interval", "significant"} <= set(m)
    compared = [m for m in measures if m["change"] is not None]
    assert compared and all(m["change_interval"] and isinstance(m["significant"], bool) for m in compared)
    idx = doc["index"]
    assert idx["n"] == 12 and idx["interval"][0] < idx["value"] < idx["interval"][1] and idx["previous_value"] > 70
    assert doc["previous"]["label"] == "I półrocze 2026" and doc["period"]["date_from"] == "2026-07-01"
    assert any("Wilson" in t for t in doc["methods"]) and doc["trend"]["periods"][-1]["spec"] == "2026H2"


def test_csv_and_xlsx_columns_mean_one_thing(filled: Workspace, rep: R.Report) -> None:
    records = reporting.build(filled, H2, "x")[1]
    text = report_files.report_csv(rep)
    assert text.startswith("\ufeffsekcja;formularz;pytanie;pozycja;miara;n;liczba;wartość;95 % od;95 % do")
    rows = [line.split(";") for line in text.splitlines()[1:]]
    head = report_files.CSV_HEAD
    spr = [dict(zip(head, r, strict=True)) for r in rows if r[0] == "pytanie" and r[3] == "sprawna i szybka obsługa"]
    mean, top = spr
    assert mean["miara"] == "średnia (skala 1–5)" and mean["wartość"] == "3,08" and mean["poprzedni okres: wartość"] == "4,17"
    assert top["miara"] == "odsetek ocen 4–5 (%)" and top["wartość"] == "25,00" and top["zmiana"] == "-58,33"
    assert top["zmiana istotna"] == "tak" and top["pytanie"].startswith("8. Jak ocenia")     # wording, not "q8"
    assert "lesko-f1" not in text and ";q8;" not in text
    wb = load_workbook(__import__("io").BytesIO(report_files.report_xlsx(rep, records)))
    assert wb.sheetnames == ["Podsumowanie", "Komórki", "Ustalenia", "Teksty", "Skargi", "Odpowiedzi"]
    txt = [[c.value for c in row] for row in wb["Teksty"].iter_rows()]
    assert txt[0] == ["formularz", "pytanie", "komórka", "treść (przepisana)", "liczba osób", "skarga"]   # no sheet id
    raw = [[c.value for c in row] for row in wb["Odpowiedzi"].iter_rows()]
    assert raw[0][:6] == report_files.RAW_HEAD and len(raw) == 13            # header + 12 counted sheets
    col = raw[0].index("8. Jak ocenia Pani/Pan jakość otrzymanej usługi? — uprzejmość i życzliwość")
    assert raw[1][col] == 5 and "1. Płeć:" in raw[0] and raw[1][raw[0].index("1. Płeć:")] == "kobieta"
    assert isinstance(raw[1][5], __import__("datetime").datetime)             # a date cell, not text
    (complaint,) = list(wb["Skargi"].iter_rows(values_only=True))[1:]
    assert complaint[1] == "pozostałe komórki łącznie" and complaint[4] == "do rozpatrzenia"


def test_xlsx_never_stores_a_typed_text_as_a_formula(filled: Workspace) -> None:
    store.record_decision(filled.db, "A05", "text", "uwagi.text", "=HYPERLINK(\"http://x\")", "recenzent")
    rep, records = reporting.build(filled, H2, "x")
    wb = load_workbook(__import__("io").BytesIO(report_files.report_xlsx(rep, records)))
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert cells and all(c.data_type == "s" for c in cells)


def test_generate_archives_and_lists(filled: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "raport.json"
    g = reporting.generate(filled, H2, "json", out, "Anna Nowak")
    assert out.read_bytes() == g.archived.read_bytes() and g.archived.parent == filled.folder("reports")
    import hashlib

    assert g.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    (row,) = reporting.list_reports(filled)
    assert (row["period_from"], row["period_to"], row["format"], row["sheets"], row["user"]) == (
        "2026-07-01", "2026-12-31", "json", 12, "Anna Nowak")
    params = json.loads(row["params_json"])
    assert params["min_cell"] == 5 and params["previous_from"] == "2026-01-01" and params["seed"] == rep_seed()
    again = reporting.generate(filled, H2, "json", None, "Anna Nowak")
    assert json.loads(again.archived.read_text())["index"] == json.loads(out.read_text())["index"]   # reproducible


def rep_seed() -> int:
    return R.ReportSettings().seed


def _pdf_text(path: Path, first: int | None = None, last: int | None = None) -> str:
    pages = ["-f", str(first), "-l", str(last)] if first else []
    return subprocess.run(["pdftotext", "-layout", *pages, str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_pdf_summary_first_periods_in_words_arrows_only_when_significant(filled: Workspace, tmp_path: Path) -> None:
    g = reporting.generate(filled, H2, "pdf", tmp_path / "raport.pdf", "Anna Nowak")
    rep = reporting.build(filled, H2, "Anna Nowak")[0]
    page1 = _pdf_text(g.path, 1, 1)
    for needle in ("Protokół z badania zadowolenia Klienta", "Streszczenie", "II półrocze 2026", "I półrocze 2026",
                   "Indeks satysfakcji", "Najmocniejsze strony", "Najsłabsze strony", "wymagające uwagi"):
        assert needle in page1, needle
    ix = rep.index
    assert ix.change is not None and not ix.significant          # 12 vs 12 sheets: within the margin of error
    assert f"{W.change(ix, interval=True)} — w granicach błędu" in " ".join(page1.split())
    # an arrow on page 1 only where a change is significant (the footnote explaining the arrows aside)
    shown = [ix, *(p.mean for p in (*rep.summary.strongest, *rep.summary.weakest))]
    arrows = sum(page1.split("Strzałki")[0].count(a) for a in "▲▼")
    assert arrows == sum(m.significant for m in shown)
    text = _pdf_text(g.path)
    for needle in ("Metoda", "Profil respondentów", "Trend", "Wyniki według komórek", "Odpowiedzi otwarte",
                   "Skargi", "Obszary wymagające działań", "Załącznik A. Metody statystyczne", "Wilsona", "Holma",
                   "Załącznik B. Kwestionariusz", "sprawna i szybka obsługa", "długie kolejki", "Anna Nowak", "Strona 1 z"):
        assert needle in text, needle
    assert "▼ −58,3 pp" in text                         # the one significant fall of a share carries its arrow
    annex = text.split("Załącznik B. Kwestionariusz")[-1]
    assert "☐ kobieta" in annex and "[q1]" not in annex and "q8" not in annex   # as printed, no internal ids
    # departments of 6 sheets: counted, no index, no decimals
    fin = next(line for line in text.split("6. Wyniki według komórek")[-1].splitlines() if "Referat Finansowy" in line)
    assert "," not in fin and "%" not in fin
    assert all(ch in text for ch in "ąęłńóśźż")


def test_pdf_under_the_minimum_shows_counts_only(workspace: Workspace, tmp_path: Path) -> None:
    assert publish_form(workspace, "lesko-f1").version == 1
    for i, q6 in enumerate(["tak", "tak", "tak", "nie", "tak"]):
        _sheet(workspace, f"M{i}", "online", "", f"2026-11-0{i + 1}",
               _answers("kobieta", None, None, "fin", ["brak-trudnosci"], 5 - i % 2, 4, [q6]))
    g = reporting.generate(workspace, periods.parse_period("2026-11"), "pdf", tmp_path / "m.pdf", "x")
    text = _pdf_text(g.path)
    assert "listopad 2026" in text and "październik 2026" in text
    q6 = text.split("6. Czy sprawa została załatwiona")[1].split("7. Na jakie")[0]
    tak = next(line for line in q6.splitlines() if line.strip().startswith("tak"))
    assert "4z5" in tak.replace(" ", "") and "%" not in tak and "," not in tak      # a count, no % and no decimals
    grid = text.split("8. Jak ocenia")[1].split("9. Czy")[0]
    upr = next(line for line in grid.splitlines() if line.strip().startswith("uprzejmość"))
    assert "," not in upr and "5z5" in upr.replace(" ", "")                       # no mean of 5 ratings


def test_cli_report_periods_author_and_list(filled: Workspace, tmp_path: Path) -> None:
    import sys

    def ankieta(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pipeline.cli", "--home", str(filled.home), *args],
                              capture_output=True, text=True, timeout=120)

    out = tmp_path / "protokol.xlsx"
    r = ankieta("report", "--half", "2026H2", "-o", str(out), "--by", "Anna Nowak")
    assert r.returncode == 0, r.stderr
    assert "12 arkuszy" in r.stdout and "porównanie: I półrocze 2026" in r.stdout and "sha256" in r.stdout
    assert load_workbook(out).sheetnames[0] == "Podsumowanie"        # format taken from the file name
    r = ankieta("report", "--quarter", "2026Q4", "--compare-to", "brak", "--format", "json", "-o", str(tmp_path / "q.json"))
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "q.json").read_text())
    assert doc["period"]["label"] == "IV kwartał 2026" and doc["previous"] is None
    assert doc["generated_by"] == ""                      # no --by: the author line is left to be filled in by hand
    r = ankieta("report", "--from", "2026-07-01", "--to", "2026-12-31", "--format", "csv", "-o", str(tmp_path / "r.csv"))
    assert r.returncode == 0, r.stderr
    listing = ankieta("report", "list").stdout
    assert "2026-07-01 – 2026-12-31  xlsx" in listing and "csv" in listing and "Anna Nowak" in listing and " cli " in listing
    r = ankieta("report", "--from", "2026-07-01", "-o", str(tmp_path / "x.pdf"))
    assert r.returncode == 6 and "--half 2026H2" in r.stderr and "Traceback" not in r.stderr
    r = ankieta("report", "--half", "2026H3")
    assert r.returncode == 6 and "2026H1" in r.stderr
    r = ankieta("report", "--half", "2026H2", "--compare-to", "2026Q4")
    assert r.returncode == 6 and "nakłada się" in r.stderr


def test_time_report_runs_every_format() -> None:
    t = reporting.time_report(30)        # the 10,000-response figure is measured by hand (no timed assert)
    assert t["responses"] == 30 and {"gather_build_s", "pdf_s", "xlsx_s", "csv_s", "json_s"} <= set(t)


def test_empty_period_still_makes_every_format(filled: Workspace, tmp_path: Path) -> None:
    empty = periods.half_year("2030H1")
    rep, records = reporting.build(filled, empty, "t")
    assert rep.method.included == 0 and rep.index.value is None and rep.questions == () and rep.departments.rows == ()
    for fmt in reporting.FORMATS:
        assert reporting.render(rep, records, fmt)
    text = subprocess.run(["pdftotext", "-", "-"], input=reporting.render(rep, records, "pdf"), capture_output=True,
                          check=True).stdout.decode()
    assert "brak ankiet w okresie" in text and "Żadna pozycja, komórka ani indeks nie spełnia kryteriów" in text
