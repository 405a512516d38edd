"""Layout files: the shipped layouts load; broken ones fail with a message naming file, place and fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.base.errors import LayoutError
from pipeline.records.layout import layout_from_dict, layout_to_dict, load_layout, load_layout_text, with_departments
from tests.conftest import ROOT

F1 = ROOT / "form_layouts" / "lesko-f1.yaml"


def test_f1_is_complete_and_verbatim() -> None:
    lay = load_layout(F1)
    numbered = [q for q in lay.questions if q.number is not None]
    assert [q.number for q in numbered] == list(range(1, 11))
    assert lay.question("q8").kind == "grid"
    assert [c.value for c in lay.question("q8").columns] == [1, 2, 3, 4, 5]
    assert [r.id for r in lay.question("q8").rows] == ["uprzejmosc", "sprawnosc", "kompetencja", "informacja", "terminowosc"]
    assert lay.question("q7").kind == "multi"
    assert lay.question("q5").options[-1].other is not None          # "innej sprawy – proszę podać jakiej"
    assert lay.question("q7").options[-1].other is not None          # "inne trudności – proszę podać jakie"
    assert lay.question("q8").comment is not None                    # "inne uwagi – proszę podać jakie"
    assert lay.question("uwagi").kind == "text"
    assert lay.closing == "DZIĘKUJEMY ZA WYPEŁNIENIE ANKIETY"
    assert "Nie dotyczy: sprawa w toku" in [o.label for o in lay.question("q6").options]
    assert [c.scored for c in lay.question("q10").columns] == [False, False, False]


def test_area_ids_follow_the_public_convention() -> None:
    lay = load_layout(F1)
    q5 = lay.question("q5")
    assert [q5.area_id(s) for s in q5.text_specs()] == ["q5.inna.text"]
    uw = lay.question("uwagi")
    assert [uw.area_id(s) for s in uw.text_specs()] == ["uwagi.text"]


def test_departments_come_from_office_data() -> None:
    lay = with_departments(load_layout(F1), [("fin", "Referat Finansowy"), ("usc", "USC")])
    assert [(o.id, o.label) for o in lay.question("q4").options] == [("fin", "Referat Finansowy"), ("usc", "USC")]


def test_every_shipped_layout_round_trips_through_json() -> None:
    for path in sorted((ROOT / "form_layouts").glob("*.yaml")):
        lay = with_departments(load_layout(path), [("a", "A")])
        assert layout_from_dict(layout_to_dict(lay)) == lay


def _broken(mutate: object) -> str:
    doc = yaml.safe_load(F1.read_text("utf-8"))
    assert callable(mutate)
    mutate(doc)
    with pytest.raises(LayoutError) as info:
        load_layout_text(yaml.safe_dump(doc, allow_unicode=True), "zepsuty.yaml")
    return info.value.message


def test_unknown_question_type_names_the_question_and_the_allowed_types() -> None:
    msg = _broken(lambda d: d["items"][2].update(type="skala"))
    assert "zepsuty.yaml" in msg and "'q3'" in msg and "'type'" in msg
    assert "single" in msg and "grid" in msg


def test_missing_label_names_the_option() -> None:
    msg = _broken(lambda d: d["items"][0]["options"][1].pop("label"))
    assert "'q1'" in msg and "'mezczyzna'" in msg and "'label'" in msg


def test_bad_id_says_what_ids_may_contain() -> None:
    msg = _broken(lambda d: d["items"][1]["options"][0].update(id="Młodzi"))
    assert "'q2'" in msg and "Młodzi" in msg and "małe litery" in msg


def test_unknown_field_lists_the_allowed_fields() -> None:
    msg = _broken(lambda d: d["items"][0].update(colour="red"))
    assert "'colour'" in msg and "options" in msg


def test_duplicate_ids_are_refused() -> None:
    msg = _broken(lambda d: d["items"][0]["options"].append({"id": "kobieta", "label": "jeszcze raz"}))
    assert "'kobieta'" in msg and "powtarza" in msg
    msg = _broken(lambda d: d["items"][1].update(id="q1"))
    assert "'q1'" in msg and "powtarza" in msg


def test_skip_to_must_name_a_question() -> None:
    msg = _broken(lambda d: d["items"][5]["options"][0].update(skip_to="q99"))
    assert "q99" in msg and "q10" in msg


def test_grid_needs_columns() -> None:
    msg = _broken(lambda d: d["items"][7].pop("scale"))
    assert "'q8'" in msg and "scale" in msg


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "zly.yaml"
    bad.write_text("form: x\ntitle: [niezamknięte\nitems: []\n", "utf-8")
    with pytest.raises(LayoutError) as info:
        load_layout(bad)
    assert "zly.yaml" in info.value.message and "wiersz" in info.value.message


# --- bounded YAML (issue 18) ------------------------------------------------------------------------------

def _alias_bomb(levels: int = 9) -> str:
    """The "billion laughs": each level is nine aliases of the one before (9^9 = 387 million strings)."""
    lines = ['a: &a ["ha", "ha", "ha", "ha", "ha", "ha", "ha", "ha", "ha"]']
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(levels - 1)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    import tracemalloc

    tracemalloc.start()
    with pytest.raises(LayoutError, match="po rozwinięciu aliasów"):
        load_layout_text(_alias_bomb(), "bomba.yaml")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20_000_000          # nothing was expanded (before: 3.2 GB)


@pytest.mark.parametrize(("text", "why"), [("a: &a [*a]\n", "sam do siebie"), ("[" * 3000 + "]" * 3000, "zagnieżdżon"),
                                          ("#" + "x" * 600_000 + "\n", "za duży")])
def test_hostile_yaml_gets_a_clear_error(text: str, why: str) -> None:
    with pytest.raises(LayoutError, match=why):
        load_layout_text(text, "zly.yaml")


def test_aliases_used_to_share_a_scale_still_work() -> None:
    lay = load_layout(ROOT / "form_layouts" / "satysfakcja-5.yaml")      # shares its scale with &skala / *skala
    grids = [q for q in lay.questions if q.kind == "grid"]
    assert len(grids) >= 2 and len({tuple(c.id for c in q.columns) for q in grids}) == 1
