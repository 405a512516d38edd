"""Report periods: calendar months, quarters, half-years and years, named in words, and what each is compared with.

A report's period is compared with the previous period of the same kind (II półrocze 2026 with I półrocze 2026,
2026 with 2025, a month with the previous calendar month), not with a span of equal length counted back in days
(which is a different half-year's worth of days and drops a day from a month). A period given by dates that is
exactly a calendar period becomes that period; other date ranges are compared with the equally long range that
ends the day before. The trend goes back up to `count` comparable periods the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

PeriodKind = Literal["year", "half", "quarter", "month", "days"]

MONTHS = ("styczeń", "luty", "marzec", "kwiecień", "maj", "czerwiec", "lipiec", "sierpień", "wrzesień", "październik",
          "listopad", "grudzień")
ROMAN = ("I", "II", "III", "IV")


@dataclass(frozen=True)
class Period:
    date_from: date
    date_to: date
    label: str = ""                 # in words: "II półrocze 2026", "rok 2026", "listopad 2026"
    kind: PeriodKind = "days"
    spec: str = ""                  # "2026H2", "2026", "2026Q3", "2026-11"; "" for a date range

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    @property
    def span(self) -> str:
        return f"{self.date_from:%d.%m.%Y} – {self.date_to:%d.%m.%Y}"

    @property
    def name(self) -> str:
        """The label, or the date span when the period has no name."""
        return self.label or self.span

    def describe(self) -> str:
        return f"{self.label} ({self.span})" if self.label else self.span


def _end_of_month(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def year(y: int) -> Period:
    return Period(date(y, 1, 1), date(y, 12, 31), f"rok {y}", "year", f"{y}")


def half_year_of(y: int, h: int) -> Period:
    if h == 1:
        return Period(date(y, 1, 1), date(y, 6, 30), f"I półrocze {y}", "half", f"{y}H1")
    return Period(date(y, 7, 1), date(y, 12, 31), f"II półrocze {y}", "half", f"{y}H2")


def quarter_of(y: int, q: int) -> Period:
    first = 3 * q - 2
    return Period(date(y, first, 1), _end_of_month(y, first + 2), f"{ROMAN[q - 1]} kwartał {y}", "quarter", f"{y}Q{q}")


def month_of(y: int, m: int) -> Period:
    return Period(date(y, m, 1), _end_of_month(y, m), f"{MONTHS[m - 1]} {y}", "month", f"{y}-{m:02d}")


def half_year(spec: str) -> Period:
    """'2026H2' -> 1 July – 31 December 2026, labelled 'II półrocze 2026'."""
    m = re.fullmatch(r"(\d{4})H([12])", spec.strip().upper())
    if not m:
        raise ValueError(spec)
    return half_year_of(int(m[1]), int(m[2]))


def parse_period(spec: str) -> Period:
    """A period from its short name: '2026' (year), '2026H2' (half), '2026Q3' (quarter), '2026-11' (month), or a
    date range '2026-07-01..2026-09-15'. ValueError when it is none of these."""
    s = spec.strip().upper()
    if m := re.fullmatch(r"(\d{4})", s):
        return year(int(m[1]))
    if re.fullmatch(r"\d{4}H[12]", s):
        return half_year(s)
    if m := re.fullmatch(r"(\d{4})Q([1-4])", s):
        return quarter_of(int(m[1]), int(m[2]))
    if (m := re.fullmatch(r"(\d{4})-(\d{1,2})", s)) and 1 <= int(m[2]) <= 12:
        return month_of(int(m[1]), int(m[2]))
    if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", s):
        start, end = date.fromisoformat(m[1]), date.fromisoformat(m[2])
        if end >= start:
            return of_dates(start, end)
    raise ValueError(spec)


def of_dates(start: date, end: date) -> Period:
    """A date range; a range that is exactly a calendar month, quarter, half-year or year becomes that period."""
    if start.day == 1 and end == _end_of_month(end.year, end.month) and start.year == end.year:
        months = end.month - start.month + 1
        if months == 12:
            return year(start.year)
        if months == 6 and start.month in (1, 7):
            return half_year_of(start.year, 1 if start.month == 1 else 2)
        if months == 3 and start.month in (1, 4, 7, 10):
            return quarter_of(start.year, (start.month + 2) // 3)
        if months == 1:
            return month_of(start.year, start.month)
    return Period(start, end)


def shifted(p: Period, steps: int = -1) -> Period:
    """The comparable period `steps` periods away (-1: the previous one): the same kind of calendar period, or
    for a date range the equally long range right before (after) it."""
    if p.kind == "year":
        return year(p.date_from.year + steps)
    if p.kind in ("half", "quarter", "month"):
        size = {"half": 6, "quarter": 3, "month": 1}[p.kind]
        index = (p.date_from.year * 12 + p.date_from.month - 1) // size + steps
        y, first = divmod(index * size, 12)
        if p.kind == "half":
            return half_year_of(y, first // 6 + 1)
        if p.kind == "quarter":
            return quarter_of(y, first // 3 + 1)
        return month_of(y, first + 1)
    delta = timedelta(days=p.days * steps)
    return Period(p.date_from + delta, p.date_to + delta)


def previous(p: Period) -> Period:
    """The default comparison: the previous period of the same kind."""
    return shifted(p, -1)


def trend_periods(p: Period, count: int) -> tuple[Period, ...]:
    """The last `count` comparable periods ending with `p`, oldest first."""
    return tuple(shifted(p, -k) if k else p for k in range(count - 1, -1, -1))
