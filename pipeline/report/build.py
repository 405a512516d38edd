"""The "Protokół z badania zadowolenia Klienta" as data: pure functions over frozen dataclasses.

The report stage: input is the `PeriodData` of the report's period, of the period it is compared with and of the
earlier periods of the trend (per-sheet `ResponseRecord`s: answers as `answers.derive_answers` gives them,
confirmed texts only), the form layouts of the versions involved and the office; output is a frozen `Report` that
the PDF / XLSX / CSV / JSON writers only format. Nothing here reads the database or the clock (the run layer,
`runs.reporting`, passes both in).

Order of the work: layouts merged per form → departments (with small-group protection) → the bootstrap estimates of
every period (`measures`) → questions, profile, index, departments (every figure a `stats.Measure`) → complaints and
open answers (`texts`) → findings and the summary (`judge`) → the trend (`trend`) → the annexed questionnaire.

Several versions of a form are combined by stable ids: a question, option, grid row or column is the same thing in
every version that uses its id; labels come from the newest version. Categories of different questions are never
put in one table: the respondent profile merges forms only where they share the question's id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from pipeline.records.answers import INVALID
from pipeline.records.layout import Block, Column, FormLayout, Option, Question, Row
from pipeline.records.office import Office
from pipeline.report import judge, texts
from pipeline.report import trend as trends
from pipeline.report.departments import DepartmentMap, department_map, protect, section
from pipeline.report.measures import PeriodEstimates, Scale, estimate, ratings, scale_of, scored_grids
from pipeline.report.model import (
    ActionsState,
    AnnexForm,
    AnnexQuestion,
    CategoryRow,
    Cell,
    ChoiceStats,
    CodebookEntry,
    FormInfo,
    GridStats,
    Method,
    PeriodData,
    QuestionReport,
    Report,
    ReportSettings,
    ResponseRecord,
    RowStats,
)
from pipeline.report.stats import Measure, mean_measure, share

CHANNEL_LABELS = {"paper": "papier (skan)", "paper-manual": "papier (wprowadzone ręcznie)", "online": "online"}
ROLE_LABELS = {"gender": "Płeć", "age": "Wiek", "frequency": "Częstotliwość załatwiania spraw w urzędzie"}
MERGED_ID = "#pozostale"
MERGED_LABEL = "pozostałe łącznie"
INDEX_FORMULA = (
    "Indeks satysfakcji (0–100) = średnia arytmetyczna wszystkich ocen punktowanych ze wszystkich tabel ocen "
    "i wszystkich ankiet okresu, po przeliczeniu każdej oceny na skalę 0–100: (ocena − najniższa wartość skali) / "
    "(najwyższa wartość skali − najniższa wartość skali) × 100. W skali 1–5: 1 → 0, 2 → 25, 3 → 50, 4 → 75, "
    "5 → 100. Odpowiedzi nieoceniane („nie wiem”, „nie dotyczy”, „nie mam zdania”), odpowiedzi nieważne i brak "
    "odpowiedzi są pomijane; każda ocena waży tyle samo."
)


def _union(old: Sequence[Any], new: Sequence[Any]) -> tuple[Any, ...]:
    """Items of `new` (newest labels, newest order) then those only `old` has."""
    ids = {x.id for x in new}
    return (*new, *(x for x in old if x.id not in ids))


def merge_layouts(layouts: Sequence[FormLayout]) -> FormLayout:
    """One layout standing for several versions of a form (oldest first): questions, options, rows and
    columns united by id, wording of the newest version."""
    merged = layouts[-1]
    for older in reversed(layouts[:-1]):
        newer_ids = {q.id for q in merged.questions}
        items = []
        for it in merged.items:
            if isinstance(it, Question) and it.id in {q.id for q in older.questions}:
                o = older.question(it.id)
                opts: tuple[Option, ...] = _union(o.options, it.options)
                rows: tuple[Row, ...] = _union(o.rows, it.rows)
                cols: tuple[Column, ...] = _union(o.columns, it.columns)
                it = replace(it, options=opts, rows=rows, columns=cols)
            items.append(it)
        items += [q for q in older.questions if q.id not in newer_ids]
        merged = replace(merged, items=tuple(items))
    return merged


# --- choice questions --------------------------------------------------------------------------------------------

def _choice_counts(q: Question, records: Iterable[ResponseRecord]) -> tuple[Counter[str], int, int, int]:
    """(counts per option id, base n, invalid, no answer) for a single or multi question."""
    counts: Counter[str] = Counter()
    n = invalid = none = 0
    for r in records:
        a = r.answers.get(q.id)
        if a == INVALID:
            invalid += 1
        elif not a:
            none += 1
        else:
            n += 1
            counts.update(a if isinstance(a, list) else [str(a)])
    return counts, n, invalid, none


def choice_stats(title: str, options: Sequence[tuple[str, str]], multi: bool, counts: Counter[str], n: int,
                 invalid: int, no_answer: int, prev: tuple[Counter[str], int] | None, protected: bool,
                 s: ReportSettings, prev_ids: set[str] | None = None) -> ChoiceStats:
    """Count, % (Wilson interval) and change (Newcombe interval) per option (ids unknown to the layout are listed
    under their id), small groups merged if protected. `prev_ids`: options the previous period could have chosen."""
    labels = dict(options)
    order = [i for i, _ in options] + sorted(k for k in counts if k not in labels)
    pairs = [(i, counts.get(i, 0)) for i in order]
    merged: set[str] = set()
    suppressed = False
    if protected:
        merged, suppressed = protect(pairs, s.min_cell)
    pc, pn = prev if prev is not None else (Counter(), 0)

    def previous(ids: Sequence[str]) -> tuple[int, int] | None:
        if prev is None or pn == 0 or (prev_ids is not None and not set(ids) <= prev_ids):
            return None
        k = sum(pc.get(i, 0) for i in ids)
        if protected and (pn < s.min_cell or 0 < k < s.min_cell):
            return None                 # the previous period's small groups are protected too
        return (k, pn)

    def cell(cid: str, label: str, k: int, ids: Sequence[str], merged_labels: tuple[str, ...] = ()) -> Cell:
        return Cell(cid, label, share(k, n, previous(ids), s.min_n, s.warn_n), merged_labels)

    cells = [cell(i, labels.get(i, i), k, [i]) for i, k in pairs if i not in merged]
    if merged and not suppressed:
        ids = [i for i in order if i in merged]
        cells.append(cell(MERGED_ID, MERGED_LABEL, sum(counts[i] for i in ids), ids, tuple(labels.get(i, i) for i in ids)))
    return ChoiceStats(title, multi, n, () if suppressed else tuple(cells), invalid, no_answer, protected, suppressed,
                       pn if prev is not None else None)


# --- grids ---------------------------------------------------------------------------------------------------------

def _row_answers(q: Question, row: str, records: Iterable[ResponseRecord]) -> tuple[list[int], Counter[str], int]:
    """(scored values, count per non-scored column id, invalid) of one grid row."""
    scored: list[int] = []
    other: Counter[str] = Counter()
    invalid = 0
    for r in records:
        g = r.answers.get(q.id)
        if not isinstance(g, Mapping):
            if g == INVALID:
                invalid += 1
            continue
        v = g.get(row)
        if v is None:
            continue
        if v == INVALID:
            invalid += 1
        elif isinstance(v, int) and not isinstance(v, bool):
            scored.append(v)
        else:
            other[str(v)] += 1
    return scored, other, invalid


def _categories(q: Question, records: Sequence[ResponseRecord], prev: Sequence[ResponseRecord] | None,
                s: ReportSettings) -> tuple[CategoryRow, ...]:
    """A grid without scores: every row is a single choice among the columns, with % and change."""
    options = [(c.id, c.label) for c in q.columns]
    out = []
    for row in q.rows:
        _, counts, invalid = _row_answers(q, row.id, records)
        n = sum(counts.values())
        before = None
        if prev is not None:
            _, pcounts, _ = _row_answers(q, row.id, prev)
            before = (pcounts, sum(pcounts.values()))
        choice = choice_stats(row.label, options, False, counts, n, invalid, len(records) - n - invalid, before, False, s)
        out.append(CategoryRow(row.id, row.label, choice))
    return tuple(out)


def grid_stats(form: str, q: Question, records: Sequence[ResponseRecord], prev: Sequence[ResponseRecord] | None,
               cur: PeriodEstimates, before: PeriodEstimates | None, s: ReportSettings) -> GridStats:
    scale = scale_of(q)
    if scale is None:
        return GridStats(q.columns, (), None, categories=_categories(q, records, prev, s))
    by_value = {int(c.value): c.id for c in q.columns if c.value is not None}
    rows = []
    for row in q.rows:
        scored, other, invalid = _row_answers(q, row.id, records)
        counts = Counter(by_value.get(v, str(v)) for v in scored) + other
        key = (form, q.id, row.id)
        mean = mean_measure("mean", cur.row(key), before.row(key) if before else None, s.min_n, s.warn_n,
                            (scale.low, scale.high))
        previous_top = None
        if prev is not None:
            ps, _, _ = _row_answers(q, row.id, prev)
            previous_top = (sum(v in scale.top for v in ps), len(ps))
        top2 = share(sum(v in scale.top for v in scored), len(scored), previous_top, s.min_n, s.warn_n)
        rows.append(RowStats(row.id, row.label, len(scored), mean, top2, tuple((c.id, counts.get(c.id, 0)) for c in q.columns),
                             sum(other.values()), invalid))
    return GridStats(q.columns, scale.top, (scale.low, scale.high), rows=tuple(rows))


def satisfaction_index(layouts: Mapping[str, FormLayout], records: Iterable[ResponseRecord]) -> tuple[float | None, int]:
    """INDEX_FORMULA, without its interval: (index 0-100 or None, number of scored answers)."""
    grids = scored_grids(layouts)
    vals = [100.0 * (v - sc.low) / (sc.high - sc.low) for r in records for _, _, v, sc in ratings(r, grids)]
    return (sum(vals) / len(vals) if vals else None), len(vals)


# --- sections --------------------------------------------------------------------------------------------------------

def _questions(forms: Sequence[str], merged: Mapping[str, FormLayout], cur: Sequence[ResponseRecord],
               prev: Sequence[ResponseRecord] | None, est: PeriodEstimates, before: PeriodEstimates | None,
               s: ReportSettings) -> tuple[list[QuestionReport], int]:
    out: list[QuestionReport] = []
    invalid = 0
    for f in forms:
        rs = [r for r in cur if r.form == f]
        ps = [r for r in prev if r.form == f] if prev is not None else []
        if not rs:
            continue
        roles = {qid: role for role, qid in s.profile_questions.get(f, {}).items()}
        for q in merged[f].questions:
            role = "department" if q.source == "departments" else roles.get(q.id, "")
            qr = QuestionReport(f, q.id, q.number, q.text, q.kind, role)
            if q.kind in ("single", "multi"):
                counts, n, inv, none = _choice_counts(q, rs)
                pcounts, pn, _, _ = _choice_counts(q, ps)
                invalid += inv
                qr = replace(qr, choice=choice_stats(q.text, [(o.id, o.label) for o in q.options], q.kind == "multi", counts,
                                                     n, inv, none, (pcounts, pn) if ps else None, bool(role), s))
            elif q.kind == "grid":
                grid = grid_stats(f, q, rs, ps if ps else None, est, before if ps else None, s)
                invalid += sum(r.invalid for r in grid.rows) + sum(c.choice.invalid for c in grid.categories)
                qr = replace(qr, grid=grid)
            out.append(qr)
    return out, invalid


def _profile(forms: Sequence[str], merged: Mapping[str, FormLayout], cur: Sequence[ResponseRecord],
             prev: Sequence[ResponseRecord], s: ReportSettings) -> list[QuestionReport]:
    """Gender, age, frequency: one table per question id (forms merged only where they share the id)."""
    out = []
    titles = {f: merged[f].title for f in forms}
    for role, title in ROLE_LABELS.items():
        by_qid: dict[str, list[str]] = {}
        for f in forms:
            qid = s.profile_questions.get(f, {}).get(role)
            if qid and qid in {q.id for q in merged[f].questions} and any(r.form == f for r in cur):
                by_qid.setdefault(qid, []).append(f)
        for qid, fs in by_qid.items():
            counts, pcounts = Counter[str](), Counter[str]()
            n = pn = inv = none = 0
            options: dict[str, str] = {}
            prev_ids: set[str] = set()
            for f in fs:
                q = merged[f].question(qid)
                options.update({o.id: o.label for o in q.options if o.id not in options})
                if any(r.form == f for r in prev):
                    prev_ids |= {o.id for o in q.options}
                c, k, i, z = _choice_counts(q, [r for r in cur if r.form == f])
                counts, n, inv, none = counts + c, n + k, inv + i, none + z
                pc, pk, _, _ = _choice_counts(q, [r for r in prev if r.form == f])
                pcounts, pn = pcounts + pc, pn + pk
            name = title if len(by_qid) == 1 else f"{title} — {', '.join(titles[f] for f in fs)}"
            stats = choice_stats(name, list(options.items()), False, counts, n, inv, none, (pcounts, pn) if prev else None,
                                 True, s, prev_ids)
            out.append(QuestionReport(fs[0] if len(fs) == 1 else "", role, None, name, "single", role, choice=stats))
    return out


def annex(layout: FormLayout, version: int) -> AnnexForm:
    """The questionnaire as printed: headings, instructions, questions with their answers, no internal ids."""
    items: list[AnnexQuestion | str] = []
    for it in layout.items:
        if isinstance(it, Block):
            items.append(it.text)
            continue
        opts = tuple(o.label + (" …………" if o.other is not None else "") for o in it.options)
        items.append(AnnexQuestion(it.number, it.kind, it.text, it.hint, opts, tuple(r.label for r in it.rows),
                                   tuple(c.label for c in it.columns), it.comment.label if it.comment else "", it.lines))
    return AnnexForm(layout.form, version, layout.title, layout.code, layout.instructions, tuple(items), layout.closing)


def codebook(form: str, layout: FormLayout) -> tuple[CodebookEntry, ...]:
    """The raw-responses columns of a form, headed by the questions' wording, with the labels of answer ids."""
    out = []
    for q in layout.questions:
        title = f"{q.number}. {q.text}" if q.number else q.text
        if q.kind == "grid":
            values = tuple((c.id, c.label) for c in q.columns if not c.scored)
            out += [CodebookEntry(form, f"{q.id}.{r.id}", f"{title} — {r.label}", values) for r in q.rows]
        elif q.kind in ("single", "multi"):
            out.append(CodebookEntry(form, q.id, title, tuple((o.id, o.label) for o in q.options)))
        for spec in q.text_specs():
            label = "tekst" if q.kind == "text" else (spec.label or "tekst")
            out.append(CodebookEntry(form, q.area_id(spec), f"{title} — {label}" if q.kind != "text" else title))
    return tuple(out)


