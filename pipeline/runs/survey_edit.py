"""Editing the survey in the browser (run layer): the layout YAML in the workspace's forms/ is changed,
validated, kept in history and published as a new form version.

What may change: the title; a question's text, hint and "required"; options' labels, order, additions and
removals; grid row and column labels; the order of items (questions, headings, instructions) and the text
of headings. Ids never change: the results of every version combine by them. A new option gets an id made
from its label, never one that an earlier version used for an option with another label. Every published
version's geometry is frozen (store.publish_form_version), so paper printed from an older version is still
read against its own geometry.

The change is allowed only under the report-first rule (editing.require_report); a change that leaves the
file as it was needs no report and publishes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from pipeline import store
from pipeline.base.errors import InvalidInput, LayoutError
from pipeline.records.layout import load_layout_text
from pipeline.runs.editing import Gate, require_report
from pipeline.runs.workspace import Workspace, layout_path, publish_form

NOTE_PREFIX = "# Zmieniono w panelu administratora"
HISTORY_DIR = "history"          # inside forms/: the glob of layout files (forms/*.yaml) does not descend into it
KIND_LABELS = {"single": "jednokrotny wybór", "multi": "wielokrotny wybór", "grid": "tabela ocen",
               "text": "pytanie otwarte", "heading": "nagłówek", "instruction": "instrukcja"}


@dataclass(frozen=True)
class Choice:
    """An option, grid row or grid column as the editor shows it."""

    id: str
    label: str
    other: bool = False          # an "inne – jakie?" option: a text field follows it on paper


@dataclass(frozen=True)
class EditorItem:
    index: int                   # place in the file's `items` list
    kind: str
    id: str                      # question id; "" for headings and instructions
    number: int | None
    text: str
    hint: str = ""
    required: bool = False
    options: tuple[Choice, ...] = ()
    rows: tuple[Choice, ...] = ()
    columns: tuple[Choice, ...] = ()
    from_departments: bool = False

    @property
    def is_question(self) -> bool:
        return bool(self.id)

    @property
    def name(self) -> str:
        """How error messages and legends name the item."""
        if not self.is_question:
            return f"{KIND_LABELS[self.kind].capitalize()} na pozycji {self.index + 1}"
        return f"Pytanie {self.number or ''} ({self.id})".replace("  ", " ")


@dataclass(frozen=True)
class Editor:
    form: str
    title: str
    sha256: str                  # of the file as shown: an edit made against other content is refused
    items: tuple[EditorItem, ...]
    latest_version: int | None


@dataclass(frozen=True)
class OptionEdit:
    id: str                      # "" = a new option
    label: str
    position: int
    remove: bool = False


@dataclass(frozen=True)
class ItemEdit:
    index: int
    position: int
    text: str
    hint: str = ""
    required: bool = False
    options: tuple[OptionEdit, ...] = ()
    rows: tuple[tuple[str, str], ...] = ()         # (row id, label)
    columns: tuple[tuple[str, str], ...] = ()      # (column id, label)


@dataclass(frozen=True)
class SurveyEdit:
    form: str
    sha256: str
    title: str
    items: tuple[ItemEdit, ...]


@dataclass(frozen=True)
class SurveyEdited:
    form: str
    changes: tuple[str, ...]     # Polish, one line per change; empty: nothing changed, nothing published
    version: int | None          # the version now current
    previous_version: int | None
    gate: Gate | None
    history_file: str = ""       # the previous layout file, relative to the workspace


class FieldError(InvalidInput):
    """A form field's value is wrong; `field` is the field's name so that the page can point at it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# --- reading the file into the editor -------------------------------------------------------------------

def _plain(node: Any) -> Any:
    """A copy without shared nodes: YAML anchors (`scale: *skala`) would otherwise make one grid's label change
    every grid's."""
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _read(ws: Workspace, form: str) -> tuple[Path, str, dict[str, Any]]:
    path = layout_path(ws, form)
    if path.parent != ws.forms_dir:
        raise InvalidInput(f"W panelu można zmieniać tylko formularze z folderu forms/ przestrzeni roboczej, nie {form!r}.")
    text = path.read_text("utf-8")
    load_layout_text(text, str(path))             # a broken file is reported before anything is shown or changed
    return path, text, _plain(yaml.safe_load(text))



