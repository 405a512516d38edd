"""Form layouts: the human-edited YAML file, its schema validation and the frozen dataclasses it becomes.

A layout says *what* a form asks (questions, options, grid rows and columns, free-text areas) with a
stable id for every piece, so results survive rewording across versions. *Where* things land on paper is
the renderer's job; the result of that is frozen per version (records.FormGeometry).

Errors name the file, the question and the field, and say what is allowed, in Polish: the people who edit
layouts are office administrators.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jsonschema
import yaml

from pipeline.base import config as C
from pipeline.base.errors import LayoutError

QuestionKind = Literal["single", "multi", "grid", "text"]
BlockKind = Literal["heading", "instruction"]


@dataclass(frozen=True)
class TextSpec:
    """A free-text area: a question's comment field or an option's "inne – jakie?" field."""

    id: str
    label: str
    lines: int = 1


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    other: TextSpec | None = None       # "inne – jakie?": ticking it asks for text
    skip_to: str | None = None          # printed hint "→ proszę przejść do pyt. N"


@dataclass(frozen=True)
class Column:
    """A grid column; `value` is the score, None for non-scored columns ("nie mam zdania")."""

    id: str
    label: str
    value: int | None = None

    @property
    def scored(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class Row:
    id: str
    label: str


@dataclass(frozen=True)
class Question:
    id: str
    kind: QuestionKind
    text: str
    number: int | None = None
    hint: str = ""
    required: bool = False
    new_page: bool = False
    options: tuple[Option, ...] = ()
    option_columns: int = 1
    source: str | None = None           # "departments": options come from the office data
    rows: tuple[Row, ...] = ()
    columns: tuple[Column, ...] = ()
    scale_caption: str = ""
    comment: TextSpec | None = None
    lines: int = 0                      # text questions: number of handwriting lines

    def text_specs(self) -> tuple[TextSpec, ...]:
        """Every free-text area of the question, in printing order."""
        specs: list[TextSpec] = [o.other for o in self.options if o.other is not None]
        if self.kind == "text":
            specs.append(TextSpec("", self.text, self.lines))
        if self.comment is not None:
            specs.append(self.comment)
        return tuple(specs)

    def area_id(self, spec: TextSpec) -> str:
        """Public id of a text area: `q5.inna.text` for an option's field, `q11.text` for a text question."""
        return f"{self.id}.text" if not spec.id else f"{self.id}.{spec.id}.text"


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    text: str
    new_page: bool = False


Item = Question | Block


@dataclass(frozen=True)
class FormLayout:
    form: str
    title: str
    items: tuple[Item, ...]
    subtitle: str = ""
    code: str = ""
    instructions: tuple[str, ...] = ()
    closing: str = ""
    source_name: str = field(default="", compare=False)

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(i for i in self.items if isinstance(i, Question))

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(qid)


# --- loading ------------------------------------------------------------------------------------

_SCHEMA: dict[str, Any] | None = None

_FIELD_NAMES_PL = {
    "form": "identyfikator formularza", "title": "tytuł", "items": "lista pytań", "id": "identyfikator",
    "text": "treść", "label": "etykieta", "options": "odpowiedzi", "rows": "wiersze", "columns": "kolumny",
    "scale": "skala", "type": "typ", "lines": "liczba linii", "value": "wartość",
}

_ALLOWED_HINTS = {
    "type": "dozwolone typy: heading, instruction, single, multi, grid, text",
    "id": "identyfikator: małe litery a-z, cyfry, '-' lub '_', do 40 znaków, bez polskich liter i spacji",
    "form": "identyfikator: małe litery a-z, cyfry, '-' lub '_', do 40 znaków, bez polskich liter i spacji",
    "skip_to": "identyfikator pytania, np. q5",
    "from": "skala zaczyna się od 0 albo od 1",
    "to": "skala kończy się na wartości od 4 do 10",
}


def _schema() -> dict[str, Any]:
    global _SCHEMA
    if _SCHEMA is None:
        text = resources.files("pipeline.records").joinpath("schemas/layout.schema.json").read_text("utf-8")
        _SCHEMA = json.loads(text)
    return _SCHEMA


