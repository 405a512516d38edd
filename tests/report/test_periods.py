"""Report periods: calendar periods named in words, compared with the previous period of the same kind."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.base.errors import InvalidInput
from pipeline.report import periods
from pipeline.runs import reporting


def test_each_kind_is_compared_with_the_previous_one_of_its_kind() -> None:
    h2 = periods.half_year("2026H2")
    assert (h2.date_from, h2.date_to, h2.label) == (date(2026, 7, 1), date(2026, 12, 31), "II półrocze 2026")
    h1 = periods.previous(h2)            # not "184 days back" (29.12.2025 – 30.06.2026)
    assert (h1.date_from, h1.date_to, h1.label) == (date(2026, 1, 1), date(2026, 6, 30), "I półrocze 2026")
    assert periods.previous(h1).label == "II półrocze 2025"
    assert periods.previous(periods.parse_period("2026")).label == "rok 2025"
    q1 = periods.previous(periods.parse_period("2026Q2"))
    assert (q1.date_from, q1.date_to, q1.label) == (date(2026, 1, 1), date(2026, 3, 31), "I kwartał 2026")
    assert periods.previous(q1).label == "IV kwartał 2025"
    feb = periods.previous(periods.parse_period("2026-03"))      # the whole calendar month, not 31 days back
    assert (feb.date_from, feb.date_to, feb.label) == (date(2026, 2, 1), date(2026, 2, 28), "luty 2026")
    assert periods.previous(periods.parse_period("2026-01")).label == "grudzień 2025"
    nov = periods.parse_period("2026-11")
    assert periods.previous(nov).days == 31 and periods.previous(nov).label == "październik 2026"


def test_dates_that_are_a_calendar_period_become_it_and_others_go_back_by_their_length() -> None:
    assert periods.of_dates(date(2026, 7, 1), date(2026, 12, 31)).label == "II półrocze 2026"
    assert periods.of_dates(date(2026, 10, 1), date(2026, 12, 31)).label == "IV kwartał 2026"
    odd = periods.of_dates(date(2026, 7, 10), date(2026, 7, 19))
    assert odd.label == "" and odd.name == "10.07.2026 – 19.07.2026"
    assert (periods.previous(odd).date_from, periods.previous(odd).date_to) == (date(2026, 6, 30), date(2026, 7, 9))
    assert [p.spec for p in periods.trend_periods(periods.half_year("2026H2"), 6)] == [
        "2024H1", "2024H2", "2025H1", "2025H2", "2026H1", "2026H2"]
    for bad in ("2026H3", "2026Q5", "2026-13", "26", "2026-07-02..2026-07-01"):
        with pytest.raises(ValueError):
            periods.parse_period(bad)


def test_command_line_periods_and_comparison() -> None:
    assert reporting.period_of(None, None, "2026H2").label == "II półrocze 2026"
    assert reporting.period_of(None, None, year="2026").label == "rok 2026"
    assert reporting.period_of(None, None, quarter="2026q3").label == "III kwartał 2026"
    assert reporting.period_of(None, None, month="2026-11").label == "listopad 2026"
    assert reporting.period_of(date(2026, 1, 1), date(2026, 6, 30)).label == "I półrocze 2026"
    with pytest.raises(InvalidInput, match="--quarter"):
        reporting.period_of(None, None, quarter="2026")
    with pytest.raises(InvalidInput, match="jeden okres"):
        reporting.period_of(None, None, "2026H2", year="2026")
    h2 = periods.half_year("2026H2")
    assert reporting.comparison_of(h2, None) == periods.half_year("2026H1")
    assert reporting.comparison_of(h2, "2025H2") == periods.half_year("2025H2")
    assert reporting.comparison_of(h2, "brak") is None
    with pytest.raises(InvalidInput, match="nakłada się"):
        reporting.comparison_of(h2, "2026")
    assert reporting.comparison_choice(h2, "year") == periods.half_year("2025H2")
    assert reporting.comparison_choice(periods.parse_period("2026-11"), "year").label == "listopad 2025"
