"""The survey's form model and the parsing of a submitted form (pure: no database, no web server).

Forms used: Lesko's F1 (with the office's departments, as a published version has them), satysfakcja-5
(headings, worded scale, "nie dotyczy"), and a small form with what those two lack: required questions,
a skip hint, a required text question and a required "inne" multi-choice.
"""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from pipeline.base import config as C
from pipeline.records.layout import FormLayout, load_layout, parse_layout, with_departments
from pipeline.survey import form as S
from tests.conftest import LESKO, ROOT

REQUIRED_FORM = {
    "form": "wizyta", "title": "Ankieta po wizycie",
    "items": [
        {"type": "heading", "text": "Twoja sprawa"},
        {"id": "byl", "type": "single", "text": "Czy był(a) Pan/Pani w urzędzie w tym roku?", "required": True,
         "options": [{"id": "tak", "label": "tak"}, {"id": "nie", "label": "nie", "skip_to": "uwagi"}]},
        {"id": "sprawy", "type": "multi", "text": "Jakie sprawy Pan/Pani załatwiał(a)?", "required": True,
         "options": [{"id": "meldunek", "label": "meldunek"}, {"id": "podatki", "label": "podatki"},
                     {"id": "inne", "label": "inne – jakie?", "other": {"lines": 1}}]},
        {"id": "plec", "type": "single", "text": "Płeć:", "required": True,
         "options": [{"id": "kobieta", "label": "kobieta"}, {"id": "mezczyzna", "label": "mężczyzna"}]},
        {"type": "instruction", "text": "Oceń w skali 1–5."},
        {"id": "ocena", "type": "grid", "text": "Jak ocenia Pan/Pani obsługę?", "required": True,
         "scale": {"from": 1, "to": 5, "labels": {1: "bardzo źle", 5: "bardzo dobrze"}},
         "extra_columns": [{"id": "nw", "label": "nie wiem"}],
         "rows": [{"id": "czas", "label": "czas oczekiwania"}, {"id": "uprzejmosc", "label": "uprzejmość"}],
         "comment": {"id": "uwagi-oceny", "label": "Co poprawić?", "lines": 2}},
        {"id": "uwagi", "type": "text", "text": "Uwagi", "required": True, "numbered": False, "lines": 3},
    ],
}


def _lesko() -> FormLayout:
    layout = load_layout(ROOT / "form_layouts" / "lesko-f1.yaml")
    return with_departments(layout, [(d.id, d.name) for d in LESKO.departments])


@pytest.fixture
def lesko() -> S.SurveyForm:
    return S.survey_form(_lesko(), 1)


@pytest.fixture
def wizyta() -> S.SurveyForm:
    return S.survey_form(parse_layout(REQUIRED_FORM), 3)


def _md(*pairs: tuple[str, str]) -> MultiDict[str, str]:
    return MultiDict(list(pairs))


def test_form_model_of_lesko_f1(lesko: S.SurveyForm) -> None:
    qs = {q.question.id: q for q in lesko.questions}
    assert [q.number_label for q in lesko.questions] == [f"{n}." for n in range(1, 11)] + [""]
    assert qs["q1"].title == "Pytanie 1 (Płeć)" and qs["uwagi"].title == "Pytanie „UWAGI”"
    assert qs["q3"].title == "Pytanie 3 (Jak często załatwia Pani/Pan sprawy w Urzędzie Miasta i…)"
    # field names are the export's public ids; the department question offers the office's departments
    assert [c.value for c in qs["q4"].choices] == [d.id for d in LESKO.departments]
    assert qs["q5"].choices[-1].other == S.TextField("q5.inna.text", "Wpisz: innej sprawy – proszę podać jakiej", 1,
                                                     "f-q5.inna.text")
    assert [r.name for r in qs["q8"].rows] == ["q8.uprzejmosc", "q8.sprawnosc", "q8.kompetencja", "q8.informacja",
                                               "q8.terminowosc"]
    assert [c.value for c in qs["q8"].rows[0].choices] == ["1", "2", "3", "4", "5"]
    assert qs["q8"].comment is not None and qs["q8"].comment.name == "q8.uwagi.text"
    assert [(c.value, c.scored) for c in qs["q10"].rows[0].choices] == [("pozytywnie", False), ("negatywnie", False),
                                                                        ("brak-zdania", False)]
    assert qs["uwagi"].text is not None and qs["uwagi"].text.name == "uwagi.text" and qs["uwagi"].text.lines == 3
    assert qs["q1"].focus_id == "f-q1.kobieta" and qs["q8"].focus_id == "f-q8.uprzejmosc.1"
    assert not any(q.required for q in lesko.questions)                # F1 marks nothing as required
    ids = [c.input_id for q in lesko.questions for c in (*q.choices, *(c for r in q.rows for c in r.choices))]
    assert len(ids) == len(set(ids))                                   # every input has its own label target
    assert S.default_values(lesko) == {}


