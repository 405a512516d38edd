"""Spreadsheet safety: text that a spreadsheet program would run is written as text (OWASP "CSV injection").

Excel and LibreOffice evaluate a cell that starts with `=`, `+`, `-` or `@` (and, after a tab or a carriage return,
whatever follows) as a formula, in a CSV as in an XLSX written carelessly: `=HYPERLINK(...)` or `=cmd|'/C calc'!A0`
typed into the online survey, a transcription, an office or department name or a question label would become a
live formula in the office's report. One rule (`formula_like`) and its two applications, used by every writer of
a spreadsheet or CSV (report/files.py, runs/export.py):
- CSV: such a text is prefixed with an apostrophe (the spreadsheet shows the text and does not evaluate it);
- XLSX (openpyxl): the cell keeps the exact text, typed as a string and marked with Excel's own "quote prefix"
  (what Excel stores when a person types '=...), so nothing is evaluated and nothing is visibly changed.
Numbers the product writes itself (a change of -2,5 pp) are not text and are never touched.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value: object) -> bool:
    """A text a spreadsheet would treat as a formula (or, after a tab/CR, as the start of one)."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """A CSV field: formula-like text gets a leading apostrophe; anything else is returned unchanged."""
    return "'" + value if formula_like(value) else value


def xlsx_cell(cell: Any) -> None:
    """An openpyxl cell: formula-like text stays text (string type, quote prefix), exactly as typed."""
    if formula_like(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True
