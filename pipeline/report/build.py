"""Statistics of the "Protokół z badania zadowolenia Klienta": pure functions over frozen dataclasses.

The report stage: input is an iterable of per-sheet `ResponseRecord`s (answers as
`answers.derive_answers` gives them, confirmed texts only), the form layouts of the versions involved and the
office; output is a frozen `Report` that the PDF / XLSX / CSV / JSON writers only format. Nothing here reads
the database or the clock (the run layer, `runs.reporting`, passes both in).

Several versions of a form are combined by stable ids: a question, option, grid row or column is the same
thing in every version that uses its id; labels come from the newest version.

Small-group protection (RODO): in the respondent profile and per department, a category chosen by fewer than
`min_cell` people is merged with the other small ones into one group; if that group is still too small, the
smallest shown category joins it too (else the hidden one could be computed from the total); a whole
breakdown with fewer than `min_cell` responses is not shown at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from pipeline.records.answers import INVALID
from pipeline.records.layout import Column, FormLayout, Option, Question, Row
from pipeline.records.office import Office
from pipeline.report.model import ActionItem as ActionItem
from pipeline.report.model import AnnexForm as AnnexForm
from pipeline.report.model import AnnexQuestion as AnnexQuestion
from pipeline.report.model import Cell as Cell
from pipeline.report.model import ChoiceStats as ChoiceStats
from pipeline.report.model import DepartmentSection as DepartmentSection
from pipeline.report.model import DepartmentStats as DepartmentStats
from pipeline.report.model import FormInfo as FormInfo
from pipeline.report.model import GridStats as GridStats
from pipeline.report.model import IndexStats as IndexStats
from pipeline.report.model import Method as Method
from pipeline.report.model import Period as Period
from pipeline.report.model import QuestionReport as QuestionReport
from pipeline.report.model import Report as Report
from pipeline.report.model import ReportSettings as ReportSettings
from pipeline.report.model import ResponseRecord as ResponseRecord
from pipeline.report.model import RowStats as RowStats
from pipeline.report.model import TextItem as TextItem
from pipeline.report.model import change as change
from pipeline.report.model import half_year as half_year
from pipeline.report.model import num as num
from pipeline.report.model import pct as pct
from pipeline.report.model import previous_period as previous_period

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


# --- small-group protection --------------------------------------------------------------------------------

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


# --- statistics ----------------------------------------------------------------------------------------------

def _p(count: int, base: int) -> float:
    return 100.0 * count / base if base else 0.0


def _choice_counts(q: Question, records: Sequence[ResponseRecord]) -> tuple[Counter[str], int, int, int]:
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
                 min_cell: int, prev_ids: set[str] | None = None) -> ChoiceStats:
    """Counts and % per option (ids unknown to the layout are listed under their id), merged if protected.
    `prev_ids`: options the previous period could have chosen (a profile over several forms), else all."""
    labels = dict(options)
    order = [i for i, _ in options] + sorted(k for k in counts if k not in labels)
    pairs = [(i, counts.get(i, 0)) for i in order]
    merged: set[str] = set()
    suppressed = False
    if protected:
        merged, suppressed = protect(pairs, min_cell)
    pc, pn = prev if prev is not None else (Counter(), 0)

    def prev_pct(ids: Sequence[str]) -> float | None:
        if prev is None or pn == 0 or (prev_ids is not None and not set(ids) <= prev_ids):
            return None
        k = sum(pc.get(i, 0) for i in ids)
        if protected and (pn < min_cell or 0 < k < min_cell):
            return None                 # the previous period's small groups are protected too
        return _p(k, pn)

    cells = [Cell(i, labels.get(i, i), k, _p(k, n), prev_pct([i])) for i, k in pairs if i not in merged]
    if merged and not suppressed:
        ids = [i for i in order if i in merged]
        k = sum(counts[i] for i in ids)
        cells.append(Cell(MERGED_ID, MERGED_LABEL, k, _p(k, n), prev_pct(ids), tuple(labels.get(i, i) for i in ids)))
    if suppressed:
        cells = []
    return ChoiceStats(title, multi, n, tuple(cells), invalid, no_answer, protected, suppressed,
                       pn if prev is not None else None)


def _scored_values(q: Question) -> tuple[dict[int, str], tuple[int, ...]]:
    """value -> column id of scored columns, and the top-box values (two highest; one on scales under 4)."""
    by_value = {int(c.value): c.id for c in q.columns if c.value is not None}
    values = sorted(by_value)
    top = tuple(values[-2:]) if len(values) >= 4 else tuple(values[-1:])
    return by_value, top


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


def grid_stats(q: Question, records: Sequence[ResponseRecord], prev: Sequence[ResponseRecord] | None) -> GridStats:
    by_value, top = _scored_values(q)
    rows = []
    for row in q.rows:
        scored, other, invalid = _row_answers(q, row.id, records)
        n = len(scored)
        counts = Counter(by_value.get(v, str(v)) for v in scored) + other
        mean = sum(scored) / n if n and by_value else None
        top2 = _p(sum(v in top for v in scored), n) if n and by_value else None
        pn, pmean, ptop = 0, None, None
        if prev is not None:
            ps, _, _ = _row_answers(q, row.id, prev)
            pn = len(ps)
            if pn and by_value:
                pmean, ptop = sum(ps) / pn, _p(sum(v in top for v in ps), pn)
        rows.append(RowStats(row.id, row.label, n, mean, top2, tuple((c.id, counts.get(c.id, 0)) for c in q.columns),
                             sum(other.values()), invalid, pn, pmean, ptop))
    return GridStats(q.columns, top, tuple(rows))


def _scaled_answers(layouts: Mapping[str, FormLayout], records: Iterable[ResponseRecord]) -> list[float]:
    """Every scored grid answer rescaled to 0-100 (the satisfaction index's terms)."""
    scales: dict[tuple[str, str], tuple[int, int]] = {}
    for form, lay in layouts.items():
        for q in lay.questions:
            vals = [int(c.value) for c in q.columns if c.value is not None]
            if q.kind == "grid" and len(vals) >= 2 and max(vals) > min(vals):
                scales[(form, q.id)] = (min(vals), max(vals))
    out: list[float] = []
    for r in records:
        for (form, qid), (lo, hi) in scales.items():
            g = r.answers.get(qid) if form == r.form else None
            if isinstance(g, Mapping):
                out += [100.0 * (v - lo) / (hi - lo) for v in g.values() if isinstance(v, int) and not isinstance(v, bool)]
    return out


def _top_share(layouts: Mapping[str, FormLayout], records: Iterable[ResponseRecord]) -> float | None:
    """Share of top-box answers among all scored grid answers of `records`."""
    tops: dict[tuple[str, str], tuple[int, ...]] = {}
    for form, lay in layouts.items():
        for q in lay.questions:
            if q.kind == "grid" and any(c.value is not None for c in q.columns):
                tops[(form, q.id)] = _scored_values(q)[1]
    hit = total = 0
    for r in records:
        for (form, qid), top in tops.items():
            g = r.answers.get(qid) if form == r.form else None
            if isinstance(g, Mapping):
                vals = [v for v in g.values() if isinstance(v, int) and not isinstance(v, bool)]
                total += len(vals)
                hit += sum(v in top for v in vals)
    return _p(hit, total) if total else None


def satisfaction_index(layouts: Mapping[str, FormLayout], records: Iterable[ResponseRecord]) -> tuple[float | None, int]:
    """INDEX_FORMULA: (index 0-100 or None, number of scored answers)."""
    vals = _scaled_answers(layouts, records)
    return (sum(vals) / len(vals) if vals else None), len(vals)


# --- building the report ---------------------------------------------------------------------------------------

def _texts(form: str, q: Question, records: Iterable[ResponseRecord]) -> tuple[TextItem, ...]:
    specs = [(q.area_id(s), s.label or q.text) for s in q.text_specs()]
    return tuple(TextItem(form, q.id, area, label, r.texts[area].strip(), r.sheet_id, area in r.complaints)
                 for r in records for area, label in specs if r.texts.get(area, "").strip())


def _departments(office: Office, layouts: Mapping[str, FormLayout], cur: Sequence[ResponseRecord],
                 prev: Sequence[ResponseRecord], min_cell: int) -> DepartmentSection:
    dq = {form: q.id for form, lay in layouts.items() for q in lay.questions if q.source == "departments"}
    names = {o.id: o.label for form, lay in layouts.items() for q in lay.questions if q.id == dq.get(form) for o in q.options}
    names.update({d.id: d.name for d in office.departments})

    def group(records: Sequence[ResponseRecord]) -> tuple[dict[str, list[ResponseRecord]], int]:
        groups: dict[str, list[ResponseRecord]] = {}
        none = 0
        for r in records:
            a = r.answers.get(dq.get(r.form, "")) if r.form in dq else None
            if isinstance(a, str) and a != INVALID:
                groups.setdefault(a, []).append(r)
            elif r.form in dq:
                none += 1
        return groups, none

    groups, none = group(cur)
    pgroups, _ = group(prev)
    order = [d for d in names if d in groups] + sorted(d for d in groups if d not in names)
    merged, suppressed = protect([(d, len(groups[d])) for d in order], min_cell)

    def stats(did: str, label: str, rs: list[ResponseRecord], prs: list[ResponseRecord],
              m: tuple[str, ...] = ()) -> DepartmentStats:
        idx, _ = satisfaction_index(layouts, rs)
        pidx = satisfaction_index(layouts, prs)[0] if len(prs) >= min_cell else None
        return DepartmentStats(did, label, len(rs), idx, _top_share(layouts, rs), pidx, m)

    rows = [stats(d, names.get(d, d), groups[d], pgroups.get(d, [])) for d in order if d not in merged]
    if merged and not suppressed:
        ids = [d for d in order if d in merged]
        rows.append(stats(MERGED_ID, "pozostałe komórki łącznie", [r for d in ids for r in groups[d]],
                          [r for d in ids for r in pgroups.get(d, [])], tuple(names.get(d, d) for d in ids)))
    return DepartmentSection(() if suppressed else tuple(rows), none, suppressed, 0 if suppressed else len(merged))


def _actions(questions: Sequence[QuestionReport], s: ReportSettings) -> tuple[ActionItem, ...]:
    items = []
    for q in questions:
        if q.grid is None or not q.grid.top_values:
            continue
        vals = sorted(int(c.value) for c in q.grid.columns if c.value is not None)
        lo, hi = vals[0], vals[-1]
        # the threshold is given on a 1-5 scale; other scales get the same relative position
        threshold = lo + (s.mean_below - 1) / 4 * (hi - lo)
        for row in q.grid.rows:
            if row.n < s.action_min_n or row.mean is None or row.top2_pct is None:
                continue
            why = []
            if row.mean < threshold:
                why.append(f"średnia {num(row.mean, 2)} < {num(threshold, 2)}")
            if row.top2_pct < s.top2_below_pct:
                why.append(f"oceny najwyższe {pct(row.top2_pct)} < {pct(s.top2_below_pct)}")
            drop = row.top2_change_pp
            if drop is not None and drop <= -s.drop_pp:
                why.append(f"spadek o {num(-drop)} pp względem poprzedniego okresu")
            if why:
                items.append(ActionItem(q.form, q.id, row.id, f"{q.text} — {row.label}", row.n, row.mean, row.top2_pct,
                                        drop, tuple(why)))
    return tuple(items)


def _annex(layout: FormLayout, version: int) -> AnnexForm:
    qs = []
    for q in layout.questions:
        answers = [o.label for o in q.options] if q.kind in ("single", "multi") else []
        if q.kind == "grid":
            answers = [f"wiersz: {r.label}" for r in q.rows] + [f"kolumna: {c.label}" + ("" if c.scored else " (nieoceniana)")
                                                                 for c in q.columns]
        qs.append(AnnexQuestion(q.number, q.id, q.kind, q.text, tuple(answers)))
    return AnnexForm(layout.form, version, layout.title, tuple(qs))


def build_report(records: Iterable[ResponseRecord], previous: Iterable[ResponseRecord],
                 layouts: Mapping[tuple[str, int], FormLayout], office: Office, period: Period, *, generated_at: str,
                 generated_by: str, settings: ReportSettings | None = None) -> Report:
    """The whole report. `records`: every non-duplicate sheet received in `period` (sheets still in review
    are only counted); `previous`: the same for `previous_period(period)`; `layouts`: every (form, version)
    the records use."""
    s = settings or ReportSettings()
    all_cur = list(records)
    cur = [r for r in all_cur if r.status != "review"]
    prev = [r for r in previous if r.status != "review"]
    forms = sorted({r.form for r in all_cur} | {r.form for r in prev})
    merged = {f: merge_layouts([layouts[k] for k in sorted(layouts) if k[0] == f]) for f in forms}
    by_form = {f: [r for r in cur if r.form == f] for f in forms}
    prev_by_form = {f: [r for r in prev if r.form == f] for f in forms}
    roles = {f: {qid: role for role, qid in s.profile_questions.get(f, {}).items()} for f in forms}

    questions: list[QuestionReport] = []
    invalid = 0
    for f in forms:
        rs, ps = by_form[f], prev_by_form[f]
        if not rs:
            continue
        for q in merged[f].questions:
            role = "department" if q.source == "departments" else roles[f].get(q.id, "")
            qr = QuestionReport(f, q.id, q.number, q.text, q.kind, role, texts=_texts(f, q, rs))
            if q.kind in ("single", "multi"):
                counts, n, inv, none = _choice_counts(q, rs)
                pcounts, pn, _, _ = _choice_counts(q, ps)
                invalid += inv
                qr = replace(qr, choice=choice_stats(q.text, [(o.id, o.label) for o in q.options], q.kind == "multi", counts,
                                                     n, inv, none, (pcounts, pn) if ps else None, bool(role), s.min_cell))
            elif q.kind == "grid":
                qr = replace(qr, grid=grid_stats(q, rs, ps if ps else None))
                invalid += sum(row.invalid for row in qr.grid.rows) if qr.grid else 0
            questions.append(qr)

    profile = []
    for role, title in ROLE_LABELS.items():
        counts = Counter[str]()
        pcounts = Counter[str]()
        n = pn = inv = none = 0
        options: dict[str, str] = {}
        prev_ids: set[str] = set()
        for f in forms:
            qid = s.profile_questions.get(f, {}).get(role)
            if not qid or qid not in {q.id for q in merged[f].questions}:
                continue
            q = merged[f].question(qid)
            options.update({o.id: o.label for o in q.options if o.id not in options})
            if prev_by_form[f]:
                prev_ids |= {o.id for o in q.options}
            c, k, i, z = _choice_counts(q, by_form[f])
            counts, n, inv, none = counts + c, n + k, inv + i, none + z
            pc, pk, _, _ = _choice_counts(q, prev_by_form[f])
            pcounts, pn = pcounts + pc, pn + pk
        if options:
            stats = choice_stats(title, list(options.items()), False, counts, n, inv, none, (pcounts, pn) if prev else None,
                                 True, s.min_cell, prev_ids)
            profile.append(QuestionReport("", role, None, title, "single", role, choice=stats))

    idx, idx_n = satisfaction_index(merged, cur)
    pidx, pidx_n = satisfaction_index(merged, prev)
    paper = Counter(r.batch or "(bez oznaczenia)" for r in cur if r.channel == "paper")
    channels = Counter(r.channel for r in cur)
    order = [c for c in CHANNEL_LABELS if c in channels] + sorted(c for c in channels if c not in CHANNEL_LABELS)
    method = Method(len(cur), tuple((c, CHANNEL_LABELS.get(c, c), channels[c]) for c in order),
                    tuple(sorted(paper.items())), sum(r.status == "review" for r in all_cur), invalid, len(prev))
    versions = Counter((r.form, r.version) for r in cur)
    infos = tuple(FormInfo(f, merged[f].title, tuple((v, n) for (ff, v), n in sorted(versions.items()) if ff == f))
                  for f in forms if by_form[f])
    departments = _departments(office, merged, cur, prev, s.min_cell)
    notes = []
    if any(q.choice and q.choice.protected and (q.choice.suppressed or any(c.merged for c in q.choice.cells))
           for q in (*profile, *questions)) or departments.merged_count or departments.suppressed:
        notes.append(f"Ochrona małych grup (RODO): w profilu respondentów, w pytaniu o komórkę organizacyjną i w wynikach "
                     f"komórek kategorie wskazane przez mniej niż {s.min_cell} osób połączono w jedną grupę „pozostałe”; "
                     f"gdy i ta grupa była mniejsza, dołączono do niej najmniejszą pozostałą kategorię. Zestawień opartych "
                     f"na mniej niż {s.min_cell} odpowiedziach nie pokazano.")
    all_texts = [t for q in questions for t in q.texts]
    return Report(
        office=office.name, office_address=office.address, period=period, previous=previous_period(period),
        generated_at=generated_at, generated_by=generated_by, forms=infos, method=method, profile=tuple(profile),
        questions=tuple(questions), index=IndexStats(idx, idx_n, pidx, pidx_n), departments=departments,
        actions=_actions(questions, s), complaints=tuple(t for t in all_texts if t.complaint),
        annex=tuple(_annex(layouts[k], k[1]) for k in sorted(versions)), settings=s, notes=tuple(notes),
    )
