"""The survey as an HTML form: a form model of a FormLayout, and a submitted form parsed into answers.

A stage-level module (pure: no storage, no web framework). The web layer renders `SurveyForm` with the
`_questions.html` macro and hands the submitted fields (any mapping with `getlist`, e.g. werkzeug's
MultiDict) to `parse_submission`; `pipeline.responses` stores the resulting rows.

Field names are the public ids of the export (README "Geometria formularza"), so a form field, a printed
box and an export key say the same thing:
- single choice: name `q1`, value an option id; multi choice: name `q7`, several values;
- grid: one radio group per row, name `q8.uprzejmosc`, value a column id;
- text areas: name = the text-area id (`q5.inna.text`, `uwagi.text`, `q8.uwagi.text`).

Answer rows are `(question, row, value)` as the `answers` table stores them and `export.sheet_states`
reads them: single `(q1, "", "q1.kobieta")`, multi `(q7, option, "q7.option")`, grid
`(q8, row, "q8.row.5")`, text `(area id, "#text", text)`, and for hand entry the verdict "invalid"
`(q1, "", "invalid")` / `(q8, row, "invalid")`.

Hand entry (`manual=True`) types in a paper survey as it is: every single-choice question and grid row gets
the explicit choices "brak odpowiedzi" (the default) and "nieważna", a multi-choice question a "nieważne"
box, and nothing is required (the paper decides, not the form). Online, required questions follow the
layout, except those a chosen answer tells the respondent to skip (`skip_to`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from pipeline.base import config as C
from pipeline.records.answers import INVALID
from pipeline.records.layout import Block, FormLayout, Question, TextSpec

NO_ANSWER = "_brak"           # hand entry: "brak odpowiedzi"; never an option id (ids start with a-z0-9)
INVALID_CHOICE = "_niewazna"  # hand entry: "nieważna" (several marks, illegible, crossed out)
TEXT_ROW = "#text"            # the answers-table row of a free text
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TITLE_CHARS = 60             # a question named in an error message is cut to about this many characters


class FormData(Protocol):
    """What a submitted form offers (werkzeug's MultiDict does): all values of a field."""

    def getlist(self, key: str) -> list[str]: ...


@dataclass(frozen=True)
class TextField:
    name: str                  # the text-area id, e.g. "q5.inna.text"
    label: str
    lines: int
    input_id: str


@dataclass(frozen=True)
class Choice:
    value: str                 # option or column id, or NO_ANSWER / INVALID_CHOICE
    label: str
    input_id: str
    special: bool = False      # hand entry's "brak odpowiedzi" / "nieważna"
    scored: bool = True        # grid: False for "nie mam zdania"-like columns (shown apart)
    other: TextField | None = None
    skip_hint: str = ""        # "przejdź do pytania 5"


@dataclass(frozen=True)
class GridRow:
    id: str
    name: str                  # "q8.uprzejmosc"
    label: str
    legend_id: str
    choices: tuple[Choice, ...]


@dataclass(frozen=True)
class QuestionField:
    question: Question
    anchor: str                # the fieldset's id
    focus_id: str              # the first input: where the error summary's link takes the keyboard
    number_label: str          # "3." or ""
    title: str                 # "Pytanie 3 (Płeć)" — how errors name the question
    name: str                  # the radio/checkbox group (single, multi) or the textarea (text)
    choices: tuple[Choice, ...] = ()
    rows: tuple[GridRow, ...] = ()
    text: TextField | None = None      # a text question's own area
    comment: TextField | None = None   # "inne uwagi" under a question
    required: bool = False
    hint: str = ""                     # the layout's hint in screen wording (see screen_wording)

    @property
    def kind(self) -> str:
        return self.question.kind

    @property
    def hint_id(self) -> str:
        return f"{self.anchor}-opis"

    @property
    def error_id(self) -> str:
        return f"{self.anchor}-blad"


@dataclass(frozen=True)
class Heading:
    kind: str                  # "heading" | "instruction"
    text: str


@dataclass(frozen=True)
class SurveyForm:
    layout: FormLayout
    version: int
    manual: bool
    items: tuple[QuestionField | Heading, ...]

    @property
    def questions(self) -> tuple[QuestionField, ...]:
        return tuple(i for i in self.items if isinstance(i, QuestionField))

    @property
    def instructions(self) -> tuple[str, ...]:
        return tuple(screen_wording(t) for t in self.layout.instructions)

    def field(self, qid: str) -> QuestionField:
        for q in self.questions:
            if q.question.id == qid:
                return q
        raise KeyError(qid)


@dataclass(frozen=True)
class FieldError:
    question: str              # question id ("" for a field outside the questions)
    anchor: str                # the id the error summary links to
    message: str               # "Pytanie 3 (Płeć): wybierz jedną odpowiedź"
    short: str                 # "wybierz jedną odpowiedź", shown next to the question
    field: str = ""            # the text field at fault, when it is one (marked aria-invalid)


@dataclass(frozen=True)
class Parsed:
    rows: tuple[tuple[str, str, str], ...]
    errors: tuple[FieldError, ...]
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)   # cleaned fields, to fill the form again

    @property
    def ok(self) -> bool:
        return not self.errors


