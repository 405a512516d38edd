"""Editing the survey (pipeline/runs/survey_edit.py): the web form's fields become a validated layout file, the old
file goes to history, a new version is published with the same ids, and the report-first rule guards it."""

from __future__ import annotations

import json
from datetime import date

import pytest
import yaml

from pipeline import store
from pipeline.base.errors import InvalidInput, NotAllowed
from pipeline.runs import editing
from pipeline.runs import survey_edit as S
from pipeline.runs.workspace import Workspace, publish_form


def _item(ed: S.Editor, qid: str) -> S.EditorItem:
    return next(i for i in ed.items if i.id == qid)


def _respond(ws: Workspace) -> None:
    fv = publish_form(ws, "satysfakcja-5")
    store.insert_manual_sheet(ws.db, {"id": "ON-1", "form": "satysfakcja-5", "version": fv.version, "channel": "online",
                                      "received_at": date.today().isoformat(), "created_at": date.today().isoformat()},
                              [("plec", "", "plec.kobieta"), ("wizerunek", "warunki", "wizerunek.warunki.4")])


def test_editor_shows_the_file(workspace: Workspace) -> None:
    publish_form(workspace, "lesko-f1")
    ed = S.editor(workspace, "lesko-f1")
    assert ed.form == "lesko-f1" and ed.latest_version == 1 and len(ed.sha256) == 64
    q2 = _item(ed, "q2")
    assert q2.kind == "single" and q2.number == 2 and [o.id for o in q2.options][:2] == ["18-25", "26-35"]
    assert _item(ed, "q4").from_departments and not _item(ed, "q4").options
    assert _item(ed, "q5").options[-1].other                       # "innej sprawy – proszę podać jakiej"
    q8 = _item(ed, "q8")
    assert q8.kind == "grid" and q8.rows[0].id == "uprzejmosc"
    assert [(c.id, c.label) for c in q8.columns] == [(str(v), str(v)) for v in range(1, 6)]     # a scale without words
    assert S.field_name(q2, "o", "18-25", "label") == f"i{q2.index}-o-18-25-label"


def test_an_edit_publishes_a_new_version_with_stable_ids(workspace: Workspace) -> None:
    v1 = publish_form(workspace, "satysfakcja-5")
    ed = S.editor(workspace, "satysfakcja-5")
    plec, wiz, wiek = _item(ed, "plec"), _item(ed, "wizerunek"), _item(ed, "wiek")
    fields = {
        "sha256": ed.sha256,
        S.field_name(plec, "o", "odmowa", "label"): "nie chcę podawać",
        S.field_name(plec, "o", "mezczyzna", "pos"): "1", S.field_name(plec, "o", "kobieta", "pos"): "2",
        S.field_name(plec, "new", "label"): "Inna / żadna z powyższych", S.field_name(plec, "new", "pos"): "3",
        S.field_name(plec, "o", "odmowa", "pos"): "4",
        S.field_name(wiz, "c", "5"): "znakomicie",
        S.field_name(wiz, "r", "strona"): "strona internetowa urzędu i BIP",
        S.field_name(wiek, "o", "71plus", "remove"): "1",
        S.field_name(wiek, "text"): "Ile ma Pani/Pan lat?",
        S.field_name(wiek, "required"): "1",
        S.field_name(plec, "pos"): str(wiek.index + 2),               # płeć after wiek
    }
    done = S.edit_survey(workspace, S.edit_from_fields(ed, fields), "ala")
    assert (done.previous_version, done.version) == (1, 2) and done.gate is not None and done.gate.allowed
    v2 = store.get_form_version(workspace.db, "satysfakcja-5", 2)
    plec2 = v2.layout.question("plec")
    assert [(o.id, o.label) for o in plec2.options] == [
        ("mezczyzna", "mężczyzna"), ("kobieta", "kobieta"), ("inna-zadna-z-powyzszych", "Inna / żadna z powyższych"),
        ("odmowa", "nie chcę podawać")]
    assert [o.id for o in v2.layout.question("wiek").options] == ["do-25", "26-40", "41-55", "56-70"]
    assert v2.layout.question("wiek").required and v2.layout.question("wiek").text == "Ile ma Pani/Pan lat?"
    qids = [q.id for q in v2.layout.questions]
    assert qids.index("wiek") < qids.index("plec") and set(qids) == {q.id for q in v1.layout.questions}
    # one grid's column label changed; the grids sharing the YAML anchor keep theirs
    assert [c.label for c in v2.layout.question("wizerunek").columns][4] == "znakomicie"
    assert [c.label for c in v2.layout.question("podejscie").columns][4] == "bardzo dobrze"
    assert [c.id for c in v2.layout.question("wizerunek").columns] == [c.id for c in v1.layout.question("wizerunek").columns]
    # the old version is frozen as it was; the old file is in history; the new file says who changed it
    assert store.get_form_version(workspace.db, "satysfakcja-5", 1).layout == v1.layout
    old_file = workspace.home / done.history_file
    assert old_file.parent == workspace.forms_dir / "history" and "bardzo dobrze" in old_file.read_text("utf-8")
    text = (workspace.forms_dir / "satysfakcja-5.yaml").read_text("utf-8")
    assert text.startswith("# Układ w stylu") and "# Zmieniono w panelu administratora" in text and "(ala)" in text
    assert yaml.safe_load(text)["items"][wiz.index]["scale"]["labels"][5] == "znakomicie"
    audit = store.rows(workspace.db, "select details from audit_log where action = 'survey.edit'")
    assert json.loads(audit[0]["details"])["version"] == 2
    assert S.last_edit(workspace, "satysfakcja-5", 2) == list(done.changes)
    assert any("kolejność pytań" in c for c in done.changes) and any("usunięto odpowiedź 71plus" in c for c in done.changes)
    # the history copy is not another form
    assert sorted(f.stem for f in workspace.forms_dir.glob("*.y*ml")) == ["lesko-f1", "satysfakcja-5"]


