"""Export of responses (run layer): one object per sheet, JSON or CSV for Polish Excel. A public interface
documented in README ("Eksport wyników").

Without `machine`, human decisions win over machine readings and only confirmed texts are exported; with
`machine`, the machine's reading before any human decision (texts: tesseract's drafts).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pipeline import store
from pipeline.base import cells
from pipeline.records.answers import INVALID, derive_answers
from pipeline.records.layout import FormLayout
from pipeline.runs.workspace import Workspace


@dataclass(frozen=True)
class SheetState:
    """A sheet's effective box states, texts and verdicts after applying (or not) human decisions."""

    sheet: Mapping[str, Any]
    layout: FormLayout
    boxes: dict[str, str]
    texts: dict[str, str]
    verdicts: dict[str, str]
    pages: list[dict[str, Any]]


def sheet_states(ws: Workspace, date_from: date | None = None, date_to: date | None = None,
                 machine: bool = False, include_duplicates: bool = False) -> Iterator[SheetState]:
    db = ws.db
    layouts: dict[tuple[str, int], FormLayout] = {}
    for sheet in store.sheets_between(db, date_from, date_to, include_duplicates):
        key = (sheet["form"], sheet["version"])
        if key not in layouts:
            layouts[key] = store.get_form_version(db, *key).layout
        boxes = {r["box_id"]: r["state"] for r in store.sheet_box_states(db, sheet["id"])}
        texts: dict[str, str] = {}
        verdicts: dict[str, str] = {}
        if machine:
            texts = {r["area_id"]: r["draft"] or "" for r in store.sheet_texts(db, sheet["id"]) if r["draft"]}
        else:
            for d in store.active_decisions(db, sheet["id"]):
                if d["kind"] == "box":
                    boxes[d["target"]] = d["value"]
                elif d["kind"] == "text":
                    texts[d["target"]] = d["value"]
                elif d["kind"] == "question":
                    verdicts[d["target"]] = d["value"]
        for r in store.manual_answers(db, sheet["id"]):
            # online and hand-entered responses: answers stored directly, no boxes
            if r["question"].endswith(".text") or r["row"] == "#text":
                texts[r["question"]] = r["value"]
            elif r["value"] == INVALID:      # hand entry: the question (row "") or one grid row declared invalid
                verdicts[f"{r['question']}.{r['row']}" if r["row"] else r["question"]] = INVALID
            else:
                boxes[r["value"]] = "marked"
        yield SheetState(sheet, layouts[key], boxes, texts, verdicts, store.sheet_pages(db, sheet["id"]))


def sheet_object(st: SheetState) -> dict[str, Any]:
    derived = derive_answers(st.layout, st.boxes, st.texts, st.verdicts)
    s = st.sheet
    return {
        "sheet": s["id"], "form": s["form"], "version": s["version"], "channel": s["channel"],
        "batch": s["batch_label"] or None, "received": s["received_at"], "status": s["status"],
        "pages": [{"number": p["page_number"], "file": p["file_name"], "index": p["page_index"]} for p in st.pages],
        "boxes": dict(sorted(st.boxes.items())), "answers": dict(derived.answers), "texts": dict(derived.texts),
        "open_questions": list(derived.open_questions), "needs_review": s["status"] == "review",
    }


def export_json(ws: Workspace, date_from: date | None = None, date_to: date | None = None, machine: bool = False) -> str:
    sheets = [sheet_object(st) for st in sheet_states(ws, date_from, date_to, machine)]
    rejected = [{"file": r["file_name"], "index": r["page_index"], "reason": r["reason"], "message": r["message"]}
                for r in store.rejected_pages(ws.db, date_from, date_to)]
    return json.dumps({"sheets": sheets, "rejected": rejected}, ensure_ascii=False, indent=1)


def _columns(layout: FormLayout) -> list[str]:
    cols: list[str] = []
    for q in layout.questions:
        if q.kind == "grid":
            cols += [f"{q.id}.{r.id}" for r in q.rows]
        elif q.kind != "text":
            cols.append(q.id)
        cols += [q.area_id(t) for t in q.text_specs()]
    return cols


def export_csv(ws: Workspace, date_from: date | None = None, date_to: date | None = None, machine: bool = False) -> str:
    """One row per sheet, one column per question / grid row / text area; UTF-8 BOM and ';' for Polish Excel."""
    rows: list[dict[str, Any]] = []
    columns: list[str] = []
    for st in sheet_states(ws, date_from, date_to, machine):
        obj = sheet_object(st)
        for c in _columns(st.layout):
            if c not in columns:
                columns.append(c)
        row: dict[str, Any] = {"arkusz": obj["sheet"], "formularz": obj["form"], "wersja": obj["version"],
                               "kanal": obj["channel"], "partia": obj["batch"] or "", "data": obj["received"],
                               "do_przegladu": "tak" if obj["needs_review"] else "nie"}
        for qid, ans in obj["answers"].items():
            if isinstance(ans, dict):
                for rid, v in ans.items():
                    row[f"{qid}.{rid}"] = v
            elif isinstance(ans, list):
                row[qid] = ",".join(ans)
            elif st.layout.question(qid).kind != "text":
                row[qid] = ans
        for area, text in obj["texts"].items():
            row[area] = text
        for q in obj["open_questions"]:
            row[q] = "?"
        rows.append(row)
    head = ["arkusz", "formularz", "wersja", "kanal", "partia", "data", "do_przegladu", *columns]
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.DictWriter(buf, fieldnames=head, delimiter=";", extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    # answers, transcriptions and batch labels come from people: never let a spreadsheet run them (base/cells.py)
    writer.writerows({k: cells.csv_cell(v) for k, v in row.items()} for row in rows)
    return buf.getvalue()
