"""The mean-type figures of one period and their bootstrap standard errors: the satisfaction index, the mean of
every rated grid row, and per department its index, its share of top ratings and its index against the rest of
the office.

All of them come from one resampling of the period's respondents (`stats.bootstrap_ratios`), so a department and
the rest of the office are compared within the same resamples. Records are ordered by sheet id first: the same
sheets give the same replicates, whatever order the database returned them in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.records.layout import FormLayout, Question
from pipeline.report.model import ResponseRecord
from pipeline.report.periods import Period
from pipeline.report.stats import Estimate, bootstrap_ratios, replicate_se

RowKey = tuple[str, str, str]           # (form, question, row)
NO_DATA = Estimate(None, 0.0, 0)


@dataclass(frozen=True)
class Scale:
    """A scored grid: its lowest and highest score and the values counted as "top box"."""

    low: int
    high: int
    top: tuple[int, ...]


def scale_of(q: Question) -> Scale | None:
    """The scale of a grid with at least two distinct scores (top box: the two highest, one on scales under 4)."""
    values = sorted({int(c.value) for c in q.columns if c.value is not None})
    if q.kind != "grid" or len(values) < 2:
        return None
    return Scale(values[0], values[-1], tuple(values[-2:]) if len(values) >= 4 else tuple(values[-1:]))


def scored_grids(layouts: Mapping[str, FormLayout]) -> dict[str, dict[str, Scale]]:
    """form -> question id -> scale, for every scored grid (the terms of the satisfaction index)."""
    out: dict[str, dict[str, Scale]] = {}
    for form, lay in layouts.items():
        for q in lay.questions:
            s = scale_of(q)
            if s is not None:
                out.setdefault(form, {})[q.id] = s
    return out


def ratings(r: ResponseRecord, grids: Mapping[str, Mapping[str, Scale]]) -> list[tuple[str, str, int, Scale]]:
    """(question, row, score, scale) of every scored answer of a sheet ("nie dotyczy", invalid: left out)."""
    out = []
    for qid, scale in grids.get(r.form, {}).items():
        g = r.answers.get(qid)
        if isinstance(g, Mapping):
            out += [(qid, row, v, scale) for row, v in g.items() if isinstance(v, int) and not isinstance(v, bool)]
    return out


@dataclass(frozen=True)
class PeriodEstimates:
    index: Estimate
    rows: Mapping[RowKey, Estimate]
    departments: Mapping[str, Estimate]             # department (group) id -> its index
    department_top: Mapping[str, Estimate]          # -> share (%) of top-box ratings among its ratings
    vs_rest: Mapping[str, Estimate]                 # -> its index minus the rest of the office's (value, SE)

    def row(self, key: RowKey) -> Estimate:
        return self.rows.get(key, NO_DATA)


def estimate(records: Sequence[ResponseRecord], grids: Mapping[str, Mapping[str, Scale]],
             department_of: Callable[[ResponseRecord], str | None], period: Period, resamples: int,
             seed: int) -> PeriodEstimates:
    recs = sorted(records, key=lambda r: r.sheet_id)
    n = len(recs)
    idx_num, idx_den, top_num = np.zeros(n), np.zeros(n), np.zeros(n)
    row_values: dict[RowKey, np.ndarray] = {}
    for i, r in enumerate(recs):
        for qid, row, v, sc in ratings(r, grids):
            idx_num[i] += 100.0 * (v - sc.low) / (sc.high - sc.low)
            idx_den[i] += 1
            top_num[i] += v in sc.top
            key = (r.form, qid, row)
            if key not in row_values:
                row_values[key] = np.full(n, np.nan)
            row_values[key][i] = v
    depts = np.array([department_of(r) or "" for r in recs], dtype=object)
    dept_ids = sorted({d for d in depts if d})

    names: list[tuple[str, object]] = [("index", None)]
    num, den = [idx_num], [idx_den]
    for key, col in row_values.items():
        rated = ~np.isnan(col)
        names.append(("row", key))
        num.append(np.where(rated, col, 0.0))
        den.append(rated.astype(np.float64))
    for d in dept_ids:
        mine = (depts == d).astype(np.float64)
        names += [("dept", d), ("rest", d), ("top", d)]
        num += [idx_num * mine, idx_num * (1 - mine), top_num * mine]
        den += [idx_den * mine, idx_den * (1 - mine), idx_den * mine]
    numm, denm = np.column_stack(num), np.column_stack(den)
    totals_num, totals_den = numm.sum(axis=0), denm.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = totals_num / totals_den
    reps = bootstrap_ratios(numm, denm, resamples, (seed, period.date_from.toordinal(), period.date_to.toordinal()))
    counts = (denm > 0).sum(axis=0)

    def est(k: int, scale: float = 1.0) -> Estimate:
        v = values[k]
        return Estimate(None if np.isnan(v) else float(v) * scale, replicate_se(reps[:, k]) * scale, int(counts[k]))

    pos = {name: k for k, name in enumerate(names)}
    rows = {key: est(pos[("row", key)]) for key in row_values}
    departments, department_top, vs_rest = {}, {}, {}
    for d in dept_ids:
        k, rest, top = pos[("dept", d)], pos[("rest", d)], pos[("top", d)]
        departments[d] = est(k)
        department_top[d] = est(top, 100.0)
        diff = values[k] - values[rest]
        vs_rest[d] = Estimate(None if np.isnan(diff) else float(diff), replicate_se(reps[:, k] - reps[:, rest]),
                              int(counts[k]))
    return PeriodEstimates(est(0), rows, departments, department_top, vs_rest)
