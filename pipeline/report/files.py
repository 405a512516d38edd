"""The report as data files: JSON (everything), CSV for Polish Excel (UTF-8 BOM, ';', decimal comma) and XLSX
(openpyxl: the measures, departments, findings, open answers, complaints and a raw-responses sheet).

Writers only format a `report.Report`; no figure is computed here. Every compared figure is one row of the
measures table: what it is ("miara", with its unit), n, value, 95 % interval, previous value, change, the change's
interval and whether it is significant; a column means one thing in every row. Questions and answers appear by
their wording, not their internal ids; dates are dates. The XLSX keeps numbers as numbers; the CSV writes them as
text with a decimal comma because Polish Excel reads "3.5" as a date or text.

Each format writes its cells through one function (`_csv_value`, `_xlsx_append`), the place to neutralise
anything a spreadsheet would run.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.base import cells
from pipeline.records.answers import INVALID
from pipeline.report import build as R
from pipeline.report import methods
from pipeline.report.model import CodebookEntry, QuestionReport, Report, ResponseRecord
from pipeline.report.stats import Difference, Measure

RAW_HEAD = ["arkusz", "formularz", "wersja", "kanał", "partia", "data wpływu"]


def _plain(x: Any) -> Any:
    if isinstance(x, date):
        return x.isoformat()
    if isinstance(x, frozenset | set):
        return sorted(x)
    raise TypeError(type(x).__name__)


def report_json(rep: Report) -> str:
    doc = {"index_formula": R.INDEX_FORMULA, "methods": [text for _, text in methods.annex(rep.settings)],
           **dataclasses.asdict(rep)}
    return json.dumps(doc, ensure_ascii=False, indent=1, default=_plain)


# --- the measures as one flat table, shared by CSV and XLSX ---------------------------------------------------------

CSV_HEAD = ["sekcja", "formularz", "pytanie", "pozycja", "miara", "n", "liczba", "wartość", "95 % od", "95 % do",
            "mała próba", "poprzedni okres: n", "poprzedni okres: wartość", "zmiana", "zmiana: 95 % od", "zmiana: 95 % do",
            "zmiana istotna", "różnica istotna"]
_YES_NO = {True: "tak", False: "nie"}


def _measure_row(section: str, form: str, question: str, item: str, what: str, m: Measure) -> list[Any]:
    lo, hi = m.interval or (None, None)
    clo, chi = m.change_interval or (None, None)
    return [section, form, question, item, what, m.n, m.count, m.value, lo, hi, _YES_NO[m.small_sample] if m.value is not None
            else None, m.previous_n or None, m.previous_value, m.change, clo, chi,
            _YES_NO[m.significant] if m.change is not None else None, None]


def _difference_row(section: str, item: str, what: str, n: int, d: Difference) -> list[Any]:
    lo, hi = d.interval or (None, None)
    return [section, "", "", item, what, n, None, d.value, lo, hi, None, None, None, None, None, None, None,
            _YES_NO[d.significant] if d.value is not None else None]


def _question_title(q: QuestionReport) -> str:
    return f"{q.number}. {q.text}" if q.number else q.text


def _form_titles(rep: Report) -> dict[str, str]:
    return {f.form: f.title for f in rep.forms}


def summary_rows(rep: Report) -> list[list[Any]]:
    """Every measure of the report, one per row (numbers as floats, None when not applicable)."""
    titles = _form_titles(rep)
    m = rep.method
    count_row: list[Any] = ["metoda", "", "", "", "", *([None] * (len(CSV_HEAD) - 5))]
    out: list[list[Any]] = []
    for item, k in (("ankiety uwzględnione", m.included), ("oczekujące na przegląd (pominięte)", m.awaiting_review),
                    ("odpowiedzi nieważne", m.invalid_answers), *((f"kanał: {label}", n) for _, label, n in m.by_channel),
                    *((f"partia papieru: {label}", n) for label, n in m.by_batch)):
        row = list(count_row)
        row[3], row[4], row[6] = item, "liczba", k
        out.append(row)
    out.append(_measure_row("indeks", "", "", "indeks satysfakcji", "indeks (0–100)", rep.index))
    for sec, qs in (("profil", rep.profile), ("pytanie", rep.questions)):
        for q in qs:
            form, title = titles.get(q.form, ""), _question_title(q)
            if q.choice is not None:
                base = "odsetek respondentów (%)" if q.choice.multi else "odsetek odpowiedzi (%)"
                for cell in q.choice.cells:
                    out.append(_measure_row(sec, form, title, cell.label + (f" ({', '.join(cell.merged)})" if cell.merged
                                                                            else ""), base, cell.share))
            if q.grid is not None and q.grid.scale is not None:
                lo, hi = q.grid.scale
                tops = "–".join(str(v) for v in (q.grid.top_values[0], q.grid.top_values[-1]))
                for rated in q.grid.rows:
                    out.append(_measure_row(sec, form, title, rated.label, f"średnia (skala {lo}–{hi})", rated.mean))
                    out.append(_measure_row(sec, form, title, rated.label, f"odsetek ocen {tops} (%)", rated.top2))
            if q.grid is not None:
                for cat in q.grid.categories:
                    for cell in cat.choice.cells:
                        out.append(_measure_row(sec, form, title, f"{cat.label}: {cell.label}", "odsetek odpowiedzi (%)",
                                                cell.share))
    for d in rep.departments.rows:
        label = d.label + (f" ({'; '.join(d.merged)})" if d.merged else "")
        out.append(_measure_row("komórka", "", "", label, "indeks (0–100)", d.index))
        out.append(_measure_row("komórka", "", "", label, "odsetek ocen najwyższych wśród ocen komórki (%)", d.top2))
        out.append(_difference_row("komórka", label, "indeks minus indeks pozostałej części urzędu (pkt)", d.n, d.vs_rest))
    for s in rep.trend.series:
        for p, v in zip(rep.trend.periods, s.values, strict=True):
            what = "indeks (0–100)" if s.kind != "row" else f"średnia (skala {s.scale[0]}–{s.scale[1]})"
            out.append(_measure_row("trend", "", p.name, s.label, what, v))
    return out


def _csv_value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.2f}".replace(".", ",")
    if isinstance(v, str):
        return str(cells.csv_cell(v))        # text from people (answers, names, labels) is never run as a formula
    return str(v)


def report_csv(rep: Report) -> str:
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow([_csv_value(v) for v in CSV_HEAD])
    for row in summary_rows(rep):
        w.writerow([_csv_value(v) for v in row])
    return buf.getvalue()


# --- raw responses -------------------------------------------------------------------------------------------------

def raw_table(rep: Report, records: Iterable[ResponseRecord]) -> tuple[list[str], list[list[Any]]]:
    """One row per counted sheet (review sheets excluded), one column per question / grid row / text area in the
    questionnaire's order, headed by the question's wording (forms apart: a column belongs to one form); answers
    by their labels, scores as numbers, the day received as a date."""
    counted = [r for r in records if r.status != "review"]
    book = {(e.form, e.key): e for e in rep.codebook}
    order = {(e.form, e.key): i for i, e in enumerate(rep.codebook)}
    several = len({r.form for r in counted}) > 1
    flat: list[dict[tuple[str, str], Any]] = []
    for r in counted:
        row: dict[tuple[str, str], Any] = {}
        for qid, a in r.answers.items():
            if isinstance(a, dict):
                for k, v in a.items():
                    key = (r.form, f"{qid}.{k}")
                    row[key] = v if isinstance(v, int) else _label(book.get(key), str(v))
            elif isinstance(a, list):
                row[(r.form, qid)] = ", ".join(_label(book.get((r.form, qid)), x) for x in a)
            else:
                row[(r.form, qid)] = _label(book.get((r.form, qid)), str(a))
        row.update({(r.form, k): v for k, v in r.texts.items()})
        flat.append(row)
    keys = sorted({k for row in flat for k in row}, key=lambda k: (order.get(k, len(order)), k))
    titles = _form_titles(rep)

    def heading(key: tuple[str, str]) -> str:
        e = book.get(key)
        text = e.heading if e else key[1]
        return f"{titles.get(key[0], key[0])}: {text}" if several else text

    head = RAW_HEAD + [heading(k) for k in keys]
    body = [[r.sheet_id, titles.get(r.form, r.form), r.version, R.CHANNEL_LABELS.get(r.channel, r.channel), r.batch,
             date.fromisoformat(r.received) if r.received else None, *(row.get(k) for k in keys)]
            for r, row in zip(counted, flat, strict=True)]
    return head, body


def _label(entry: CodebookEntry | None, value: str) -> str:
    if value == INVALID:
        return "odpowiedź nieważna"
    return dict(entry.values).get(value, value) if entry else value


# --- XLSX ------------------------------------------------------------------------------------------------------------

_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDDDDD")


def _xlsx_append(ws: Worksheet, values: Sequence[Any], formats: Mapping[int, str] | None = None,
                 font: Font | None = None, fill: PatternFill | None = None) -> None:
    """One row of cells, formatted before they are added (looking a row up again costs a scan of the sheet). A
    string is always stored as text: openpyxl would store one starting with '=' as a formula."""
    row: list[Any] = []
    for i, v in enumerate(values):
        fmt = formats.get(i) if formats and v is not None else None
        if not (fmt or font or fill or cells.formula_like(v)):
            row.append(v)                 # a plain value: openpyxl makes the cell (and types it) itself
            continue
        cell = Cell(ws, value=v)
        if isinstance(v, str):
            cell.data_type = "s"
            cells.xlsx_cell(cell)           # formula-like text from people: text with Excel's quote prefix
        if fmt:
            cell.number_format = fmt
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        row.append(cell)
    ws.append(row)


def _table(ws: Worksheet, head: Sequence[str], rows: Iterable[Sequence[Any]], pct_cols: Sequence[int] = (),
           num_cols: Sequence[int] = (), date_cols: Sequence[int] = (), freeze: bool = True) -> None:
    """A header row and the rows under it; `freeze`: the table starts the sheet, keep its header in view."""
    _xlsx_append(ws, head, font=_BOLD, fill=_HEAD_FILL)
    formats = {**{i: "0.00" for i in num_cols}, **{i: "0.0" for i in pct_cols}, **{i: "yyyy-mm-dd" for i in date_cols}}
    for row in rows:
        _xlsx_append(ws, row, formats)
    if freeze:
        ws.freeze_panes = "A2"


def _widths(ws: Worksheet, widths: Sequence[float]) -> None:
    for i, w in enumerate(widths):
        ws.column_dimensions[ws.cell(1, i + 1).column_letter].width = w


def report_xlsx(rep: Report, records: Iterable[ResponseRecord]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Podsumowanie"
    forms = "; ".join(f"{f.title}: " + ", ".join(f"wersja {v} – {n}" for v, n in f.versions) for f in rep.forms)
    info = [
        ("Protokół z badania zadowolenia Klienta", ""), ("Urząd", rep.office), ("Okres", rep.period.describe()),
        ("Okres porównawczy", rep.previous.describe() if rep.previous else "brak"), ("Formularze", forms),
        ("Wygenerowano", rep.generated_at), ("Sporządził(a)", rep.generated_by),
        ("Indeks satysfakcji", R.INDEX_FORMULA),
        *((title, text) for title, text in methods.annex(rep.settings)),
        ("Uwaga", "Arkusz „Odpowiedzi” zawiera dane jednostkowe: tylko do użytku wewnętrznego, nie publikować (RODO)."),
        *(("Uwaga", n) for n in rep.notes), ("", ""),
    ]
    for k, v in info:
        _xlsx_append(ws, [k, v])
    ws["A1"].font = Font(bold=True, size=14)
    for r in range(1, len(info) + 1):
        ws.cell(r, 1).font = _BOLD
        ws.cell(r, 2).alignment = Alignment(wrap_text=True, vertical="top")
    _table(ws, CSV_HEAD, summary_rows(rep), pct_cols=(7, 8, 9, 12, 13, 14, 15), freeze=False)
    _widths(ws, (22, 24, 40, 40, 28, 7, 8, 9, 9, 9, 8, 9, 10, 9, 9, 9, 9, 9))

    dep = wb.create_sheet("Komórki")
    _table(dep, ["komórka", "połączone komórki", "ankiety", "indeks (0–100)", "95 % od", "95 % do", "poprzedni okres: indeks",
                 "zmiana (pkt)", "zmiana: 95 % od", "zmiana: 95 % do", "zmiana istotna", "różnica od reszty urzędu (pkt)",
                 "różnica: 95 % od", "różnica: 95 % do", "różnica istotna", "osoby zgłaszające skargi"],
           ([d.label, "; ".join(d.merged), d.n, d.index.value, *(d.index.interval or (None, None)), d.index.previous_value,
             d.index.change, *(d.index.change_interval or (None, None)),
             _YES_NO[d.index.significant] if d.index.change is not None else None, d.vs_rest.value,
             *(d.vs_rest.interval or (None, None)), _YES_NO[d.vs_rest.significant] if d.vs_rest.value is not None else None,
             d.complaints] for d in rep.departments.rows), pct_cols=(3, 4, 5, 6, 7, 8, 9, 11, 12, 13))
    _widths(dep, (40, 40))
    act = wb.create_sheet("Ustalenia")
    _table(act, ["rodzaj", "czego dotyczy", "n", "powody (ocenione z poprawką Holma na liczbę porównań)"],
           ([{"row": "pytanie", "department": "komórka", "index": "indeks", "complaints": "skargi"}.get(f.kind, f.kind),
             f.subject, f.n, "; ".join(f.reasons)] for f in rep.findings))
    _widths(act, (12, 60, 7, 100))
    txt = wb.create_sheet("Teksty")
    _table(txt, ["formularz", "pytanie", "komórka", "treść (przepisana)", "liczba osób", "skarga"],
           ([_form_titles(rep).get(o.form, o.form), f"{o.number}. {o.title}" if o.number else o.title, g.department,
             t.text, t.count, "tak" if t.complaint else ""] for o in rep.open_answers for g in o.groups for t in g.items))
    _widths(txt, (20, 40, 30, 80))
    cmp_ = wb.create_sheet("Skargi")
    _table(cmp_, ["data wpływu", "komórka", "pytanie", "treść", "stan rozpatrzenia"],
           ([date.fromisoformat(c.received) if c.received else None, c.department, c.where, c.text, c.status]
            for c in rep.complaints), date_cols=(0,))
    _widths(cmp_, (12, 30, 40, 80, 20))
    raw = wb.create_sheet("Odpowiedzi")
    head, body = raw_table(rep, records)
    _table(raw, head, body, date_cols=(5,))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