def _columns(d: Mapping[str, Any]) -> tuple[Choice, ...]:
    cols: list[Choice] = []
    if "columns" in d and d.get("type") == "grid":
        cols = [Choice(str(c["id"]), str(c["label"])) for c in d["columns"]]
    elif "scale" in d:
        s = d["scale"]
        labels = {str(k): str(v) for k, v in (s.get("labels") or {}).items()}
        cols = [Choice(str(v), labels.get(str(v), str(v))) for v in range(int(s["from"]), int(s["to"]) + 1)]
    return tuple(cols) + tuple(Choice(str(c["id"]), str(c["label"])) for c in d.get("extra_columns", []))


def editor(ws: Workspace, form: str) -> Editor:
    return _editor(ws, *_read(ws, form))


def _editor(ws: Workspace, path: Path, text: str, doc: dict[str, Any]) -> Editor:
    layout = load_layout_text(text, str(path))
    numbers = {q.id: q.number for q in layout.questions}
    items: list[EditorItem] = []
    for i, d in enumerate(doc["items"]):
        kind = str(d["type"])
        if kind in ("heading", "instruction"):
            items.append(EditorItem(i, kind, "", None, str(d["text"])))
            continue
        qid = str(d["id"])
        items.append(EditorItem(
            i, kind, qid, numbers.get(qid), str(d["text"]), str(d.get("hint", "")), bool(d.get("required", False)),
            options=tuple(Choice(str(o["id"]), str(o["label"]), "other" in o) for o in d.get("options", []) or []),
            rows=tuple(Choice(str(r["id"]), str(r["label"])) for r in d.get("rows", []) or []),
            columns=_columns(d) if kind == "grid" else (), from_departments=d.get("source") == "departments"))
    latest = store.latest_form_version(ws.db, layout.form)
    return Editor(layout.form, str(doc["title"]), hashlib.sha256(text.encode()).hexdigest(), tuple(items),
                  latest.version if latest else None)


# --- the web form's fields -> an edit ---------------------------------------------------------------------

def field_name(item: EditorItem, *parts: str) -> str:
    """The form field of an item's part: i3-text, i3-o-kobieta-label, i3-new-pos, i3-r-wiedza, i3-c-5 ..."""
    return "-".join((f"i{item.index}", *parts))


def _int(fields: Mapping[str, str], name: str, default: int, what: str) -> int:
    raw = fields.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise FieldError(name, f"{what}: pole „Kolejność” musi być liczbą całkowitą (wpisano {raw!r}).") from None


def _text(fields: Mapping[str, str], name: str, current: str, what: str, required: bool = True) -> str:
    value = " ".join(fields.get(name, current).split())     # one line on paper: no line breaks or runs of spaces
    if required and not value:
        raise FieldError(name, f"{what} nie może być puste.")
    return value


def _item_edit(it: EditorItem, fields: Mapping[str, str]) -> ItemEdit:
    def f(*parts: str) -> str:
        return field_name(it, *parts)

    pos = _int(fields, f("pos"), it.index + 1, it.name)
    text = _text(fields, f("text"), it.text, f"{it.name}: pole „Treść”")
    if not it.is_question:
        return ItemEdit(it.index, pos, text)
    options: list[OptionEdit] = []
    if not it.from_departments:
        for n, o in enumerate(it.options):
            label = _text(fields, f("o", o.id, "label"), o.label, f"{it.name}, odpowiedź {o.id}: pole „Etykieta”")
            options.append(OptionEdit(o.id, label, _int(fields, f("o", o.id, "pos"), n + 1, f"{it.name}, odpowiedź {o.id}"),
                                      fields.get(f("o", o.id, "remove")) in ("1", "on", "tak")))
        new_label = _text(fields, f("new", "label"), "", "", required=False)
        if new_label:
            options.append(OptionEdit("", new_label, _int(fields, f("new", "pos"), len(it.options) + 1,
                                                          f"{it.name}, nowa odpowiedź")))
    rows = tuple((r.id, _text(fields, f("r", r.id), r.label, f"{it.name}, wiersz {r.id}: pole „Etykieta”")) for r in it.rows)
    cols = tuple((c.id, _text(fields, f("c", c.id), c.label, f"{it.name}, kolumna {c.id}: pole „Etykieta”"))
                 for c in it.columns)
    return ItemEdit(it.index, pos, text, _text(fields, f("hint"), it.hint, "", required=False),
                    fields.get(f("required")) in ("1", "on", "tak"), tuple(options), rows, cols)


