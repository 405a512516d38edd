"""The report's data model: the frozen dataclasses `pipeline.report` computes and the writers format, and
the number formatting they share (Polish decimal comma, percentage points).

Part of the report stage; split from `build` to keep modules small.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from pipeline.base import config as C
from pipeline.records.layout import Column, QuestionKind


@dataclass(frozen=True)
class ResponseRecord:
    """One sheet as the report sees it. `texts` are confirmed transcriptions only (area id -> text)."""

    sheet_id: str
    form: str
    version: int
    channel: str                       # paper | paper-manual | online
    batch: str = ""                    # paper batch label
    received: str = ""                 # YYYY-MM-DD
    status: str = "final"              # final | review (review: excluded, only counted)
    answers: Mapping[str, Any] = field(default_factory=dict)
    texts: Mapping[str, str] = field(default_factory=dict)
    complaints: frozenset[str] = frozenset()   # text area ids a reviewer flagged as a complaint


@dataclass(frozen=True)
class Period:
    date_from: date
    date_to: date
    label: str = ""

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def describe(self) -> str:
        span = f"{self.date_from:%d.%m.%Y} – {self.date_to:%d.%m.%Y}"
        return f"{self.label} ({span})" if self.label else span


def previous_period(p: Period) -> Period:
    """The period of equal length (in days) that ends the day before `p` starts."""
    end = p.date_from - timedelta(days=1)
    return Period(end - timedelta(days=p.days - 1), end)


def half_year(spec: str) -> Period:
    """'2026H2' -> 1 July – 31 December 2026, labelled 'II półrocze 2026'."""
    s = spec.strip().upper()
    if len(s) != 6 or not s[:4].isdigit() or s[4] != "H" or s[5] not in "12":
        raise ValueError(spec)
    year = int(s[:4])
    if s[5] == "1":
        return Period(date(year, 1, 1), date(year, 6, 30), f"I półrocze {year}")
    return Period(date(year, 7, 1), date(year, 12, 31), f"II półrocze {year}")


@dataclass(frozen=True)
class ReportSettings:
    min_cell: int = C.REPORT_MIN_CELL_COUNT
    mean_below: float = C.REPORT_ACTION_MEAN_BELOW
    top2_below_pct: float = C.REPORT_ACTION_TOP2_BELOW_PCT
    drop_pp: float = C.REPORT_ACTION_DROP_PP
    action_min_n: int = C.REPORT_ACTION_MIN_N
    profile_questions: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: C.REPORT_PROFILE_QUESTIONS)


# --- the report ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """One answer category. `merged` lists the labels a merged group stands for."""

    id: str
    label: str
    count: int
    pct: float
    prev_pct: float | None = None
    merged: tuple[str, ...] = ()

    @property
    def change_pp(self) -> float | None:
        return None if self.prev_pct is None else self.pct - self.prev_pct


@dataclass(frozen=True)
class ChoiceStats:
    """A single- or multiple-choice question (multiple choice: % of respondents, so they may sum > 100)."""

    title: str
    multi: bool
    n: int                              # respondents with a valid answer: the base of the percentages
    cells: tuple[Cell, ...]
    invalid: int = 0
    no_answer: int = 0
    protected: bool = False             # small-group protection applies to this question
    suppressed: bool = False            # fewer than min_cell answers: nothing but n is shown
    prev_n: int | None = None


@dataclass(frozen=True)
class RowStats:
    id: str
    label: str
    n: int                              # scored answers (base of mean and top-2-box)
    mean: float | None
    top2_pct: float | None
    counts: tuple[tuple[str, int], ...]  # per column id, scored and non-scored
    not_scored: int = 0
    invalid: int = 0
    prev_n: int = 0
    prev_mean: float | None = None
    prev_top2_pct: float | None = None

    @property
    def mean_change(self) -> float | None:
        return None if self.mean is None or self.prev_mean is None else self.mean - self.prev_mean

    @property
    def top2_change_pp(self) -> float | None:
        return None if self.top2_pct is None or self.prev_top2_pct is None else self.top2_pct - self.prev_top2_pct


@dataclass(frozen=True)
class GridStats:
    columns: tuple[Column, ...]
    top_values: tuple[int, ...]         # the scored values counted as "top box" (4 and 5 on a 1-5 scale)
    rows: tuple[RowStats, ...]


@dataclass(frozen=True)
class TextItem:
    form: str
    question: str
    area: str
    label: str
    text: str
    sheet: str
    complaint: bool = False


@dataclass(frozen=True)
class QuestionReport:
    form: str
    id: str
    number: int | None
    text: str
    kind: QuestionKind
    role: str = ""                      # profile role ("gender", ...) or "department"
    choice: ChoiceStats | None = None
    grid: GridStats | None = None
    texts: tuple[TextItem, ...] = ()


@dataclass(frozen=True)
class IndexStats:
    value: float | None
    answers: int
    prev_value: float | None = None
    prev_answers: int = 0

    @property
    def change(self) -> float | None:
        return None if self.value is None or self.prev_value is None else self.value - self.prev_value


@dataclass(frozen=True)
class DepartmentStats:
    id: str
    label: str
    n: int
    index: float | None
    top2_pct: float | None
    prev_index: float | None = None
    merged: tuple[str, ...] = ()


@dataclass(frozen=True)
class DepartmentSection:
    rows: tuple[DepartmentStats, ...]
    no_answer: int = 0
    suppressed: bool = False            # fewer than min_cell responses named a department at all
    merged_count: int = 0               # departments folded into the merged group


@dataclass(frozen=True)
class Method:
    included: int
    by_channel: tuple[tuple[str, str, int], ...]    # (channel, Polish label, sheets)
    by_batch: tuple[tuple[str, int], ...]           # paper batch label -> sheets
    awaiting_review: int
    invalid_answers: int
    previous_included: int = 0


@dataclass(frozen=True)
class ActionItem:
    form: str
    question: str
    row: str
    label: str
    n: int
    mean: float | None
    top2_pct: float | None
    top2_change_pp: float | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class FormInfo:
    form: str
    title: str
    versions: tuple[tuple[int, int], ...]           # (version, sheets in the period)


@dataclass(frozen=True)
class AnnexQuestion:
    number: int | None
    id: str
    kind: str
    text: str
    answers: tuple[str, ...]


@dataclass(frozen=True)
class AnnexForm:
    form: str
    version: int
    title: str
    questions: tuple[AnnexQuestion, ...]


@dataclass(frozen=True)
class Report:
    office: str
    office_address: str
    period: Period
    previous: Period
    generated_at: str
    generated_by: str
    forms: tuple[FormInfo, ...]
    method: Method
    profile: tuple[QuestionReport, ...]
    questions: tuple[QuestionReport, ...]
    index: IndexStats
    departments: DepartmentSection
    actions: tuple[ActionItem, ...]
    complaints: tuple[TextItem, ...]
    annex: tuple[AnnexForm, ...]
    settings: ReportSettings
    notes: tuple[str, ...] = ()


# --- formatting shared by the writers (Polish: decimal comma) ------------------------------------------

def num(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x:.{digits}f}".replace(".", ",").replace("-", "−")


def pct(x: float | None) -> str:
    return "–" if x is None else f"{num(x)} %"


def change(x: float | None, unit: str = "pp", digits: int = 1) -> str:
    """'▲ +5,0 pp', '▼ −2,5 pp', '= 0,0 pp'; '–' without a previous value."""
    if x is None:
        return "–"
    if round(x, digits) == 0:
        return f"= 0{',' + '0' * digits if digits else ''} {unit}".rstrip()
    mark = "▲ +" if x > 0 else "▼ "
    return f"{mark}{num(x, digits)} {unit}".rstrip()


# --- merging versions by stable ids ----------------------------------------------------------------------
