"""Open answers and complaints: the transcribed texts of a period, grouped per question and department.

Identical answers (the same words, ignoring case, spacing and closing punctuation) are merged and counted, so
"długie kolejki" written by six people is one line "(6)". No sheet id is printed beside a text: the report may
be published, and an id links a remark to the respondent's other answers in the raw data.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from pipeline.records.layout import FormLayout
from pipeline.report.model import Complaint, OpenAnswers, ResponseRecord, TextGroup, TextItem

NO_DEPARTMENT = "bez wskazania komórki"
OPEN_STATUS = "do rozpatrzenia"


def normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().rstrip(".!?,;:…").strip().casefold()


def _merge(texts: Sequence[tuple[str, bool]]) -> tuple[TextItem, ...]:
    """Identical texts merged (the first spelling kept), most frequent first, then in order of appearance."""
    first: dict[str, str] = {}
    counts: Counter[str] = Counter()
    flagged: set[str] = set()
    for text, complaint in texts:
        key = normalised(text)
        first.setdefault(key, text)
        counts[key] += 1
        if complaint:
            flagged.add(key)
    return tuple(sorted((TextItem(first[k], counts[k], k in flagged) for k in first), key=lambda it: -it.count))


def open_answers(layouts: Mapping[str, FormLayout], records: Sequence[ResponseRecord],
                 department_of: Callable[[ResponseRecord], str | None], department_label: Mapping[str, str],
                 department_order: Sequence[str]) -> tuple[OpenAnswers, ...]:
    """Per form and question (in the questionnaire's order) the texts of its areas, per department."""
    out = []
    for form in sorted(layouts):
        recs = [r for r in records if r.form == form]
        if not recs:
            continue
        for q in layouts[form].questions:
            areas = [q.area_id(s) for s in q.text_specs()]
            if not areas:
                continue
            by_dept: dict[str, list[tuple[str, bool]]] = {}
            for r in recs:
                for area in areas:
                    text = r.texts.get(area, "").strip()
                    if text:
                        by_dept.setdefault(department_of(r) or "", []).append((text, area in r.complaints))
            if not by_dept:
                continue
            order = [d for d in department_order if d in by_dept] + sorted(d for d in by_dept if d not in department_order)
            groups = tuple(TextGroup(department_label.get(d, d) if d else (NO_DEPARTMENT if len(by_dept) > 1 else ""),
                                     _merge(by_dept[d])) for d in order)
            out.append(OpenAnswers(form, q.id, q.number, q.text, groups))
    return tuple(out)


def complaints(layouts: Mapping[str, FormLayout], records: Sequence[ResponseRecord],
               department_of: Callable[[ResponseRecord], str | None], department_label: Mapping[str, str],
               status: Mapping[tuple[str, str], str]) -> tuple[Complaint, ...]:
    """Every text a reviewer flagged as a complaint, oldest first, with its department, date and handling status."""
    where: dict[tuple[str, str], str] = {}
    for form, lay in layouts.items():
        for q in lay.questions:
            for spec in q.text_specs():
                label = q.text if not spec.label or spec.label == q.text else f"{q.text} — {spec.label}"
                where[(form, q.area_id(spec))] = f"{q.number}. {label}" if q.number else label
    out = []
    for r in sorted(records, key=lambda r: (r.received, r.sheet_id)):
        for area in sorted(r.complaints):
            text = r.texts.get(area, "").strip()
            if text:
                dept = department_of(r)
                out.append(Complaint(text, where.get((r.form, area), area), department_label.get(dept, dept) if dept else
                                     NO_DEPARTMENT, r.received, status.get((r.sheet_id, area), OPEN_STATUS)))
    return tuple(out)