def edit_from_fields(ed: Editor, fields: Mapping[str, str]) -> SurveyEdit:
    """Read the editor page's fields (names from `field_name`); a field that was not sent keeps its value."""
    edits = tuple(_item_edit(it, fields) for it in ed.items)
    title = " ".join(fields.get("title", ed.title).split())
    if not title:
        raise FieldError("title", "Pole „Tytuł ankiety” nie może być puste.")
    return SurveyEdit(ed.form, fields.get("sha256", ed.sha256), title, edits)


# --- applying an edit to the layout document ----------------------------------------------------------------

_PL = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")


def slug(label: str) -> str:
    """An id from a label: 'Przez telefon / e-mail' -> 'przez-telefon-e-mail' (a-z, 0-9, '-', up to 40)."""
    ascii_ = unicodedata.normalize("NFKD", label.translate(_PL)).encode("ascii", "ignore").decode()
    s = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")[:40].strip("-")
    return s or "odpowiedz"


def _new_id(label: str, taken: set[str], earlier: Mapping[str, str]) -> str:
    """A free id for a new option; an id an earlier version gave the same label is reused (same meaning)."""
    for oid, old in earlier.items():
        if old.casefold() == label.casefold() and oid not in taken:
            return oid
    base = slug(label)
    if base not in taken and earlier.get(base, label).casefold() == label.casefold():
        return base
    n = 2
    while True:
        cand = f"{base[:36]}-{n}"
        if cand not in taken and cand not in earlier:
            return cand
        n += 1


def _earlier_options(ws: Workspace, form: str) -> dict[str, dict[str, str]]:
    """question id -> {option id: label} over every published version of the form."""
    out: dict[str, dict[str, str]] = {}
    for fv in store.all_form_versions(ws.db):
        if fv.form == form:
            for q in fv.layout.questions:
                out.setdefault(q.id, {}).update({o.id: o.label for o in q.options})
    return out


def _set(d: dict[str, Any], key: str, value: Any, default: Any) -> None:
    """Write a field, leaving it out of the file when it has the default value (files stay short)."""
    if value == default:
        d.pop(key, None)
    else:
        d[key] = value


def apply_edit(doc: dict[str, Any], ed: Editor, edit: SurveyEdit,
               earlier: Mapping[str, Mapping[str, str]]) -> tuple[dict[str, Any], list[str]]:
    """The changed document (a new object) and the changes in Polish."""
    new = _plain(doc)
    changes: list[str] = []
    if edit.title != ed.title:
        new["title"] = edit.title
        changes.append(f"tytuł: „{edit.title}”")
    shown = {it.index: it for it in ed.items}
    for e in edit.items:
        it = shown[e.index]
        d = new["items"][e.index]
        if e.text != it.text:
            d["text"] = e.text
            changes.append(f"{it.name}: treść „{e.text}”")
        if not it.is_question:
            continue
        if e.hint != it.hint:
            _set(d, "hint", e.hint, "")
            changes.append(f"{it.name}: wskazówka „{e.hint}”" if e.hint else f"{it.name}: usunięto wskazówkę")
        if e.required != it.required:
            _set(d, "required", e.required, False)
            changes.append(f"{it.name}: {'odpowiedź wymagana' if e.required else 'odpowiedź nieobowiązkowa'}")
        if e.options:
            changes += _apply_options(d, it, e, dict(earlier.get(it.id, {})))
        for rid, label in e.rows:
            row = next(r for r in d["rows"] if str(r["id"]) == rid)
            if label != str(row["label"]):
                row["label"] = label
                changes.append(f"{it.name}, wiersz {rid}: „{label}”")
        for cid, label in e.columns:
            if label != next(c.label for c in it.columns if c.id == cid):
                _set_column(d, cid, label)
                changes.append(f"{it.name}, kolumna {cid}: „{label}”")
    order = sorted(edit.items, key=lambda e: (e.position, e.index))
    if [e.index for e in order] != sorted(e.index for e in edit.items):
        new["items"] = [new["items"][e.index] for e in order]
        changes.append("kolejność pytań: " + ", ".join(shown[e.index].id or shown[e.index].kind for e in order))
    return new, changes


