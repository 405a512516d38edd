"""The workspace database: migrations, office data, frozen form versions, serial allocation."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import store
from pipeline.base.errors import InvalidInput, NotFound
from pipeline.runs.workspace import Workspace, open_workspace, publish_form


def test_reopening_keeps_data_and_applies_no_migration_twice(workspace: Workspace) -> None:
    store.set_office(workspace.db, "t", name="Urząd Gminy Bliżyn")
    again = store.open_db(workspace.home / "ankieta.db")
    assert store.get_office(again).name == "Urząd Gminy Bliżyn"
    assert store.migrations.pending(again) == []
    assert again.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_office_validation(workspace: Workspace) -> None:
    with pytest.raises(InvalidInput, match="klient"):
        store.set_office(workspace.db, "t", respondent="petent")
    with pytest.raises(InvalidInput, match="małych liter"):
        store.add_department(workspace.db, "t", "Księgowość", "Księgowość")
    with pytest.raises(InvalidInput, match="już istnieje"):
        store.add_department(workspace.db, "t", "fin", "Finanse")
    with pytest.raises(NotFound):
        store.rename_department(workspace.db, "t", "nie-ma", "x")


def test_removed_department_keeps_its_name_for_old_answers(workspace: Workspace) -> None:
    store.remove_department(workspace.db, "t", "oc")
    assert "oc" not in [d.id for d in store.get_office(workspace.db).departments]
    row = store.rows(workspace.db, "select name, active from departments where id = 'oc'")[0]
    assert row == {"name": "Obrona Cywilna", "active": 0}


def test_publishing_is_idempotent_and_changes_make_new_versions(workspace: Workspace) -> None:
    v1 = publish_form(workspace, "lesko-f1")
    assert publish_form(workspace, "lesko-f1").version == v1.version == 1
    store.rename_department(workspace.db, "t", "oc", "Zarządzanie Kryzysowe")
    v2 = publish_form(workspace, "lesko-f1")
    assert v2.version == 2
    labels = [o.label for o in v2.layout.question("q4").options]
    assert "Zarządzanie Kryzysowe" in labels and "Obrona Cywilna" not in labels
    # the old version stays frozen, exactly as printed
    old = store.get_form_version(workspace.db, "lesko-f1", 1)
    assert "Obrona Cywilna" in [o.label for o in old.layout.question("q4").options]
    assert old.geometry == v1.geometry
    with pytest.raises(NotFound, match="Dostępne wersje: 1, 2"):
        store.get_form_version(workspace.db, "lesko-f1", 9)


def test_layout_edit_makes_a_new_version_and_old_geometry_survives(workspace: Workspace) -> None:
    v1 = publish_form(workspace, "lesko-f1")
    path: Path = workspace.forms_dir / "lesko-f1.yaml"
    path.write_text(path.read_text("utf-8").replace("Wiek", "Wiek (w latach)"), "utf-8")
    v2 = publish_form(workspace, "lesko-f1")
    assert v2.version == v1.version + 1
    assert v2.layout.question("q2").text == "Wiek (w latach)"
    assert store.get_form_version(workspace.db, "lesko-f1", 1).layout.question("q2").text == "Wiek"


def test_serials_are_allocated_once(workspace: Workspace) -> None:
    a = store.allocate_serials(workspace.db, "t", "lesko-f1", 1, 5)
    b = store.allocate_serials(workspace.db, "t", "lesko-f1", 1, 2)
    assert a == ["000001", "000002", "000003", "000004", "000005"] and b == ["000006", "000007"]
    audit = store.rows(workspace.db, "select action from audit_log where action = 'form.print'")
    assert len(audit) == 2


def test_open_missing_workspace_says_what_to_do(tmp_path: Path) -> None:
    from pipeline.base.errors import WorkspaceMissing

    with pytest.raises(WorkspaceMissing, match=r"ankieta --home .* init"):
        open_workspace(tmp_path / "nowhere")
