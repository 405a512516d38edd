"""Box states to answers: the rules export, report and review share."""

from __future__ import annotations

from pipeline.records.answers import INVALID, derive_answers, transcription_areas
from pipeline.records.layout import load_layout, with_departments
from tests.conftest import ROOT

F1 = with_departments(load_layout(ROOT / "form_layouts" / "lesko-f1.yaml"), [("fin", "Finanse"), ("usc", "USC")])


def test_single_multi_grid_and_text() -> None:
    states = {"q1.kobieta": "marked", "q1.mezczyzna": "empty", "q7.brak-informacji": "marked", "q7.inny-termin": "marked",
              "q8.uprzejmosc.5": "marked", "q8.sprawnosc.2": "marked", "q10.prasa.brak-zdania": "marked"}
    a = derive_answers(F1, states, {"uwagi.text": " Za długo czekałam. ", "q5.inna.text": ""})
    assert a.answers == {"q1": "kobieta", "q7": ["brak-informacji", "inny-termin"], "q8": {"uprzejmosc": 5, "sprawnosc": 2},
                         "q10": {"prasa": "brak-zdania"}, "uwagi": "Za długo czekałam."}
    assert a.open_questions == ()
    assert a.texts == {"uwagi.text": "Za długo czekałam."}


def test_double_marks_and_uncertain_boxes_are_not_guessed() -> None:
    states = {"q1.kobieta": "marked", "q1.mezczyzna": "marked", "q8.uprzejmosc.4": "marked", "q8.uprzejmosc.5": "marked",
              "q8.sprawnosc.3": "marked", "q9.tak": "uncertain", "q7.inne": "uncertain", "q7.brak-trudnosci": "marked"}
    a = derive_answers(F1, states, {})
    assert "q1" not in a.answers and "q9" not in a.answers and "q7" not in a.answers
    assert a.answers["q8"] == {"sprawnosc": 3}
    assert set(a.open_questions) == {"q1", "q8.uprzejmosc", "q9", "q7"}


def test_reviewer_verdict_invalid_wins() -> None:
    states = {"q1.kobieta": "marked", "q1.mezczyzna": "marked", "q8.uprzejmosc.4": "marked", "q8.uprzejmosc.5": "marked"}
    a = derive_answers(F1, states, {}, {"q1": INVALID, "q8.uprzejmosc": INVALID})
    assert a.answers == {"q1": INVALID, "q8": {"uprzejmosc": INVALID}} and a.open_questions == ()


def test_nothing_marked_is_no_answer_not_an_open_question() -> None:
    a = derive_answers(F1, {"q1.kobieta": "empty", "q1.mezczyzna": "empty"}, {})
    assert a.answers == {} and a.open_questions == ()


def test_ticked_other_needs_transcription() -> None:
    assert transcription_areas(F1, {"q5.inna", "q1.kobieta"}) == {"q5.inna.text"}
    assert transcription_areas(F1, {"q7.inne"}) == {"q7.inne.text"}
    assert transcription_areas(F1, set()) == set()