def _apply_options(d: dict[str, Any], it: EditorItem, e: ItemEdit, earlier: dict[str, str]) -> list[str]:
    changes: list[str] = []
    by_id = {str(o["id"]): o for o in d["options"]}
    taken = set(by_id)
    kept: list[tuple[int, int, dict[str, Any]]] = []
    for n, oe in enumerate(e.options):
        if oe.id and oe.remove:
            changes.append(f"{it.name}: usunięto odpowiedź {oe.id} („{by_id[oe.id]['label']}”)")
            continue
        if oe.id:
            o = by_id[oe.id]
            if oe.label != str(o["label"]):
                o["label"] = oe.label
                changes.append(f"{it.name}, odpowiedź {oe.id}: „{oe.label}”")
        else:
            o = {"id": _new_id(oe.label, taken, earlier), "label": oe.label}
            taken.add(o["id"])
            changes.append(f"{it.name}: nowa odpowiedź {o['id']} („{oe.label}”)")
        kept.append((oe.position, n, o))
    ordered = [o for _, _, o in sorted(kept, key=lambda k: (k[0], k[1]))]
    if not ordered:
        raise FieldError(field_name(it, "o", it.options[0].id, "remove"),
                         f"{it.name}: nie można usunąć wszystkich odpowiedzi; zostaw co najmniej jedną.")
    before = [str(o["id"]) for o in d["options"]]
    after = [str(o["id"]) for o in ordered]
    if [i for i in after if i in before] != [i for i in before if i in after]:
        changes.append(f"{it.name}: kolejność odpowiedzi: {', '.join(after)}")
    d["options"] = ordered
    return changes


def _set_column(d: dict[str, Any], cid: str, label: str) -> None:
    for key in ("columns", "extra_columns"):
        for c in d.get(key, []) or []:
            if str(c["id"]) == cid:
                c["label"] = label
                return
    scale = d["scale"]
    labels = scale.setdefault("labels", {})
    for k in list(labels):
        if str(k) == cid:
            del labels[k]
    labels[int(cid)] = label


def dump(doc: dict[str, Any], original: str, note: str) -> str:
    """YAML text of the document, keeping the original file's leading comment block and adding a note."""
    header = []
    for line in original.splitlines():
        if not line.startswith("#"):
            break
        if not line.startswith(NOTE_PREFIX):      # only the latest edit's note is kept (history/ has the rest)
            header.append(line)
    body = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, default_flow_style=False, width=110)
    return "\n".join([*header, f"# {note}", body])


# --- the whole edit -----------------------------------------------------------------------------------------

def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def edit_survey(ws: Workspace, edit: SurveyEdit, user: str) -> SurveyEdited:
    """Apply an edit: check the rule, validate, keep the old file in forms/history/, write, publish, audit."""
    path, original, doc = _read(ws, edit.form)
    ed = _editor(ws, path, original, doc)
    if edit.sha256 != ed.sha256:
        raise InvalidInput("Plik ankiety zmienił się od otwarcia edytora (zmienił go ktoś inny albo inna karta). "
                           "Otwórz edytor ponownie i wprowadź zmiany jeszcze raz.")
    new_doc, changes = apply_edit(doc, ed, edit, _earlier_options(ws, ed.form))
    if not changes:
        return SurveyEdited(ed.form, (), ed.latest_version, ed.latest_version, None)
    gate = require_report(ws)
    stamp = datetime.now(UTC).astimezone()
    text = dump(new_doc, original, f"{NOTE_PREFIX[2:]} {stamp:%Y-%m-%d %H:%M} ({user}).")
    try:
        load_layout_text(text, str(path))
    except LayoutError as exc:
        raise InvalidInput(f"Zmiany nie zostały zapisane, bo ankieta byłaby niepoprawna. {exc.message}") from None
    history = ws.forms_dir / HISTORY_DIR
    history.mkdir(exist_ok=True)
    kept = history / f"{path.stem}-{stamp:%Y%m%d-%H%M%S}-v{ed.latest_version or 0}{path.suffix}"
    _write_atomic(kept, original)
    _write_atomic(path, text)
    try:
        version = publish_form(ws, ed.form, user)
    except Exception:
        _write_atomic(path, original)      # a file that cannot be published must not wait for the next print run
        raise
    rel = str(kept.relative_to(ws.home))
    store.audit(ws.db, user, "survey.edit", {"form": ed.form, "version": version.version,
                                            "previous_version": ed.latest_version, "changes": changes, "history": rel,
                                            "report": gate.report.id if gate.report else None})
    return SurveyEdited(ed.form, tuple(changes), version.version, ed.latest_version, gate, rel)


def last_edit(ws: Workspace, form: str, version: int) -> list[str]:
    """The changes recorded when `version` of `form` was published from the editor (for its confirmation)."""
    for row in store.audit_entries(ws.db, 0, 200):
        if row["action"] == "survey.edit":
            details = json.loads(row["details"])
            if details.get("form") == form and details.get("version") == version:
                return [str(c) for c in details.get("changes", [])]
    return []