def _place(doc: Any, path: Sequence[Any]) -> str:
    """Describe a JSON path the way an administrator thinks of it: question id, option, field."""
    parts: list[str] = []
    node = doc
    i = 0
    while i < len(path):
        key = path[i]
        if key == "items" and i + 1 < len(path) and isinstance(node, Mapping):
            idx = path[i + 1]
            items = node.get("items") or []
            item = items[idx] if isinstance(items, list) and isinstance(idx, int) and idx < len(items) else {}
            qid = item.get("id") if isinstance(item, Mapping) else None
            parts.append(f"pytanie {qid!r} (pozycja {idx + 1} listy items)" if qid else f"pozycja {idx + 1} listy items")
            node = item
            i += 2
            continue
        if isinstance(key, str) and i + 1 < len(path) and isinstance(path[i + 1], int):
            seq = node.get(key) if isinstance(node, Mapping) else None
            idx = path[i + 1]
            elem = seq[idx] if isinstance(seq, list) and idx < len(seq) else {}
            eid = elem.get("id") if isinstance(elem, Mapping) else None
            name = {"options": "odpowiedź", "rows": "wiersz", "columns": "kolumna", "extra_columns": "kolumna"}.get(
                key, key
            )
            parts.append(f"{name} {eid!r}" if eid else f"{name} nr {idx + 1}")
            node = elem
            i += 2
            continue
        parts.append(f"pole {key!r}")
        node = node.get(key) if isinstance(node, Mapping) else None
        i += 1
    return ", ".join(parts) if parts else "cały plik"


def _explain(err: jsonschema.ValidationError) -> str:
    """A Polish sentence for one schema violation, saying what is allowed."""
    v = err.validator
    last = next((p for p in reversed(list(err.absolute_path)) if isinstance(p, str)), "")
    if v == "required":
        missing = re.findall(r"'([^']+)' is a required property", err.message)
        name = missing[0] if missing else "?"
        return f"brakuje pola {name!r} ({_FIELD_NAMES_PL.get(name, name)}); dodaj je"
    if v == "additionalProperties":
        extra = re.findall(r"'([^']+)'", err.message)
        allowed = sorted((err.schema.get("properties") or {}).keys()) if isinstance(err.schema, Mapping) else []
        return f"nieznane pole {', '.join(map(repr, extra))}; dozwolone pola: {', '.join(allowed)}"
    if v == "enum" or v == "const":
        choices: list[Any] = list(err.validator_value) if v == "enum" else [err.validator_value]  # type: ignore[arg-type]
        hint = _ALLOWED_HINTS.get(last)
        return f"niedozwolona wartość {err.instance!r}; " + (hint or f"dozwolone: {', '.join(map(str, choices))}")
    if v == "pattern":
        return f"niepoprawna wartość {err.instance!r}; " + _ALLOWED_HINTS.get(last, f"wzorzec {err.validator_value}")
    if v == "type":
        kinds = {"string": "tekst", "integer": "liczba całkowita", "boolean": "true/false", "array": "lista",
                 "object": "słownik (pola klucz: wartość)"}
        want = err.validator_value if isinstance(err.validator_value, str) else "?"
        return f"wartość {err.instance!r} ma zły typ; oczekiwano: {kinds.get(want, want)}"
    if v == "minItems":
        return f"lista jest za krótka; potrzeba co najmniej {err.validator_value} elementów"
    if v == "minLength":
        return "pusty tekst; wpisz treść"
    if v in ("minimum", "maximum"):
        return f"wartość {err.instance!r} poza zakresem ({v} {err.validator_value})"
    return err.message


def _fail(source: str, doc: Any, path: Sequence[Any], what: str) -> LayoutError:
    return LayoutError(f"Błąd w pliku układu {source}: {_place(doc, path)}: {what}.")


def parse_layout(doc: Any, source: str = "<układ>") -> FormLayout:
    """Validate a layout document (already parsed from YAML) and build the FormLayout."""
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(doc), key=lambda e: (len(list(e.absolute_path)), list(map(str, e.absolute_path))))
    if errors:
        # The deepest error under a failed `if/then` is the one that names the field; report the first few.
        lines = []
        seen: set[str] = set()
        for err in errors:
            if err.validator in ("allOf", "if", "then"):
                continue
            line = f"{_place(doc, list(err.absolute_path))}: {_explain(err)}"
            if line not in seen:
                seen.add(line)
                lines.append(line)
        if not lines:
            lines = [f"{_place(doc, list(errors[0].absolute_path))}: {errors[0].message}"]
        shown = "\n  - ".join(lines[:8])
        more = f"\n  (i {len(lines) - 8} innych)" if len(lines) > 8 else ""
        raise LayoutError(f"Błąd w pliku układu {source}:\n  - {shown}{more}")
    return _build(doc, source)


def _text_spec(d: Mapping[str, Any] | None, default_lines: int = 1) -> TextSpec | None:
    if d is None:
        return None
    return TextSpec(str(d["id"]), str(d.get("label", "")), int(d.get("lines", default_lines)))


