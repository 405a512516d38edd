"""The report as data files: JSON (everything), CSV for Polish Excel (UTF-8 BOM, ';', decimal comma) and
XLSX (openpyxl: a summary sheet, departments, areas for action, texts and a raw-responses sheet).

Writers only format a `report.Report`; no figure is computed here. The XLSX keeps numbers as numbers
(Excel shows the office's decimal separator); the CSV writes them as text with a decimal comma because
Polish Excel reads "3.5" as a date or text.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.base import cells
from pipeline.report import build as R

RAW_HEAD = ["arkusz", "formularz", "wersja", "kanał", "partia", "data"]


def _plain(x: Any) -> Any:
    if isinstance(x, date):
        return x.isoformat()
    if isinstance(x, frozenset | set):
        return sorted(x)
    raise TypeError(type(x).__name__)


def report_json(rep: R.Report) -> str:
    doc = {"index_formula": R.INDEX_FORMULA, **dataclasses.asdict(rep)}
    return json.dumps(doc, ensure_ascii=False, indent=1, default=_plain)


# --- flat rows shared by CSV and XLSX -------------------------------------------------------------------------

CSV_HEAD = ["sekcja", "formularz", "pytanie", "treść", "wiersz / odpowiedź", "n", "liczba", "procent", "średnia",
            "oceny najwyższe (%)", "poprzedni okres", "zmiana"]


def summary_rows(rep: R.Report) -> list[list[Any]]:
    """The report's figures as one flat table (numbers as floats, None when not applicable)."""
    out: list[list[Any]] = []
    m = rep.method
    out.append(["metoda", "", "", "ankiety uwzględnione", "", m.included, m.included, None, None, None,
                m.previous_included, None])
    out += [["metoda", "", "", "kanał", label, None, n, None, None, None, None, None] for _, label, n in m.by_channel]
    out += [["metoda", "", "", "partia papieru", label, None, n, None, None, None, None, None] for label, n in m.by_batch]
    out.append(["metoda", "", "", "oczekujące na przegląd (pominięte)", "", None, m.awaiting_review, None, None, None, None,
                None])
    out.append(["metoda", "", "", "odpowiedzi nieważne", "", None, m.invalid_answers, None, None, None, None, None])
    ix = rep.index
    out.append(["indeks", "", "", "indeks satysfakcji (0–100)", "", ix.answers, None, None, ix.value, None, ix.prev_value,
                ix.change])
    for sec, qs in (("profil", rep.profile), ("pytanie", rep.questions)):
        for q in qs:
            if q.choice is not None:
                c = q.choice
                if c.suppressed:
                    out.append([sec, q.form, q.id, q.text, f"ukryte: mniej niż {rep.settings.min_cell} odpowiedzi", c.n,
                                None, None, None, None, None, None])
                for cell in c.cells:
                    out.append([sec, q.form, q.id, q.text, cell.label, c.n, cell.count, cell.pct, None, None, cell.prev_pct,
                                cell.change_pp])
            if q.grid is not None:
                for row in q.grid.rows:
                    dist = ", ".join(f"{cid}: {k}" for cid, k in row.counts)
                    out.append([sec, q.form, q.id, q.text, f"{row.label} ({dist})", row.n, None, None, row.mean,
                                row.top2_pct, row.prev_top2_pct, row.top2_change_pp])
    for d in rep.departments.rows:
        label = d.label + (f" ({'; '.join(d.merged)})" if d.merged else "")
        out.append(["komórka", "", "", "indeks satysfakcji (0–100)", label, d.n, None, None, d.index, d.top2_pct, d.prev_index,
                    None if d.index is None or d.prev_index is None else d.index - d.prev_index])
    for a in rep.actions:
        out.append(["działania", a.form, a.question, a.label, "; ".join(a.reasons), a.n, None, None, a.mean, a.top2_pct,
                    None, a.top2_change_pp])
    return out


def _csv_value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.2f}".replace(".", ",")
    if isinstance(v, str):
        return str(cells.csv_cell(v))        # text from people (answers, names, labels) is never run as a formula
    return str(v)


def report_csv(rep: R.Report) -> str:
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(CSV_HEAD)
    for row in summary_rows(rep):
        w.writerow([_csv_value(v) for v in row])
    return buf.getvalue()


# --- raw responses -------------------------------------------------------------------------------------------------