def test_hand_entry_adds_explicit_no_answer_and_invalid(lesko: S.SurveyForm) -> None:
    manual = S.survey_form(lesko.layout, 1, manual=True)
    q1, q7, q8 = manual.field("q1"), manual.field("q7"), manual.field("q8")
    assert [c.label for c in q1.choices] == ["brak odpowiedzi", "kobieta", "mężczyzna", "nieważna"]
    assert [c.value for c in q7.choices][-1] == S.INVALID_CHOICE and not any(c.value == S.NO_ANSWER for c in q7.choices)
    assert [c.value for c in q8.rows[2].choices] == [S.NO_ANSWER, "1", "2", "3", "4", "5", S.INVALID_CHOICE]
    defaults = S.default_values(manual)
    assert defaults["q1"] == (S.NO_ANSWER,) and defaults["q8.terminowosc"] == (S.NO_ANSWER,) and "q7" not in defaults


def test_full_lesko_response_becomes_answer_rows(lesko: S.SurveyForm) -> None:
    data = _md(("q1", "kobieta"), ("q2", "36-45"), ("q3", "kilka-w-roku"), ("q4", "usc"), ("q5", "inna"),
               ("q5.inna.text", "  odbiór aktu małżeństwa \r\n"), ("q6", "tak"), ("q7", "inne"), ("q7", "brak-trudnosci"),
               ("q7.inne.text", "parking"), ("q8.uprzejmosc", "5"), ("q8.sprawnosc", "4"), ("q8.terminowosc", "2"),
               ("q8.uwagi.text", "Długo czekałam\r\nna decyzję."), ("q9", "brak-zdania"), ("q10.prasa", "pozytywnie"),
               ("q10.internet", "brak-zdania"), ("uwagi.text", ""), ("csrf_token", "x"))
    parsed = S.parse_submission(lesko, data)
    assert parsed.ok
    assert parsed.rows == (
        ("q1", "", "q1.kobieta"), ("q2", "", "q2.36-45"), ("q3", "", "q3.kilka-w-roku"), ("q4", "", "q4.usc"),
        ("q5", "", "q5.inna"), ("q5.inna.text", "#text", "odbiór aktu małżeństwa"), ("q6", "", "q6.tak"),
        ("q7", "brak-trudnosci", "q7.brak-trudnosci"), ("q7", "inne", "q7.inne"), ("q7.inne.text", "#text", "parking"),
        ("q8", "uprzejmosc", "q8.uprzejmosc.5"), ("q8", "sprawnosc", "q8.sprawnosc.4"), ("q8", "terminowosc", "q8.terminowosc.2"),
        ("q8.uwagi.text", "#text", "Długo czekałam\nna decyzję."), ("q9", "", "q9.brak-zdania"),
        ("q10", "prasa", "q10.prasa.pozytywnie"), ("q10", "internet", "q10.internet.brak-zdania"))
    assert parsed.values["q7"] == ("inne", "brak-trudnosci") and "uwagi.text" not in parsed.values
    assert S.parse_submission(lesko, _md()).rows == ()                   # F1 can be sent empty: nothing is required