def _complainers(records: Sequence[ResponseRecord], dmap: DepartmentMap) -> dict[str, tuple[int, int]]:
    """department id ("" without one) -> (respondents with a complaint, respondents)."""
    k: Counter[str] = Counter()
    n: Counter[str] = Counter()
    for r in records:
        d = dmap.of(r) or ""
        n[d] += 1
        k[d] += any(r.texts.get(a, "").strip() for a in r.complaints)
    return {d: (k[d], n[d]) for d in n}


def build_report(current: PeriodData, comparison: PeriodData | None, layouts: Mapping[tuple[str, int], FormLayout],
                 office: Office, *, trend: Sequence[PeriodData] = (), generated_at: str, generated_by: str,
                 settings: ReportSettings | None = None, complaint_status: Mapping[tuple[str, str], str] | None = None,
                 actions: ActionsState | None = None) -> Report:
    """The whole report. `current`: every non-duplicate sheet received in the period (those still in review are
    only counted); `comparison`: the same for the period it is compared with (None: no comparison); `trend`: the
    earlier comparable periods, oldest first; `layouts`: every (form, version) any of them uses;
    `complaint_status`: (sheet, text area) -> handling status of a complaint."""
    s = settings or ReportSettings()
    all_cur = list(current.records)
    cur = [r for r in all_cur if r.status != "review"]
    prev = [r for r in comparison.records if r.status != "review"] if comparison else []
    forms = sorted({r.form for r in all_cur} | {r.form for r in prev})
    merged = {f: merge_layouts([layouts[k] for k in sorted(layouts) if k[0] == f]) for f in sorted({k[0] for k in layouts})}
    grids: dict[str, dict[str, Scale]] = scored_grids(merged)
    dmap = department_map(office, merged, cur, s.min_cell)
    est = estimate(cur, grids, dmap.of, current.period, s.resamples, s.seed)
    before = estimate(prev, grids, dmap.of, comparison.period, s.resamples, s.seed) if comparison else None

    questions, invalid = _questions(forms, merged, cur, prev if comparison else None, est, before, s)
    profile = _profile(forms, merged, cur, prev, s)
    index: Measure = mean_measure("index", est.index, before.index if before else None, s.min_n, s.warn_n, (0, 100))
    complaints = texts.complaints(merged, cur, dmap.of, dmap.labels, complaint_status or {})
    complainers, prev_complainers = _complainers(cur, dmap), _complainers(prev, dmap)
    departments = section(dmap, cur, est, before, {d: k for d, (k, _) in complainers.items()}, s)
    labels = {**dmap.labels, "": texts.NO_DEPARTMENT}
    by_dept = {d: (k, n, prev_complainers.get(d) if comparison else None) for d, (k, n) in complainers.items()}
    found, tests = judge.findings(index, questions, departments, est,
                                  judge.complaint_findings(complaints, by_dept, labels, s), s)

    paper = Counter(r.batch or "(bez oznaczenia)" for r in cur if r.channel == "paper")
    channels = Counter(r.channel for r in cur)
    order = [c for c in CHANNEL_LABELS if c in channels] + sorted(c for c in channels if c not in CHANNEL_LABELS)
    method = Method(len(cur), tuple((c, CHANNEL_LABELS.get(c, c), channels[c]) for c in order),
                    tuple(sorted(paper.items())), sum(r.status == "review" for r in all_cur), invalid, len(prev))
    versions = Counter((r.form, r.version) for r in cur)
    infos = tuple(FormInfo(f, merged[f].title, tuple((v, n) for (ff, v), n in sorted(versions.items()) if ff == f))
                  for f in forms if any(r.form == f for r in cur))
    notes = []
    if any(q.choice and q.choice.protected and (q.choice.suppressed or any(c.merged for c in q.choice.cells))
           for q in (*profile, *questions)) or departments.merged_count or departments.suppressed:
        notes.append(f"Ochrona małych grup (RODO): w profilu respondentów, w pytaniu o komórkę organizacyjną i w wynikach "
                     f"komórek kategorie wskazane przez mniej niż {s.min_cell} osób połączono w jedną grupę „pozostałe”; "
                     f"gdy i ta grupa była mniejsza, dołączono do niej najmniejszą pozostałą kategorię. Zestawień opartych "
                     f"na mniej niż {s.min_cell} odpowiedziach nie pokazano.")
    known = {current.period: est, **({comparison.period: before} if comparison and before else {})}
    trend_data = trends.build(trend, current, comparison, known, grids, dmap, questions, departments, s)
    return Report(
        office=office.name, office_address=office.address, period=current.period,
        previous=comparison.period if comparison else None, generated_at=generated_at, generated_by=generated_by,
        forms=infos, method=method, summary=judge.summary(index, questions, found, complaints), index=index,
        profile=tuple(profile), questions=tuple(questions), departments=departments, findings=found, tests=tests,
        complaints=complaints, open_answers=texts.open_answers({f: merged[f] for f in forms}, cur, dmap.of, dmap.labels,
                                                               dmap.order),
        trend=trend_data, annex=tuple(annex(layouts[k], k[1]) for k in sorted(versions)), settings=s,
        codebook=tuple(e for f in forms for e in codebook(f, merged[f])), notes=tuple(notes), actions=actions,
    )