def _grid_columns(d: Mapping[str, Any]) -> tuple[Column, ...]:
    cols: list[Column] = []
    if "columns" in d:
        cols = [Column(str(c["id"]), str(c["label"]), c.get("value")) for c in d["columns"]]
    elif "scale" in d:
        s = d["scale"]
        labels = {str(k): str(v) for k, v in (s.get("labels") or {}).items()}
        cols = [Column(str(v), labels.get(str(v), str(v)), v) for v in range(int(s["from"]), int(s["to"]) + 1)]
    cols += [Column(str(c["id"]), str(c["label"]), c.get("value")) for c in d.get("extra_columns", [])]
    return tuple(cols)


def _unique(source: str, doc: Any, path: Sequence[Any], ids: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise _fail(source, doc, path, f"identyfikator {i!r} powtarza się wśród {what}; każdy musi być inny")
        seen.add(i)


def _build(doc: Mapping[str, Any], source: str) -> FormLayout:
    items: list[Item] = []
    number = 0
    for idx, d in enumerate(doc["items"]):
        path = ["items", idx]
        kind = d["type"]
        if kind in ("heading", "instruction"):
            items.append(Block(kind, str(d["text"]), bool(d.get("new_page", False))))
            continue
        numbered = bool(d.get("numbered", True))
        if numbered:
            number += 1
        common: dict[str, Any] = {
            "id": str(d["id"]), "kind": kind, "text": str(d["text"]), "number": number if numbered else None,
            "hint": str(d.get("hint", "")), "required": bool(d.get("required", False)),
            "new_page": bool(d.get("new_page", False)), "comment": _text_spec(d.get("comment")),
        }
        if kind in ("single", "multi"):
            if "options" not in d and d.get("source") != "departments":
                raise _fail(source, doc, path, "brak pola 'options'; podaj odpowiedzi albo 'source: departments'")
            options = tuple(
                Option(
                    str(o["id"]), str(o["label"]),
                    TextSpec(f"{o['id']}", str(o["label"]), int(o["other"].get("lines", 1))) if "other" in o else None,
                    o.get("skip_to"),
                )
                for o in d.get("options", [])
            )
            _unique(source, doc, [*path, "options"], (o.id for o in options), "odpowiedzi")
            q = Question(**common, options=options, option_columns=int(d.get("columns", 1)), source=d.get("source"))
        elif kind == "grid":
            columns = _grid_columns(d)
            if len(columns) < 2:
                raise _fail(source, doc, path, "pytanie tabelaryczne potrzebuje 'scale' albo 'columns' (co najmniej 2 kolumny)")
            rows = tuple(Row(str(r["id"]), str(r["label"])) for r in d["rows"])
            _unique(source, doc, [*path, "rows"], (r.id for r in rows), "wierszy")
            _unique(source, doc, [*path, "columns"], (c.id for c in columns), "kolumn")
            caption = str((d.get("scale") or {}).get("caption", ""))
            q = Question(**common, rows=rows, columns=columns, scale_caption=caption)
        else:
            q = Question(**common, lines=int(d.get("lines", 3)))
        areas = [t.id for t in q.text_specs()]
        _unique(source, doc, path, areas, "pól tekstowych pytania")
        items.append(q)
    qids = [q.id for q in items if isinstance(q, Question)]
    _unique(source, doc, ["items"], qids, "pytań")
    for idx, d in enumerate(doc["items"]):
        for o in d.get("options", []) or []:
            if o.get("skip_to") and o["skip_to"] not in qids:
                raise _fail(source, doc, ["items", idx, "options"], f"'skip_to: {o['skip_to']}' wskazuje nieistniejące pytanie; "
                            f"dostępne: {', '.join(qids)}")
    return FormLayout(
        form=str(doc["form"]), title=str(doc["title"]), items=tuple(items), subtitle=str(doc.get("subtitle", "")),
        code=str(doc.get("code", "")), instructions=tuple(doc.get("instructions", [])),
        closing=str(doc.get("closing", "")), source_name=source,
    )


def _expanded_nodes(root: yaml.Node, limit: int) -> int:
    """How many nodes the document has with every alias expanded, counted without expanding anything (each node once,
    memoised); past `limit` or on an alias that contains itself, a LayoutError."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise LayoutError("alias YAML odwołuje się sam do siebie (nieskończona struktura)")
        active.add(key)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        total = 1
        for child in children:
            total += size(child)
            if total > limit:
                raise LayoutError(f"po rozwinięciu aliasów YAML (&/*) plik ma ponad {limit} elementów")
        active.discard(key)
        sizes[key] = total
        return total

    return size(root)


def _safe_yaml(text: str, source: str) -> Any:
    """yaml.safe_load with bounds: the file's size and the node count with aliases expanded (aliases stay allowed:
    the bundled layouts share scales with them)."""
    if len(text.encode("utf-8")) > C.LAYOUT_MAX_BYTES:
        raise LayoutError(f"Plik układu {source} jest za duży (ponad {C.LAYOUT_MAX_BYTES // 1024} KB); układ ankiety ma "
                          "zwykle kilka KB. Sprawdź, czy to właściwy plik.")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is not None:
            _expanded_nodes(root, C.LAYOUT_MAX_NODES)
        return yaml.safe_load(text)
    except LayoutError as exc:
        raise LayoutError(f"Plik układu {source} odrzucono: {exc.message}. Użyj aliasów tylko do powtórzenia "
                          "skali lub kolumn, bez zagnieżdżania.") from None
    except RecursionError:
        raise LayoutError(f"Plik układu {source} ma zbyt głęboko zagnieżdżoną strukturę YAML.") from None


def load_layout_text(text: str, source: str) -> FormLayout:
    try:
        doc = _safe_yaml(text, source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (wiersz {mark.line + 1}, kolumna {mark.column + 1})" if mark is not None else ""
        raise LayoutError(
            f"Plik układu {source} nie jest poprawnym YAML-em{where}: {exc}. Sprawdź wcięcia i cudzysłowy."
        ) from exc
    return parse_layout(doc, source)


def load_layout(path: Path) -> FormLayout:
    """Read and validate one layout file."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError as exc:
        raise LayoutError(f"Nie ma pliku układu {path}.") from exc
    except UnicodeDecodeError as exc:
        raise LayoutError(f"Plik układu {path} nie jest zapisany w UTF-8; zapisz go ponownie jako UTF-8.") from exc
    return load_layout_text(text, str(path))