# --- the form model ------------------------------------------------------------------------------

def _short(text: str) -> str:
    t = " ".join(text.split()).rstrip(":").strip()
    if len(t) <= _TITLE_CHARS:
        return t
    cut = t[:_TITLE_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


_PAPER_MARK = re.compile(r"wstawić znak\s*[„\"']?x[”\"']?\s*w", re.IGNORECASE)


def screen_wording(text: str) -> str:
    """Paper wording made right for a screen: "Prosimy wstawić znak „x” w odpowiednie pole" becomes "Prosimy
    zaznaczyć odpowiednie pole". Only this phrase: everything else stays as the office wrote it."""
    return _PAPER_MARK.sub("zaznaczyć", text)


def question_title(q: Question) -> str:
    """How a message names a question: "Pytanie 3 (Płeć)", or the text alone when it is not numbered."""
    return f"Pytanie {q.number} ({_short(q.text)})" if q.number is not None else f"Pytanie „{_short(q.text)}”"


def _text_field(q: Question, spec: TextSpec, label: str) -> TextField:
    area = q.area_id(spec)
    return TextField(area, label, max(1, spec.lines), f"f-{area}")


def _specials(prefix: str) -> tuple[Choice, Choice]:
    return (Choice(NO_ANSWER, "brak odpowiedzi", f"f-{prefix}.{NO_ANSWER}", special=True),
            Choice(INVALID_CHOICE, "nieważna", f"f-{prefix}.{INVALID_CHOICE}", special=True))


def _skip_hint(layout: FormLayout, target: str | None) -> str:
    if not target:
        return ""
    q = layout.question(target)
    return f"przejdź do pytania {q.number}" if q.number is not None else f"przejdź do pytania „{_short(q.text)}”"


def _question_field(layout: FormLayout, q: Question, manual: bool) -> QuestionField:
    anchor = f"pytanie-{q.id}"
    comment = _text_field(q, q.comment, q.comment.label or "Uwagi") if q.comment is not None else None
    base = QuestionField(question=q, anchor=anchor, focus_id=anchor, number_label=f"{q.number}." if q.number is not None else "",
                         title=question_title(q), name=q.id, comment=comment, required=q.required and not manual,
                         hint=screen_wording(q.hint))
    if q.kind == "text":
        text = TextField(f"{q.id}.text", q.text, max(1, q.lines), f"f-{q.id}.text")
        return replace(base, focus_id=text.input_id, name=text.name, text=text)
    if q.kind == "grid":
        rows = []
        for r in q.rows:
            name = f"{q.id}.{r.id}"
            cols = tuple(Choice(c.id, c.label, f"f-{name}.{c.id}", scored=c.scored) for c in q.columns)
            if manual:
                no, bad = _specials(name)
                cols = (no, *cols, bad)
            rows.append(GridRow(r.id, name, r.label, f"{anchor}-{r.id}", cols))
        return replace(base, focus_id=rows[0].choices[0].input_id, rows=tuple(rows))
    choices = tuple(
        Choice(o.id, o.label, f"f-{q.id}.{o.id}",
               other=_text_field(q, o.other, f"Wpisz: {o.label}") if o.other is not None else None,
               skip_hint=_skip_hint(layout, o.skip_to))
        for o in q.options)
    if manual:
        no, bad = _specials(q.id)
        choices = (no, *choices, bad) if q.kind == "single" else (*choices, Choice(bad.value, "nieważne", bad.input_id,
                                                                                     special=True))
    # (a department question of a layout never published has no options yet: its fieldset takes the focus)
    return replace(base, focus_id=choices[0].input_id if choices else anchor, choices=choices)


def survey_form(layout: FormLayout, version: int, manual: bool = False) -> SurveyForm:
    """The HTML-form model of a published form version (online survey, or hand entry with `manual`)."""
    items: list[QuestionField | Heading] = []
    for item in layout.items:
        if isinstance(item, Block):
            items.append(Heading(item.kind, item.text))
        else:
            items.append(_question_field(layout, item, manual))
    return SurveyForm(layout, version, manual, tuple(items))


def default_values(sf: SurveyForm) -> dict[str, tuple[str, ...]]:
    """A fresh form's checked inputs: online nothing; hand entry "brak odpowiedzi" everywhere."""
    if not sf.manual:
        return {}
    values: dict[str, tuple[str, ...]] = {}
    for qf in sf.questions:
        if qf.kind == "single":
            values[qf.name] = (NO_ANSWER,)
        for row in qf.rows:
            values[row.name] = (NO_ANSWER,)
    return values


# --- parsing a submission ------------------------------------------------------------------------

def clean_text(raw: str, limit: int = C.SURVEY_TEXT_MAX_CHARS) -> str:
    """Trim, unify line ends, drop control characters (a pasted text keeps its lines and tabs). `limit` only
    bounds the work on an oversized paste; the caller reports texts over the limit."""
    text = raw[: limit * 4].replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in _CONTROL.sub("", text).split("\n")).strip()


