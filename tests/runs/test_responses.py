"""Online and hand-entered responses: stored once, anonymous, and read back by the export and the report."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from pipeline import store
from pipeline.base.errors import NotFound
from pipeline.report import periods
from pipeline.runs import export, reporting, responses
from pipeline.runs.workspace import Workspace, publish_form
from pipeline.survey.form import INVALID_CHOICE, NO_ANSWER

DAY = date(2026, 11, 23)


def _online(token: str = "", version: str = "", **answers: str | list[str]) -> MultiDict[str, str]:
    pairs: list[tuple[str, str]] = []
    for name, value in answers.items():
        for v in [value] if isinstance(value, str) else value:
            pairs.append((name.replace("__", "."), v))
    if token:
        pairs.append((responses.TOKEN_FIELD, token))
    if version:
        pairs.append((responses.VERSION_FIELD, version))
    return MultiDict(pairs)


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    publish_form(workspace, "lesko-f1")
    return workspace


def _sheet(ws: Workspace, sid: str) -> dict[str, object]:
    return next(s for s in json.loads(export.export_json(ws))["sheets"] if s["sheet"] == sid)


def test_online_response_in_the_export_exactly_once(ws: Workspace) -> None:
    token = responses.new_token()
    form = _online(token, "1", q1="mezczyzna", q4="usc", q7=["brak-trudnosci"], q8__uprzejmosc="5", q8__sprawnosc="4",
                   q10__internet="brak-zdania", uwagi__text="Miła obsługa w USC.")
    first = responses.submit_online(ws, "lesko-f1", form, today=DAY)
    again = responses.submit_online(ws, "lesko-f1", form, today=DAY)        # the same form sent twice
    assert first.ok and not first.repeated and again.ok and again.repeated and again.sheet_id == first.sheet_id
    assert first.sheet_id == f"W-{token}"
    sheet = _sheet(ws, first.sheet_id)
    assert (sheet["channel"], sheet["received"], sheet["batch"], sheet["status"], sheet["version"]) == (
        "online", "2026-11-23", None, "final", 1)
    assert sheet["answers"] == {"q1": "mezczyzna", "q4": "usc", "q7": ["brak-trudnosci"],
                                "q8": {"uprzejmosc": 5, "sprawnosc": 4}, "q10": {"internet": "brak-zdania"},
                                "uwagi": "Miła obsługa w USC."}
    assert store.rows(ws.db, "select count(*) as n from sheets")[0]["n"] == 1
    assert store.rows(ws.db, "select count(*) as n from answers")[0]["n"] == 7
    # a form without (or with a forged) token still gets a fresh random id, never a counter
    other = responses.submit_online(ws, "lesko-f1", _online("../../etc", q1="kobieta"), today=DAY)
    assert other.sheet_id is not None and re.fullmatch(r"W-[A-Za-z0-9_-]{22}", other.sheet_id)


def test_online_response_stores_nothing_about_the_respondent(ws: Workspace) -> None:
    out = responses.submit_online(ws, "lesko-f1", _online(responses.new_token(), q1="kobieta"), today=DAY)
    assert out.sheet_id is not None
    row = store.get_sheet(ws.db, out.sheet_id)
    assert row is not None and row["created_at"] == row["received_at"] == "2026-11-23"   # the day, no time of day
    columns = {c for t in ("sheets", "answers") for c in (r["name"] for r in store.rows(ws.db, f"pragma table_info({t})"))}
    assert not {c for c in columns if re.search(r"ip|addr|agent|cookie|session|remote", c)}
    assert not store.rows(ws.db, "select * from audit_log where action like 'response%'")   # no trail for online


def test_insertion_order_is_not_the_table_order(ws: Workspace) -> None:
    ids = [responses.submit_online(ws, "lesko-f1", _online(responses.new_token(), q1="kobieta"), today=DAY).sheet_id
           for _ in range(20)]
    by_rowid = [r["id"] for r in store.rows(ws.db, "select id from sheets order by rowid")]
    by_id = [r["id"] for r in store.rows(ws.db, "select id from sheets order by id")]
    assert sorted(by_rowid) == sorted(ids) and by_rowid != ids and by_id != ids


def test_validation_errors_store_nothing(ws: Workspace) -> None:
    path = ws.forms_dir / "lesko-f1.yaml"
    path.write_text(path.read_text("utf-8").replace('    text: "Płeć:"\n', '    text: "Płeć:"\n    required: true\n'), "utf-8")
    assert publish_form(ws, "lesko-f1").version == 2
    out = responses.submit_online(ws, "lesko-f1", _online(responses.new_token(), q2="18-25"), today=DAY)
    assert not out.ok and [e.message for e in out.parsed.errors] == ["Pytanie 1 (Płeć): wybierz jedną odpowiedź"]
    assert out.form.version == 2 and not store.rows(ws.db, "select * from sheets")
    # a form rendered from version 1 (opened before the edit) is stored against version 1, where q1 is optional
    old = responses.submit_online(ws, "lesko-f1", _online(responses.new_token(), "1", q2="18-25"), today=DAY)
    assert old.ok and old.form.version == 1 and _sheet(ws, str(old.sheet_id))["version"] == 1
    with pytest.raises(NotFound):
        responses.current_version(ws, "satysfakcja-5")          # never published: not offered online
    with pytest.raises(NotFound):
        responses.submit_online(ws, "../lesko-f1", _online(q1="kobieta"))
    assert [fv.form for fv in responses.published_forms(ws)] == ["lesko-f1"]


def test_hand_entry_with_an_invalid_question(ws: Workspace) -> None:
    form = _online(responses.new_token(), q1=INVALID_CHOICE, q2=NO_ANSWER, q3="raz-w-roku", q8__uprzejmosc=INVALID_CHOICE,
                   q8__sprawnosc="2", q8__kompetencja=NO_ANSWER, q7=["bledne-informacje", "inne"],
                   q7__inne__text="nikt nie odbierał telefonu")
    out = responses.submit_manual(ws, "lesko-f1", form, batch_label="  urna 2,   2026-11 ", received="2026-11-20",
                                  user="sekretarz", today=DAY)
    assert out.ok and out.sheet_id is not None and out.sheet_id.startswith("R-")
    sheet = _sheet(ws, out.sheet_id)
    assert (sheet["channel"], sheet["batch"], sheet["received"]) == ("paper-manual", "urna 2, 2026-11", "2026-11-20")
    assert sheet["answers"] == {"q1": "invalid", "q3": "raz-w-roku", "q7": ["bledne-informacje", "inne"],
                                "q8": {"uprzejmosc": "invalid", "sprawnosc": 2}}
    assert sheet["texts"] == {"q7.inne.text": "nikt nie odbierał telefonu"}
    row = next(csv.DictReader(io.StringIO(export.export_csv(ws).lstrip("\ufeff")), delimiter=";"))
    assert (row["q1"], row["q8.uprzejmosc"], row["q8.sprawnosc"], row["q2"]) == ("invalid", "invalid", "2", "")
    entry = store.rows(ws.db, "select * from audit_log where action = 'response.enter'")
    assert len(entry) == 1 and entry[0]["user"] == "sekretarz"
    assert json.loads(entry[0]["details"]) == {"sheet": out.sheet_id, "form": "lesko-f1", "version": 1,
                                               "batch": "urna 2, 2026-11", "received": "2026-11-20"}


def test_hand_entry_checks_the_date_and_the_batch(ws: Workspace) -> None:
    cases = {
        "2026-11-24": "data przyjęcia (2026-11-24) jest późniejsza niż dzisiejsza",
        "20.11.2026": "data przyjęcia '20.11.2026' jest niepoprawna; wpisz ją jako RRRR-MM-DD, np. 2026-11-23",
        "": "podaj datę przyjęcia ankiety (RRRR-MM-DD)",
        "1999-12-31": "data przyjęcia (1999-12-31) jest zbyt odległa; sprawdź rok",
    }
    for text, short in cases.items():
        out = responses.submit_manual(ws, "lesko-f1", _online(q1="kobieta"), batch_label="urna 1", received=text, today=DAY)
        assert not out.ok and [(e.anchor, e.short) for e in out.parsed.errors] == [("data", short)], text
    out = responses.submit_manual(ws, "lesko-f1", _online(q1="kobieta", q2="a", q8__sprawnosc="9"), batch_label="x" * 81,
                                  received=DAY, today=DAY)
    assert [e.anchor for e in out.parsed.errors] == ["partia", "f-q2._brak", "f-q8.uprzejmosc._brak"]
    assert not store.rows(ws.db, "select * from sheets")


def test_online_and_hand_entered_responses_in_the_report(ws: Workspace) -> None:
    for grade in ("5", "4", "4"):
        assert responses.submit_online(ws, "lesko-f1", _online(responses.new_token(), q1="kobieta", q8__uprzejmosc=grade),
                                       today=date(2026, 10, 2)).ok
    assert responses.submit_manual(ws, "lesko-f1", _online(responses.new_token(), q8__uprzejmosc=INVALID_CHOICE),
                                   batch_label="urna 1", received=date(2026, 10, 1), today=DAY).ok
    assert responses.submit_online(ws, "lesko-f1", _online(responses.new_token(), q1="kobieta"), today=date(2027, 1, 2)).ok
    rep, records = reporting.build(ws, periods.half_year("2026H2"), "test")
    assert rep.method.included == 4 and sorted(r.channel for r in records) == ["online", "online", "online", "paper-manual"]
    assert [(c, n) for c, _, n in rep.method.by_channel] == [("paper-manual", 1), ("online", 3)]
    assert rep.method.invalid_answers == 1
    grades = sorted(r.answers["q8"]["uprzejmosc"] for r in records if r.channel == "online")
    assert grades == [4, 4, 5]