def test_required_questions_are_named_in_the_errors(wizyta: S.SurveyForm) -> None:
    parsed = S.parse_submission(wizyta, _md(("ocena.czas", "4")))
    assert [e.message for e in parsed.errors] == [
        "Pytanie 1 (Czy był(a) Pan/Pani w urzędzie w tym roku?): wybierz jedną odpowiedź",
        "Pytanie 2 (Jakie sprawy Pan/Pani załatwiał(a)?): zaznacz co najmniej jedną odpowiedź",
        "Pytanie 3 (Płeć): wybierz jedną odpowiedź",
        "Pytanie 4 (Jak ocenia Pan/Pani obsługę?): oceń każdy wiersz tabeli; brakuje: uprzejmość",
        "Pytanie „Uwagi”: wpisz odpowiedź",
    ]
    assert [e.anchor for e in parsed.errors] == ["f-byl.tak", "f-sprawy.meldunek", "f-plec.kobieta", "f-ocena.czas.1",
                                                 "f-uwagi.text"]
    assert parsed.errors[2].short == "wybierz jedną odpowiedź"
    assert parsed.values["ocena.czas"] == ("4",)                         # kept to fill the form again
    # a "nie dotyczy"-like column answers a required row as well as a score does
    full = _md(("byl", "tak"), ("sprawy", "podatki"), ("plec", "mezczyzna"), ("ocena.czas", "nw"),
               ("ocena.uprzejmosc", "1"), ("uwagi.text", "Brak"))
    assert S.parse_submission(wizyta, full).ok


def test_skip_hint_is_shown_and_exempts_the_skipped_questions(wizyta: S.SurveyForm) -> None:
    nie = wizyta.field("byl").choices[1]
    assert nie.skip_hint == "przejdź do pytania „Uwagi”" and wizyta.field("byl").choices[0].skip_hint == ""
    parsed = S.parse_submission(wizyta, _md(("byl", "nie")))
    assert [e.question for e in parsed.errors] == ["uwagi"]              # 2-4 skipped; the target still required
    parsed = S.parse_submission(wizyta, _md(("byl", "nie"), ("uwagi.text", "Nie byłem.")))
    assert parsed.ok and parsed.rows == (("byl", "", "byl.nie"), ("uwagi.text", "#text", "Nie byłem."))
    assert [i.text for i in wizyta.items if isinstance(i, S.Heading)] == ["Twoja sprawa", "Oceń w skali 1–5."]


def test_other_text_names_its_option(wizyta: S.SurveyForm, lesko: S.SurveyForm) -> None:
    # typed into "inne" without ticking it: ticked (a required multi-choice is then answered)
    parsed = S.parse_submission(wizyta, _md(("sprawy.inne.text", "wycinka drzewa")))
    assert "sprawy" not in {e.question for e in parsed.errors}
    assert ("sprawy", "inne", "sprawy.inne") in parsed.rows and parsed.values["sprawy"] == ("inne",)
    parsed = S.parse_submission(lesko, _md(("q5.inna.text", "meldunek")))
    assert parsed.rows == (("q5", "", "q5.inna"), ("q5.inna.text", "#text", "meldunek"))
    # ... but a text at "inne" beside another single choice is a contradiction to resolve, online
    parsed = S.parse_submission(lesko, _md(("q5", "decyzja"), ("q5.inna.text", "meldunek")))
    assert [e.message for e in parsed.errors] == [
        "Pytanie 5 (Sprawa, z którą zwróciła/ł się Pani/Pan dotyczyła): wpisano tekst przy odpowiedzi „innej sprawy – "
        "proszę podać jakiej”, a zaznaczono inną; zaznacz „innej sprawy – proszę podać jakiej” albo usuń tekst"]
    # hand entry types the paper in as it is
    manual = S.survey_form(lesko.layout, 1, manual=True)
    parsed = S.parse_submission(manual, _md(("q5", "decyzja"), ("q5.inna.text", "meldunek")))
    assert parsed.ok and parsed.rows == (("q5", "", "q5.decyzja"), ("q5.inna.text", "#text", "meldunek"))