def _values(data: FormData, name: str) -> list[str]:
    return [v.strip() for v in data.getlist(name) if v is not None and v.strip()]


class _Collector:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str]] = []
        self.errors: list[FieldError] = []
        self.values: dict[str, tuple[str, ...]] = {}

    def error(self, qf: QuestionField, short: str, text: TextField | None = None) -> None:
        """An error of the question; with `text`, of that text field (the summary's link goes there)."""
        anchor = text.input_id if text is not None else qf.focus_id
        self.errors.append(FieldError(qf.question.id, anchor, f"{qf.title}: {short}", short, text.name if text else ""))


def _texts(qf: QuestionField, fields: Sequence[TextField], data: FormData, out: _Collector) -> dict[str, str]:
    found: dict[str, str] = {}
    for tf in fields:
        raw = "\n".join(data.getlist(tf.name))
        text = clean_text(raw)
        if text:
            out.values[tf.name] = (text,)
            found[tf.name] = text
            if len(text) > C.SURVEY_TEXT_MAX_CHARS:
                out.error(qf, f"tekst jest za długi ({len(text)} znaków); skróć go do {C.SURVEY_TEXT_MAX_CHARS} znaków", tf)
    return found


def _parse_choice(qf: QuestionField, data: FormData, manual: bool, out: _Collector, skipped: set[str]) -> None:
    q = qf.question
    others = [c.other for c in qf.choices if c.other is not None]
    texts = _texts(qf, others, data, out)
    allowed = {c.value for c in qf.choices}
    chosen = list(dict.fromkeys(_values(data, qf.name)))
    out.values[qf.name] = tuple(chosen)
    if any(v not in allowed for v in chosen):
        out.error(qf, "wybierz spośród podanych odpowiedzi")
        return
    real = [v for v in chosen if v not in (NO_ANSWER, INVALID_CHOICE)]
    # Text typed into an "inne" field names its option even when the box was not ticked (as on paper).
    typed = [c.value for c in qf.choices if c.other is not None and c.other.name in texts]
    if q.kind == "single":
        if len(chosen) > 1:
            out.error(qf, "wybierz tylko jedną odpowiedź")
            return
        if not real and typed and INVALID_CHOICE not in chosen:
            real = typed[:1]
            out.values[qf.name] = (real[0],)
        elif real and typed and real[0] not in typed and not manual:
            other = next(c for c in qf.choices if c.value == typed[0])
            out.error(qf, f"wpisano tekst przy odpowiedzi „{other.label}”, a zaznaczono inną; zaznacz „{other.label}” "
                          "albo usuń tekst", other.other)
            return
    else:
        if INVALID_CHOICE in chosen and real:
            out.error(qf, "zaznacz odpowiedzi albo „nieważne”, nie jedno i drugie")
            return
        real += [v for v in typed if v not in real and INVALID_CHOICE not in chosen]
        out.values[qf.name] = tuple(dict.fromkeys([*chosen, *real]))
    if INVALID_CHOICE in chosen:
        out.rows.append((q.id, "", INVALID))
    elif real:
        if q.kind == "single":
            out.rows.append((q.id, "", f"{q.id}.{real[0]}"))
        else:
            order = [c.value for c in qf.choices]
            out.rows += [(q.id, v, f"{q.id}.{v}") for v in sorted(real, key=order.index)]
    elif qf.required and q.id not in skipped:
        out.error(qf, "wybierz jedną odpowiedź" if q.kind == "single" else "zaznacz co najmniej jedną odpowiedź")
    out.rows += [(name, TEXT_ROW, text) for name, text in texts.items()]


