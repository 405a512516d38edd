"""From box states to answers: the pure rules every consumer (export, report, review, web) shares.

Part of the records layer: it knows layouts and box ids, nothing about images or storage.

Answer values, per question kind (the export's public shape, README "Eksport"):
- single: the option id; "invalid" when a reviewer declared it so; absent when nothing was marked.
- multi: a list of option ids (absent when nothing was marked).
- grid: {row: score} for scored columns, {row: column id} for non-scored ones ("nie mam zdania").
- text: the confirmed (or, with --machine, drafted) text.
Two marks in a single-choice question or grid row are not guessed: the question is left out of `answers`
and listed in `open_questions` until a reviewer decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline.records.layout import FormLayout, Question

INVALID = "invalid"


@dataclass(frozen=True)
class SheetAnswers:
    answers: Mapping[str, Any]
    open_questions: tuple[str, ...] = ()        # double marks or uncertain boxes, not yet decided
    texts: Mapping[str, str] = field(default_factory=dict)


def transcription_areas(layout: FormLayout, marked: set[str]) -> set[str]:
    """Text areas whose option is ticked ("inne" marked): they need transcription even if they look empty."""
    areas: set[str] = set()
    for q in layout.questions:
        for o in q.options:
            if o.other is not None and f"{q.id}.{o.id}" in marked:
                areas.add(q.area_id(o.other))
    return areas


def derive_answers(layout: FormLayout, states: Mapping[str, str], texts: Mapping[str, str],
                   question_verdicts: Mapping[str, str] | None = None) -> SheetAnswers:
    """Answers for one sheet. `states` maps box id -> marked|empty|uncertain (human decisions already
    applied); `question_verdicts` maps a question or `question.row` to "invalid" (a reviewer's verdict)."""
    verdicts = question_verdicts or {}
    answers: dict[str, Any] = {}
    open_q: list[str] = []
    for q in layout.questions:
        if q.kind == "text":
            t = texts.get(f"{q.id}.text", "").strip()
            if t:
                answers[q.id] = t
            continue
        if q.kind == "grid":
            grid: dict[str, Any] = {}
            for r in q.rows:
                key = f"{q.id}.{r.id}"
                if verdicts.get(key) == INVALID or verdicts.get(q.id) == INVALID:
                    grid[r.id] = INVALID
                    continue
                value, is_open = _pick(q, [f"{q.id}.{r.id}.{c.id}" for c in q.columns], states)
                if is_open:
                    open_q.append(key)
                elif value is not None:
                    col = q.columns[value]
                    grid[r.id] = col.value if col.scored else col.id
            if grid:
                answers[q.id] = grid
            continue
        ids = [f"{q.id}.{o.id}" for o in q.options]
        if verdicts.get(q.id) == INVALID:
            answers[q.id] = INVALID
            continue
        if q.kind == "multi":
            if any(states.get(b) == "uncertain" for b in ids):
                open_q.append(q.id)
                continue
            chosen = [o.id for o, b in zip(q.options, ids, strict=True) if states.get(b) == "marked"]
            if chosen:
                answers[q.id] = chosen
            continue
        value, is_open = _pick(q, ids, states)
        if is_open:
            open_q.append(q.id)
        elif value is not None:
            answers[q.id] = q.options[value].id
    area_texts = {k: v.strip() for k, v in texts.items() if v and v.strip()}
    return SheetAnswers(answers, tuple(open_q), area_texts)


def _pick(q: Question, box_ids: list[str], states: Mapping[str, str]) -> tuple[int | None, bool]:
    """Index of the single marked box, or (None, True) when the group cannot be decided by machine."""
    marked = [i for i, b in enumerate(box_ids) if states.get(b) == "marked"]
    uncertain = any(states.get(b) == "uncertain" for b in box_ids)
    if uncertain or len(marked) > 1:
        return None, True
    return (marked[0] if marked else None), False