def test_new_option_ids_never_take_an_earlier_meaning(workspace: Workspace) -> None:
    publish_form(workspace, "satysfakcja-5")
    ed = S.editor(workspace, "satysfakcja-5")
    kan = _item(ed, "kanaly")
    # remove "prasa lokalna" (id prasa) ...
    S.edit_survey(workspace, S.edit_from_fields(ed, {S.field_name(kan, "o", "prasa", "remove"): "1"}), "ala")
    ed = S.editor(workspace, "satysfakcja-5")
    kan = _item(ed, "kanaly")
    # ... then add "Prasa" (another meaning: a new id) and "prasa lokalna" again (the same meaning: its old id)
    S.edit_survey(workspace, S.edit_from_fields(ed, {S.field_name(kan, "new", "label"): "Prasa"}), "ala")
    ed = S.editor(workspace, "satysfakcja-5")
    S.edit_survey(workspace, S.edit_from_fields(ed, {S.field_name(_item(ed, "kanaly"), "new", "label"): "prasa lokalna"}), "ala")
    ids = {o.id: o.label for o in store.get_form_version(workspace.db, "satysfakcja-5").layout.question("kanaly").options}
    assert ids["prasa-2"] == "Prasa" and ids["prasa"] == "prasa lokalna"
    assert S.slug("Żółta łódź – ĄĘ") == "zolta-lodz-ae" and S.slug("!!!") == "odpowiedz"


def test_the_rule_guards_the_survey_but_not_an_empty_edit(workspace: Workspace) -> None:
    _respond(workspace)
    path = workspace.forms_dir / "satysfakcja-5.yaml"
    before = path.read_text("utf-8")
    ed = S.editor(workspace, "satysfakcja-5")
    nothing = S.edit_survey(workspace, S.edit_from_fields(ed, {}), "ala")
    assert nothing.changes == () and nothing.version == 1
    edit = S.edit_from_fields(ed, {S.field_name(_item(ed, "plec"), "o", "odmowa", "label"): "nie podam"})
    with pytest.raises(NotAllowed) as exc:
        S.edit_survey(workspace, edit, "ala")
    assert exc.value.exit_code == 7 and "nie wygenerowano jeszcze żadnego raportu" in exc.value.message
    assert path.read_text("utf-8") == before and store.latest_form_version(workspace.db, "satysfakcja-5").version == 1  # type: ignore[union-attr]
    editing.report_so_far(workspace, "ala")
    done = S.edit_survey(workspace, edit, "ala")
    assert done.version == 2 and done.gate is not None and done.gate.report is not None


def test_field_errors_name_the_field(workspace: Workspace) -> None:
    ed = S.editor(workspace, "satysfakcja-5")
    plec = _item(ed, "plec")
    with pytest.raises(S.FieldError) as exc:
        S.edit_from_fields(ed, {S.field_name(plec, "o", "kobieta", "pos"): "drugi"})
    assert exc.value.field == S.field_name(plec, "o", "kobieta", "pos")
    assert "Pytanie 6 (plec), odpowiedź kobieta" in exc.value.message and "liczbą całkowitą" in exc.value.message
    with pytest.raises(S.FieldError) as exc:
        S.edit_from_fields(ed, {S.field_name(plec, "text"): "   "})
    assert "pole „Treść” nie może być puste" in exc.value.message
    every = {S.field_name(plec, "o", o.id, "remove"): "1" for o in plec.options}
    with pytest.raises(S.FieldError) as exc:
        S.edit_survey(workspace, S.edit_from_fields(ed, every), "ala")
    assert "nie można usunąć wszystkich odpowiedzi" in exc.value.message


def test_a_stale_editor_or_an_unpublishable_file_changes_nothing(workspace: Workspace) -> None:
    ed = S.editor(workspace, "lesko-f1")
    q1 = _item(ed, "q1")
    stale = S.edit_from_fields(ed, {"sha256": "0" * 64, S.field_name(q1, "text"): "Płeć"})
    with pytest.raises(InvalidInput) as exc:
        S.edit_survey(workspace, stale, "ala")
    assert "zmienił się od otwarcia edytora" in exc.value.message
    # lesko-f1 asks for the department: without departments it cannot be published, so the file is put back
    for d in store.get_office(workspace.db).departments:
        store.remove_department(workspace.db, "t", d.id)
    before = (workspace.forms_dir / "lesko-f1.yaml").read_text("utf-8")
    with pytest.raises(InvalidInput) as exc:
        S.edit_survey(workspace, S.edit_from_fields(ed, {S.field_name(q1, "text"): "Płeć"}), "ala")
    assert "nie ma jeszcze listy komórek" in exc.value.message
    assert (workspace.forms_dir / "lesko-f1.yaml").read_text("utf-8") == before
    assert store.latest_form_version(workspace.db, "lesko-f1") is None
