"""The trend: the satisfaction index, every rated row and every department over the last comparable periods
(up to `trend_periods`, the report's own included), each value with its n and interval. Periods before the first
one with any response are left out; a value from fewer answers than the minimum is hidden as everywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pipeline.report.departments import DepartmentMap
from pipeline.report.measures import NO_DATA, PeriodEstimates, Scale, estimate
from pipeline.report.model import DepartmentSection, PeriodData, QuestionReport, ReportSettings, Trend, TrendSeries
from pipeline.report.periods import Period, trend_periods
from pipeline.report.stats import Estimate, Measure, MeasureKind, mean_measure


def build(earlier: Sequence[PeriodData], current: PeriodData, comparison: PeriodData | None,
          known: Mapping[Period, PeriodEstimates], grids: Mapping[str, Mapping[str, Scale]], dmap: DepartmentMap,
          questions: Sequence[QuestionReport],
          departments: DepartmentSection, s: ReportSettings) -> Trend:
    candidates = {d.period: d for d in earlier if d.period != current.period}
    if comparison is not None and comparison.period in trend_periods(current.period, s.trend_periods):
        candidates.setdefault(comparison.period, comparison)      # the comparison is one of the trend's periods
    wanted = trend_periods(current.period, s.trend_periods)
    data = [*(candidates[p] for p in wanted if p in candidates), current]
    if any(p not in wanted for p in candidates):                 # periods of another kind: their own order
        data = [*sorted(candidates.values(), key=lambda d: d.period.date_from), current][-s.trend_periods:]
    while len(data) > 1 and not any(r.status != "review" for r in data[0].records):
        data = data[1:]
    ests = []
    for d in data:
        e = known.get(d.period)
        if e is None:
            final = [r for r in d.records if r.status != "review"]
            e = estimate(final, grids, dmap.of, d.period, s.resamples, s.seed)
        ests.append(e)

    def values(kind: MeasureKind, picks: Sequence[Estimate], bounds: tuple[int, int]) -> tuple[Measure, ...]:
        return tuple(mean_measure(kind, e, None, s.min_n, s.warn_n, bounds) for e in picks)

    series = [TrendSeries("index", "index", "Indeks satysfakcji (0–100)", values("index", [e.index for e in ests], (0, 100)))]
    for q in questions:
        if q.grid is None or q.grid.scale is None:
            continue
        number = f"{q.number}. " if q.number else ""
        for row in q.grid.rows:
            key = (q.form, q.id, row.id)
            series.append(TrendSeries("row", "/".join(key), f"{number}{row.label}",
                                      values("mean", [e.row(key) for e in ests], q.grid.scale), q.grid.scale))
    for dep in departments.rows:
        series.append(TrendSeries("department", dep.id, dep.label,
                                  values("index", [e.departments.get(dep.id, NO_DATA) for e in ests], (0, 100))))
    return Trend(tuple(d.period for d in data), tuple(series))