def _parse_grid(qf: QuestionField, data: FormData, out: _Collector, skipped: set[str]) -> None:
    q = qf.question
    missing: list[str] = []
    bad = False
    for row in qf.rows:
        chosen = list(dict.fromkeys(_values(data, row.name)))
        out.values[row.name] = tuple(chosen)
        allowed = {c.value for c in row.choices}
        if len(chosen) > 1 or any(v not in allowed for v in chosen):
            bad = True
            continue
        value = chosen[0] if chosen else NO_ANSWER
        if value == INVALID_CHOICE:
            out.rows.append((q.id, row.id, INVALID))
        elif value != NO_ANSWER:
            out.rows.append((q.id, row.id, f"{q.id}.{row.id}.{value}"))
        else:
            missing.append(row.label)
    if bad:
        out.error(qf, "w każdym wierszu wybierz jedną z podanych ocen")
    elif missing and qf.required and q.id not in skipped:
        if len(missing) == len(qf.rows):
            out.error(qf, "oceń każdy wiersz tabeli")
        else:
            out.error(qf, "oceń każdy wiersz tabeli; brakuje: " + ", ".join(missing))
    texts = _texts(qf, [qf.comment] if qf.comment else [], data, out)
    out.rows += [(name, TEXT_ROW, text) for name, text in texts.items()]


def _parse_text(qf: QuestionField, data: FormData, out: _Collector, skipped: set[str]) -> None:
    fields = [f for f in (qf.text, qf.comment) if f is not None]
    texts = _texts(qf, fields, data, out)
    if qf.required and qf.text is not None and qf.text.name not in texts and qf.question.id not in skipped:
        out.error(qf, "wpisz odpowiedź")
    out.rows += [(name, TEXT_ROW, text) for name, text in texts.items()]


def skipped_questions(sf: SurveyForm, data: FormData) -> set[str]:
    """Questions the respondent was told to skip: those between a chosen answer with `skip_to` and its
    target. They are never required."""
    order = [q.question.id for q in sf.questions]
    skipped: set[str] = set()
    for qf in sf.questions:
        if qf.kind != "single":
            continue
        chosen = _values(data, qf.name)
        for o in qf.question.options:
            if o.skip_to and o.id in chosen and o.skip_to in order:
                start, end = order.index(qf.question.id), order.index(o.skip_to)
                skipped.update(order[start + 1:end])
    return skipped


def parse_submission(sf: SurveyForm, data: FormData) -> Parsed:
    """Validate a submitted form against the form model: answer rows, and errors that name the question."""
    out = _Collector()
    skipped = skipped_questions(sf, data) if not sf.manual else set()
    for qf in sf.questions:
        if qf.kind in ("single", "multi"):
            _parse_choice(qf, data, sf.manual, out, skipped)
            if qf.comment is not None:
                texts = _texts(qf, [qf.comment], data, out)
                out.rows += [(name, TEXT_ROW, text) for name, text in texts.items()]
        elif qf.kind == "grid":
            _parse_grid(qf, data, out, skipped)
        else:
            _parse_text(qf, data, out, skipped)
    # One message per question: the first problem found is the one to fix first.
    first: dict[str, FieldError] = {}
    for e in out.errors:
        first.setdefault(e.question, e)
    return Parsed(tuple(out.rows), tuple(first.values()), out.values)


# --- reading answers back, for the person who typed them in ----------------------------------------

def describe(sf: SurveyForm, rows: Iterable[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """(question title, answer in words) for every question, in form order: the hand-entry confirmation."""
    by_q: dict[str, list[tuple[str, str]]] = {}
    texts: dict[str, str] = {}
    for question, row, value in rows:
        if row == TEXT_ROW:
            texts[question] = value
        else:
            by_q.setdefault(question, []).append((row, value))
    out: list[tuple[str, str]] = []
    for qf in sf.questions:
        q = qf.question
        parts: list[str] = []
        got = by_q.get(q.id, [])
        if q.kind == "grid" and got:           # (a grid with no row answered is just "brak odpowiedzi")
            cols = {c.id: c.label for c in q.columns}
            for r in q.rows:
                v = next((val for row, val in got if row == r.id), None)
                shown = "nieważna" if v == INVALID else cols.get(v.rsplit(".", 1)[-1], v) if v else "brak odpowiedzi"
                parts.append(f"{r.label}: {shown}")
        elif q.kind in ("single", "multi"):
            labels = {o.id: o.label for o in q.options}
            if any(v == INVALID for _, v in got):
                parts.append("nieważna" if q.kind == "single" else "nieważne")
            else:
                parts += [labels.get(v.split(".", 1)[1], v) for _, v in got]
        areas = [qf.text] if qf.text else []
        areas += [c.other for c in qf.choices if c.other is not None] + ([qf.comment] if qf.comment else [])
        parts += [f"„{texts[a.name]}”" for a in areas if a is not None and a.name in texts]
        out.append((qf.title, "; ".join(parts) if parts else "brak odpowiedzi"))
    return out