def with_departments(layout: FormLayout, departments: Sequence[tuple[str, str]]) -> FormLayout:
    """Fill every `source: departments` question with the office's departments (id, name)."""
    items: list[Item] = []
    for item in layout.items:
        if isinstance(item, Question) and item.source == "departments":
            opts = tuple(Option(did, name) for did, name in departments) + tuple(
                o for o in item.options if o.id not in {d for d, _ in departments}
            )
            item = replace(item, options=opts)
        items.append(item)
    return replace(layout, items=tuple(items))


def layout_to_dict(layout: FormLayout) -> dict[str, Any]:
    """A plain-JSON form of a resolved layout, stored with each frozen form version."""

    def text_spec(t: TextSpec | None) -> dict[str, Any] | None:
        return None if t is None else {"id": t.id, "label": t.label, "lines": t.lines}

    items: list[dict[str, Any]] = []
    for it in layout.items:
        if isinstance(it, Block):
            items.append({"type": it.kind, "text": it.text, "new_page": it.new_page})
            continue
        items.append({
            "type": it.kind, "id": it.id, "text": it.text, "number": it.number, "hint": it.hint,
            "required": it.required, "new_page": it.new_page, "option_columns": it.option_columns,
            "source": it.source, "scale_caption": it.scale_caption, "lines": it.lines,
            "comment": text_spec(it.comment),
            "options": [{"id": o.id, "label": o.label, "other": text_spec(o.other), "skip_to": o.skip_to}
                        for o in it.options],
            "rows": [{"id": r.id, "label": r.label} for r in it.rows],
            "columns": [{"id": c.id, "label": c.label, "value": c.value} for c in it.columns],
        })
    return {"form": layout.form, "title": layout.title, "subtitle": layout.subtitle, "code": layout.code,
            "instructions": list(layout.instructions), "closing": layout.closing, "items": items}


def layout_from_dict(d: Mapping[str, Any]) -> FormLayout:
    """Inverse of layout_to_dict (trusted input: it was written by us)."""

    def text_spec(t: Mapping[str, Any] | None) -> TextSpec | None:
        return None if t is None else TextSpec(t["id"], t["label"], int(t["lines"]))

    items: list[Item] = []
    for it in d["items"]:
        if it["type"] in ("heading", "instruction"):
            items.append(Block(it["type"], it["text"], bool(it.get("new_page"))))
            continue
        items.append(Question(
            id=it["id"], kind=it["type"], text=it["text"], number=it["number"], hint=it["hint"],
            required=it["required"], new_page=it["new_page"], option_columns=it["option_columns"],
            source=it["source"], scale_caption=it["scale_caption"], lines=it["lines"],
            comment=text_spec(it["comment"]),
            options=tuple(Option(o["id"], o["label"], text_spec(o["other"]), o["skip_to"]) for o in it["options"]),
            rows=tuple(Row(r["id"], r["label"]) for r in it["rows"]),
            columns=tuple(Column(c["id"], c["label"], c["value"]) for c in it["columns"]),
        ))
    return FormLayout(form=d["form"], title=d["title"], items=tuple(items), subtitle=d["subtitle"], code=d["code"],
                      instructions=tuple(d["instructions"]), closing=d["closing"])
