"""What needs action, and the summary for the mayor.

Findings are judged on question rows, departments, the index and complaints. Every statistical judgement is a
test with a p-value (a rated row's mean or top-2 share below the office's threshold, or down since the previous
period; a department below the rest of the office or down; the index down), and all the report's tests are one
family under Holm's procedure: in an office where nothing changed, the chance that the protocol names anything is
at most `family_alpha` (5 %), although with 40 tests about two would pass at 95 % each. A complaint always needs
handling, so every department with complaints is a finding, with its complaint rate and interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipeline.base.polish import ANKIETA, SKARGA, count
from pipeline.report import wording as W
from pipeline.report.measures import PeriodEstimates
from pipeline.report.model import (
    Complaint,
    DepartmentSection,
    Finding,
    Point,
    QuestionReport,
    ReportSettings,
    Summary,
)
from pipeline.report.stats import Measure, holm, normal_p, share, wilson_p
from pipeline.report.texts import OPEN_STATUS

SUMMARY_POINTS = 3


@dataclass(frozen=True)
class _Test:
    p: float
    bad: bool               # the effect is in the direction that needs action
    subject: str            # key of the finding it belongs to
    reason: str


@dataclass(frozen=True)
class _Subject:
    kind: str
    label: str
    n: int
    measure: Measure
    form: str = ""
    question: str = ""
    row: str = ""
    department: str = ""


def _row_threshold(scale: tuple[int, int], s: ReportSettings) -> float:
    """The mean threshold is given on a 1-5 scale; other scales get the same relative position."""
    lo, hi = scale
    return lo + (s.mean_below - 1) / 4 * (hi - lo)


def _fall(m: Measure, what: str, unit: str) -> str:
    return (f"{what} spadł{'a' if what == 'średnia' else ''} z {W.previous(m)} do {W.value(m)} "
            f"(zmiana {W.signed(m.change or 0.0, W.DIGITS[m.kind])} {unit}; 95 %: "
            f"{W.span(m.change_interval, W.DIGITS[m.kind], signs=True)})").replace("  ", " ")


def _row_tests(questions: Sequence[QuestionReport], est: PeriodEstimates, s: ReportSettings,
               subjects: dict[str, _Subject]) -> list[_Test]:
    tests = []
    for q in questions:
        if q.grid is None or q.grid.scale is None:
            continue
        top = "–".join(str(v) for v in (q.grid.top_values[0], q.grid.top_values[-1])) if len(q.grid.top_values) > 1 \
            else str(q.grid.top_values[0])
        for row in q.grid.rows:
            mean, top2 = row.mean, row.top2
            if mean.value is None:
                continue
            key = f"row:{q.form}/{q.id}/{row.id}"
            number = f"{q.number}. " if q.number else ""
            subjects[key] = _Subject("row", f"{number}{q.text} — {row.label}", row.n, mean, q.form, q.id, row.id)
            thr = _row_threshold(q.grid.scale, s)
            e = est.row((q.form, q.id, row.id))
            tests.append(_Test(normal_p(mean.value - thr, e.se), mean.value < thr, key,
                               f"średnia {W.with_interval(mean)} poniżej progu {W.num(thr, 2)}"))
            if top2.value is not None and top2.count is not None:
                tests.append(_Test(wilson_p(top2.count, top2.n, s.top2_below_pct / 100), top2.value < s.top2_below_pct,
                                   key, f"oceny {top}: {W.with_interval(top2)} poniżej progu {W.pct(s.top2_below_pct, 0)}"))
            if mean.change_p_value is not None:
                tests.append(_Test(mean.change_p_value, (mean.change or 0) < 0, key, _fall(mean, "średnia", "")))
            if top2.change_p_value is not None:
                tests.append(_Test(top2.change_p_value, (top2.change or 0) < 0, key, _fall(top2, f"udział ocen {top}", "pp")))
    return tests


def _department_tests(departments: DepartmentSection, subjects: dict[str, _Subject]) -> list[_Test]:
    tests = []
    for d in departments.rows:
        if d.index.value is None:
            continue
        key = f"department:{d.id}"
        subjects[key] = _Subject("department", d.label, d.n, d.index, department=d.id)
        r = d.vs_rest
        if r.p_value is not None and r.value is not None:
            tests.append(_Test(r.p_value, r.value < 0, key,
                               f"indeks {W.with_interval(d.index)} niższy niż w pozostałej części urzędu o "
                               f"{W.num(-r.value)} pkt (95 %: {W.span(r.interval, 1, signs=True)})"))
        if d.index.change_p_value is not None:
            tests.append(_Test(d.index.change_p_value, (d.index.change or 0) < 0, key, _fall(d.index, "indeks", "pkt")))
    return tests


def findings(index: Measure, questions: Sequence[QuestionReport], departments: DepartmentSection,
             est: PeriodEstimates, complaint_findings: Sequence[Finding], s: ReportSettings) -> tuple[tuple[Finding, ...], int]:
    """(findings in the order index, departments, rows, complaints; the number of tests judged together)."""
    subjects: dict[str, _Subject] = {}
    tests: list[_Test] = []
    if index.change_p_value is not None:
        subjects["index"] = _Subject("index", "Indeks satysfakcji", index.n, index)
        tests.append(_Test(index.change_p_value, (index.change or 0) < 0, "index", _fall(index, "indeks", "pkt")))
    tests += _department_tests(departments, subjects)
    tests += _row_tests(questions, est, s, subjects)
    passed = holm([t.p for t in tests], s.family_alpha)
    reasons: dict[str, list[str]] = {}
    for t, ok in zip(tests, passed, strict=True):
        if ok and t.bad:
            reasons.setdefault(t.subject, []).append(t.reason)
    out = [Finding(sub.kind, sub.label, sub.n, sub.measure, tuple(reasons[key]), sub.form, sub.question, sub.row,
                   sub.department) for key, sub in subjects.items() if key in reasons]
    return (*out, *complaint_findings), len(tests)


def complaint_findings(complaints: Sequence[Complaint], by_department: Mapping[str, tuple[int, int, tuple[int, int] | None]],
                       labels: Mapping[str, str], s: ReportSettings) -> tuple[Finding, ...]:
    """One finding per department with complaints: (complainants k of n respondents, previous (k, n)) -> the share
    with its Wilson interval and change; the reason says how many are still to be handled."""
    out = []
    for d, (k, n, prev) in by_department.items():
        if not k:
            continue
        label = labels.get(d, d)
        m = share(k, n, prev, s.min_n, s.warn_n)
        open_ = sum(1 for c in complaints if c.department == label and c.status == OPEN_STATUS)
        rate = f"; {W.pct(m.value)}, 95 %: {W.span(m.interval)} %" if m.value is not None and m.interval else ""
        why = f"{count(k, SKARGA)}: {k} z {count(n, ANKIETA)}{rate}; do rozpatrzenia: {open_}"
        out.append(Finding("complaints", label, n, m, (why,), department=d))
    return tuple(out)


def summary(index: Measure, questions: Sequence[QuestionReport], found: Sequence[Finding],
            complaints: Sequence[Complaint]) -> Summary:
    points = []
    for q in questions:
        if q.grid is None or q.grid.scale is None:
            continue
        lo, hi = q.grid.scale
        for row in q.grid.rows:
            if row.mean.value is not None:
                number = f"{q.number}. " if q.number else ""
                points.append(Point(q.form, q.id, row.id, f"{number}{row.label}", 100 * (row.mean.value - lo) / (hi - lo),
                                    row.mean))
    ranked = sorted(points, key=lambda p: (-p.scaled, p.label))
    k = min(SUMMARY_POINTS, len(ranked) // 2) if len(ranked) < 2 * SUMMARY_POINTS else SUMMARY_POINTS
    strongest = tuple(ranked[:k])
    weakest = tuple(reversed(ranked[len(ranked) - k:])) if k else ()
    verdict = ""
    if index.change is not None:
        verdict = {1: "poprawa", -1: "pogorszenie"}.get(index.direction, "bez istotnej zmiany")
    return Summary(verdict, strongest, weakest, tuple(f for f in found if f.kind == "department"),
                   sum(1 for f in found if f.kind in ("row", "index")), len(complaints),
                   sum(1 for c in complaints if c.status == OPEN_STATUS))

