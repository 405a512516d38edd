"""The report's data model: the frozen dataclasses `pipeline.report.build` computes and the writers only format.

Every figure that is compared or judged is a `stats.Measure` (n, value, 95 % interval, previous value, change,
change interval, significant); a contrast that is not a change in time is a `stats.Difference`. The report's
first page (`Summary`) refers to the same measures as the detailed sections, so they cannot disagree.

Extension points: `Report.actions` holds the state of corrective actions once an actions register exists (the
summary prints it when present); `Complaint.status` comes from the caller (`build_report(complaint_status=...)`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline.base import config as C
from pipeline.records.layout import Column, QuestionKind
from pipeline.report.periods import Period
from pipeline.report.stats import Difference, Measure


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
class PeriodData:
    """The sheets received in one period (every non-duplicate one; those still in review are only counted)."""

    period: Period
    records: tuple[ResponseRecord, ...]


@dataclass(frozen=True)
class ReportSettings:
    min_cell: int = C.REPORT_MIN_CELL_COUNT
    min_n: int = C.REPORT_MIN_N_RESPONSES
    warn_n: int = C.REPORT_WARN_N_BELOW_RESPONSES
    mean_below: float = C.REPORT_ACTION_MEAN_BELOW
    top2_below_pct: float = C.REPORT_ACTION_TOP2_BELOW_PCT
    family_alpha: float = C.REPORT_FINDINGS_FAMILY_ALPHA
    resamples: int = C.REPORT_BOOTSTRAP_RESAMPLES
    seed: int = C.REPORT_BOOTSTRAP_SEED
    trend_periods: int = C.REPORT_TREND_PERIODS
    profile_questions: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: C.REPORT_PROFILE_QUESTIONS)


# --- questions -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """One answer category: its share of the question's base (count, %, interval, change). `merged` lists the
    labels a merged group (small-group protection) stands for."""

    id: str
    label: str
    share: Measure
    merged: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return self.share.count or 0


@dataclass(frozen=True)
class ChoiceStats:
    """A single- or multiple-choice question, or one row of a non-scored grid (multiple choice: % of
    respondents, so they may sum to more than 100)."""

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
    """A rated grid row: the mean and the top-2-box share of its scored answers."""

    id: str
    label: str
    n: int                              # scored answers (base of mean and top-2-box)
    mean: Measure
    top2: Measure
    counts: tuple[tuple[str, int], ...]  # per column id, scored and non-scored
    not_scored: int = 0
    invalid: int = 0


@dataclass(frozen=True)
class CategoryRow:
    """A row of a grid without scores ("pozytywnie / negatywnie / nie mam zdania"): shares like a choice question."""

    id: str
    label: str
    choice: ChoiceStats


@dataclass(frozen=True)
class GridStats:
    columns: tuple[Column, ...]
    top_values: tuple[int, ...]         # the scored values counted as "top box" (4 and 5 on a 1-5 scale)
    scale: tuple[int, int] | None       # lowest and highest score; None for a grid without scores
    rows: tuple[RowStats, ...] = ()
    categories: tuple[CategoryRow, ...] = ()


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


# --- open answers and complaints ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TextItem:
    """One distinct text (identical answers merged) and how many respondents wrote it."""

    text: str
    count: int
    complaint: bool = False


@dataclass(frozen=True)
class TextGroup:
    department: str                     # department label ("" when the form does not ask for one)
    items: tuple[TextItem, ...]

    @property
    def total(self) -> int:
        return sum(t.count for t in self.items)


@dataclass(frozen=True)
class OpenAnswers:
    """The transcribed texts of one question (its "inne" fields, comment and text areas), per department."""

    form: str
    question: str
    number: int | None
    title: str
    groups: tuple[TextGroup, ...]

    @property
    def total(self) -> int:
        return sum(g.total for g in self.groups)


@dataclass(frozen=True)
class Complaint:
    text: str
    where: str                          # the question or field the text was written in
    department: str
    received: str                       # YYYY-MM-DD the sheet was received
    status: str                         # handling status (the actions register's, or "do rozpatrzenia")


# --- the office, departments, index ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DepartmentStats:
    id: str
    label: str
    n: int                              # responses naming the department
    index: Measure
    top2: Measure                       # share of top-box ratings among all of its scored ratings
    vs_rest: Difference                 # index minus the index of all other responses of the period
    complaints: int = 0                 # respondents whose text was flagged as a complaint
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
class Finding:
    """Something that needs action: a question row, a department, the index or complaints, with the measure it
    was judged on and the reasons in words (each reason survived the Holm correction, except complaints, which
    always need handling)."""

    kind: str                           # "row" | "department" | "index" | "complaints"
    subject: str
    n: int
    measure: Measure
    reasons: tuple[str, ...]
    form: str = ""
    question: str = ""
    row: str = ""
    department: str = ""


@dataclass(frozen=True)
class Point:
    """A rated row as a strong or weak point of the summary; `scaled` is its mean on 0-100 (comparable across
    scales) and ranks the points."""

    form: str
    question: str
    row: str
    label: str
    scaled: float
    mean: Measure


@dataclass(frozen=True)
class ActionsState:
    """The state of corrective and preventive actions (counts per state, e.g. ("otwarte", 3)), supplied by the
    actions register once it exists; the summary prints it when present."""

    counts: tuple[tuple[str, int], ...]
    note: str = ""


@dataclass(frozen=True)
class Summary:
    """Page 1 for the mayor."""

    verdict: str                        # "poprawa" | "pogorszenie" | "bez istotnej zmiany" | "" (nothing to compare)
    strongest: tuple[Point, ...]
    weakest: tuple[Point, ...]
    attention: tuple[Finding, ...]      # departments that need attention
    other_findings: int                 # findings on question rows and the index
    complaints: int
    complaints_open: int


@dataclass(frozen=True)
class TrendSeries:
    kind: str                           # "index" | "row" | "department"
    key: str                            # "index", "form/question/row" or the department id
    label: str
    values: tuple[Measure, ...]         # one per trend period (no comparison inside; value None when hidden)
    scale: tuple[int, int] = (0, 100)


@dataclass(frozen=True)
class Trend:
    periods: tuple[Period, ...]         # oldest first, ending with the report's period
    series: tuple[TrendSeries, ...]


@dataclass(frozen=True)
class FormInfo:
    form: str
    title: str
    versions: tuple[tuple[int, int], ...]           # (version, sheets in the period)


@dataclass(frozen=True)
class AnnexQuestion:
    number: int | None
    kind: str
    text: str
    hint: str
    options: tuple[str, ...]            # single/multi: answers in printed order ("inne – jakie?" included)
    rows: tuple[str, ...] = ()          # grids
    columns: tuple[str, ...] = ()
    comment: str = ""                   # a comment field's label
    lines: int = 0                      # text questions: lines for handwriting


@dataclass(frozen=True)
class AnnexForm:
    form: str
    version: int
    title: str
    code: str
    instructions: tuple[str, ...]
    items: tuple[AnnexQuestion | str, ...]      # a str is a printed heading
    closing: str = ""


@dataclass(frozen=True)
class CodebookEntry:
    """One column of the raw responses: its answer key ("q8.uprzejmosc", "q7.inne.text"), the heading by the
    question's wording, and the labels of its answer ids."""

    form: str
    key: str
    heading: str
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Report:
    office: str
    office_address: str
    period: Period
    previous: Period | None
    generated_at: str
    generated_by: str                   # the author named on the protocol ("" leaves the line to be filled in)
    forms: tuple[FormInfo, ...]
    method: Method
    summary: Summary
    index: Measure
    profile: tuple[QuestionReport, ...]
    questions: tuple[QuestionReport, ...]
    departments: DepartmentSection
    findings: tuple[Finding, ...]
    tests: int                          # how many comparisons the findings were judged among (Holm's m)
    complaints: tuple[Complaint, ...]
    open_answers: tuple[OpenAnswers, ...]
    trend: Trend
    annex: tuple[AnnexForm, ...]
    settings: ReportSettings
    codebook: tuple[CodebookEntry, ...] = ()
    notes: tuple[str, ...] = ()
    actions: ActionsState | None = None