def raw_table(rep: R.Report, records: Iterable[R.ResponseRecord]) -> tuple[list[str], list[list[Any]]]:
    """One row per counted sheet (review sheets excluded), one column per question / grid row / text area,
    in the annexed questionnaire's order."""
    counted = [r for r in records if r.status != "review"]
    cols: list[str] = []
    for form in rep.annex:
        for q in form.questions:
            if q.id not in cols:
                cols.append(q.id)
    flat: list[dict[str, Any]] = []
    for r in counted:
        row: dict[str, Any] = {}
        for qid, a in r.answers.items():
            if isinstance(a, dict):
                row.update({f"{qid}.{k}": v for k, v in a.items()})
            elif isinstance(a, list):
                row[qid] = ", ".join(a)
            else:
                row[qid] = a
        row.update(r.texts)
        flat.append(row)
    keys: list[str] = []
    for row in flat:
        keys += [k for k in row if k not in keys]
    keys.sort(key=lambda k: (cols.index(k.split(".")[0]) if k.split(".")[0] in cols else len(cols), k.endswith(".text")))
    head = RAW_HEAD + keys
    body = [[r.sheet_id, r.form, r.version, R.CHANNEL_LABELS.get(r.channel, r.channel), r.batch, r.received,
             *(row.get(k) for k in keys)] for r, row in zip(counted, flat, strict=True)]
    return head, body


# --- XLSX ------------------------------------------------------------------------------------------------------------

_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDDDDD")


def _table(ws: Worksheet, head: Sequence[str], rows: Iterable[Sequence[Any]], pct_cols: Sequence[int] = (),
           num_cols: Sequence[int] = ()) -> None:
    ws.append(list(head))
    for c in ws[ws.max_row]:
        c.font, c.fill = _BOLD, _HEAD_FILL
        cells.xlsx_cell(c)
    for row in rows:
        ws.append(list(row))
        for c in ws[ws.max_row]:
            cells.xlsx_cell(c)          # text from people (answers, names, labels) is never run as a formula
        for i in num_cols:
            ws.cell(ws.max_row, i + 1).number_format = "0.00"
        for i in pct_cols:
            ws.cell(ws.max_row, i + 1).number_format = "0.0"
    ws.freeze_panes = "A2" if ws.max_row > 1 and ws["A1"].value == head[0] else None


def report_xlsx(rep: R.Report, records: Iterable[R.ResponseRecord]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Podsumowanie"
    info = [
        ("Protokół z badania zadowolenia Klienta", ""), ("Urząd", rep.office), ("Okres", rep.period.describe()),
        ("Okres porównawczy", rep.previous.describe()),
        ("Formularze", "; ".join(f"{f.form} ({f.title}): " + ", ".join(f"wersja {v} – {n}" for v, n in f.versions)
                                 for f in rep.forms)),
        ("Wygenerowano", f"{rep.generated_at}, {rep.generated_by}"),
        ("Indeks satysfakcji", R.INDEX_FORMULA),
        ("Uwaga", "Arkusz „Odpowiedzi” zawiera dane jednostkowe: tylko do użytku wewnętrznego, nie publikować (RODO)."),
        *(("Uwaga", n) for n in rep.notes), ("", ""),
    ]
    for k, v in info:
        ws.append([k, v])
        ws.cell(ws.max_row, 1).font = _BOLD
        cells.xlsx_cell(ws.cell(ws.max_row, 2))     # the office's name, the author, notes: text, never a formula
    ws["A1"].font = Font(bold=True, size=14)
    for r in range(1, ws.max_row + 1):
        ws.cell(r, 2).alignment = Alignment(wrap_text=True, vertical="top")
    _table(ws, CSV_HEAD, summary_rows(rep), pct_cols=(7, 9, 10, 11), num_cols=(8,))
    for col, width in zip("ABCDEFGHIJKL", (22, 16, 14, 50, 50, 7, 8, 9, 9, 12, 12, 9), strict=True):
        ws.column_dimensions[col].width = width

    dep = wb.create_sheet("Komórki")
    _table(dep, ["komórka", "połączone komórki", "n", "indeks (0–100)", "oceny najwyższe (%)", "indeks – poprzedni okres"],
           ([d.label, "; ".join(d.merged), d.n, d.index, d.top2_pct, d.prev_index] for d in rep.departments.rows),
           pct_cols=(3, 4, 5))
    act = wb.create_sheet("Działania")
    _table(act, ["formularz", "pytanie", "pozycja", "n", "średnia", "oceny najwyższe (%)", "zmiana (pp)", "powód"],
           ([a.form, a.question, a.label, a.n, a.mean, a.top2_pct, a.top2_change_pp, "; ".join(a.reasons)]
            for a in rep.actions), pct_cols=(5, 6), num_cols=(4,))
    txt = wb.create_sheet("Teksty")
    _table(txt, ["formularz", "pytanie", "pole", "treść (przepisana)", "skarga", "arkusz"],
           ([t.form, t.question, t.label, t.text, "tak" if t.complaint else "", t.sheet]
            for q in rep.questions for t in q.texts))
    raw = wb.create_sheet("Odpowiedzi")
    head, body = raw_table(rep, records)
    _table(raw, head, body)
    for sheet, widths in ((dep, (50, 40)), (act, (14, 12, 60)), (txt, (14, 10, 30, 80))):
        for i, w in enumerate(widths):
            sheet.column_dimensions["ABCDEF"[i]].width = w
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
