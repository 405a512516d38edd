"""Results per department (komórka organizacyjna): which department a sheet names, small-group protection, and
each department's index, share of top ratings and standing against the rest of the office.

Small-group protection (RODO): departments named by fewer than `min_cell` respondents of the period are merged
into one group "pozostałe komórki łącznie" (and the smallest shown one joins it while the group is still too
small); with fewer than `min_cell` answers in all, no department is shown. The same grouping is used for the
comparison period and the trend, so a group means the same departments in every column.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipeline.records.answers import INVALID
from pipeline.records.layout import FormLayout
from pipeline.records.office import Office
from pipeline.report.measures import NO_DATA, PeriodEstimates
from pipeline.report.model import DepartmentSection, DepartmentStats, ReportSettings, ResponseRecord
from pipeline.report.stats import Difference, difference, mean_measure

MERGED_ID = "#pozostale"
MERGED_DEPARTMENTS_LABEL = "pozostałe komórki łącznie"


def protect(counts: Sequence[tuple[str, int]], min_cell: int) -> tuple[set[str], bool]:
    """Which categories to merge, and whether the whole breakdown must be hidden (total below min_cell).

    Categories with 1..min_cell-1 responses are merged; while the merged group itself is below the threshold
    the smallest remaining non-empty category joins it (a lone hidden cell could be computed from the total).
    Empty categories reveal no one and stay shown."""
    total = sum(n for _, n in counts)
    if total < min_cell:
        return {k for k, n in counts if n > 0}, total > 0
    merged = {k for k, n in counts if 0 < n < min_cell}
    size = sum(n for k, n in counts if k in merged)
    while merged and size < min_cell:
        rest = sorted((n, k) for k, n in counts if k not in merged and n > 0)
        if not rest:
            break
        n, k = rest[0]
        merged.add(k)
        size += n
    return merged, False


@dataclass(frozen=True)
class DepartmentMap:
    """How the period's sheets fall into departments (after small-group protection)."""

    question: Mapping[str, str]                 # form -> id of its department question
    labels: Mapping[str, str]                   # department or group id -> label
    order: tuple[str, ...]                      # ids shown, in the office's order (the merged group last)
    members: Mapping[str, str]                  # department id -> the id it is shown under
    merged: tuple[str, ...]                     # labels of the merged departments
    suppressed: bool
    no_answer: int

    def raw(self, r: ResponseRecord) -> str | None:
        a = r.answers.get(self.question.get(r.form, ""))
        return a if isinstance(a, str) and a and a != INVALID else None

    def of(self, r: ResponseRecord) -> str | None:
        """The department (or merged group) a sheet counts under; None without a valid answer or when hidden."""
        if self.suppressed:
            return None
        d = self.raw(r)
        return None if d is None else self.members.get(d, d)


def department_map(office: Office, layouts: Mapping[str, FormLayout], records: Sequence[ResponseRecord],
                   min_cell: int) -> DepartmentMap:
    dq = {form: q.id for form, lay in layouts.items() for q in lay.questions if q.source == "departments"}
    names = {o.id: o.label for form, lay in layouts.items() for q in lay.questions if q.id == dq.get(form) for o in q.options}
    names.update({d.id: d.name for d in office.departments})
    probe = DepartmentMap(dq, names, (), {}, (), False, 0)
    counts = Counter(d for r in records if (d := probe.raw(r)) is not None)
    no_answer = sum(1 for r in records if r.form in dq and probe.raw(r) is None)
    order = [d for d in names if d in counts] + sorted(d for d in counts if d not in names)
    merged, suppressed = protect([(d, counts[d]) for d in order], min_cell)
    members = {d: (MERGED_ID if d in merged else d) for d in order}
    shown = tuple(d for d in order if d not in merged) + ((MERGED_ID,) if merged and not suppressed else ())
    labels = {**names, MERGED_ID: MERGED_DEPARTMENTS_LABEL}
    return DepartmentMap(dq, labels, () if suppressed else shown, members,
                         tuple(names.get(d, d) for d in order if d in merged), suppressed, no_answer)


def section(dmap: DepartmentMap, records: Sequence[ResponseRecord], cur: PeriodEstimates, prev: PeriodEstimates | None,
            complaints: Mapping[str, int], s: ReportSettings) -> DepartmentSection:
    """Each shown department: n, index (with change), share of top ratings, index against the rest of the office."""
    counts = Counter(dmap.of(r) for r in records)
    rows = []
    for d in dmap.order:
        est = cur.departments.get(d, NO_DATA)
        index = mean_measure("index", est, prev.departments.get(d, NO_DATA) if prev else None, s.min_n, s.warn_n, (0, 100))
        top = mean_measure("share", cur.department_top.get(d, NO_DATA),
                           prev.department_top.get(d, NO_DATA) if prev else None, s.min_n, s.warn_n, (0, 100))
        rest = cur.vs_rest.get(d, NO_DATA)
        vs_rest = (difference(rest.value, rest.se) if index.value is not None
                   else Difference(None, None, False, None, index.method))
        rows.append(DepartmentStats(d, dmap.labels.get(d, d), counts[d], index, top, vs_rest, complaints.get(d, 0),
                                    dmap.merged if d == MERGED_ID else ()))
    return DepartmentSection(tuple(rows), dmap.no_answer, dmap.suppressed, len(dmap.merged))