def test_tampered_or_oversized_input_is_refused(lesko: S.SurveyForm) -> None:
    cases = {
        "q1": (_md(("q1", "kobieta"), ("q1", "mezczyzna")), "wybierz tylko jedną odpowiedź"),
        "q2": (_md(("q2", "99plus")), "wybierz spośród podanych odpowiedzi"),
        "q7": (_md(("q7", S.INVALID_CHOICE)), "wybierz spośród podanych odpowiedzi"),   # online has no "nieważne"
        "q8": (_md(("q8.sprawnosc", "7")), "w każdym wierszu wybierz jedną z podanych ocen"),
        "uwagi": (_md(("uwagi.text", "a" * (C.SURVEY_TEXT_MAX_CHARS + 1))),
                  f"tekst jest za długi ({C.SURVEY_TEXT_MAX_CHARS + 1} znaków); skróć go do {C.SURVEY_TEXT_MAX_CHARS} znaków"),
    }
    for qid, (data, short) in cases.items():
        parsed = S.parse_submission(lesko, data)
        assert [(e.question, e.short) for e in parsed.errors] == [(qid, short)], qid
    assert S.clean_text("  Tak\x00\x1b[31m jest\r\nźle\t!  ") == "Tak[31m jest\nźle\t!"


def test_hand_entry_invalid_and_no_answer(lesko: S.SurveyForm) -> None:
    manual = S.survey_form(lesko.layout, 1, manual=True)
    data = _md(("q1", S.INVALID_CHOICE), ("q2", S.NO_ANSWER), ("q3", "raz-w-roku"), ("q7", S.INVALID_CHOICE),
               ("q8.uprzejmosc", S.INVALID_CHOICE), ("q8.sprawnosc", "3"), ("q8.kompetencja", S.NO_ANSWER),
               ("q10.tablice", "negatywnie"))
    parsed = S.parse_submission(manual, data)
    assert parsed.ok
    assert parsed.rows == (("q1", "", "invalid"), ("q3", "", "q3.raz-w-roku"), ("q7", "", "invalid"),
                           ("q8", "uprzejmosc", "invalid"), ("q8", "sprawnosc", "q8.sprawnosc.3"),
                           ("q10", "tablice", "q10.tablice.negatywnie"))
    parsed = S.parse_submission(manual, _md(("q7", "inne"), ("q7", S.INVALID_CHOICE)))
    assert [e.short for e in parsed.errors] == ["zaznacz odpowiedzi albo „nieważne”, nie jedno i drugie"]
    # nothing is required at hand entry, even where the layout requires it
    wizyta = S.survey_form(parse_layout(REQUIRED_FORM), 1, manual=True)
    assert S.parse_submission(wizyta, _md()).ok
    described = dict(S.describe(manual, S.parse_submission(manual, data).rows))
    assert described["Pytanie 1 (Płeć)"] == "nieważna" and described["Pytanie 2 (Wiek)"] == "brak odpowiedzi"
    assert described["Pytanie 8 (Jak ocenia Pani/Pan jakość otrzymanej usługi?)"].startswith(
        "uprzejmość i życzliwość: nieważna; sprawna i szybka obsługa: 3; kompetencja i fachowość: brak odpowiedzi")


def test_satysfakcja_5_worded_scale_and_not_applicable() -> None:
    layout = load_layout(ROOT / "form_layouts" / "satysfakcja-5.yaml")
    assert S.survey_form(layout, 1).field("komorka").focus_id == "pytanie-komorka"   # departments not resolved yet
    sf = S.survey_form(with_departments(layout, [("usc", "Urząd Stanu Cywilnego")]), 2)
    assert sf.field("komorka").choices[0].label == "Urząd Stanu Cywilnego"
    grid = sf.field("podejscie")
    assert [(c.label, c.scored) for c in grid.rows[0].choices] == [
        ("bardzo źle", True), ("źle", True), ("średnio", True), ("dobrze", True), ("bardzo dobrze", True),
        ("nie dotyczy", False)]
    assert [h.text for h in sf.items if isinstance(h, S.Heading)][:2] == ["I. Wizerunek Urzędu",
                                                                          "II. Indywidualne podejście do Klienta"]
    parsed = S.parse_submission(sf, _md(("podejscie.uprzejmosc", "5"), ("podejscie.dyskrecja", "nd"),
                                        ("rzetelnosc.uwagi.text", "Więcej miejsc siedzących")))
    assert parsed.rows == (("podejscie", "uprzejmosc", "podejscie.uprzejmosc.5"),
                           ("podejscie", "dyskrecja", "podejscie.dyskrecja.nd"),
                           ("rzetelnosc.uwagi.text", "#text", "Więcej miejsc siedzących"))
