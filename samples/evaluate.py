"""Compare what a workspace read with the generator's ground truth (used by the benchmark and the
end-to-end tests).

A box reading is a *silent error* when the machine states a confident `marked`/`empty` that contradicts
the truth; `uncertain` is a flag (a person looks at it), never an error. Boxes the truth calls `hard`
(light pencil, tiny marks, a filled box alone) are counted separately: flagging them is the right answer.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import store
from pipeline.runs.workspace import Workspace


@dataclass(frozen=True)
class Evaluation:
    boxes: int = 0
    clear_boxes: int = 0
    hard_boxes: int = 0
    silent_errors: int = 0           # on clear boxes: the product's promise is zero
    silent_errors_hard: int = 0      # on hard boxes: confidently wrong where a flag was expected
    flagged: int = 0                 # boxes read "uncertain"
    flagged_clear: int = 0
    sheet_pages: int = 0
    sheet_pages_read: int = 0        # pages of our forms identified and read
    other_pages: int = 0             # blank backs and foreign pages
    other_read_as_sheet: int = 0     # must be zero
    sheets: int = 0
    sheets_needing_review: int = 0
    rejected_reasons: dict[str, int] = field(default_factory=dict)
    examples: tuple[str, ...] = ()   # a few silent errors, for debugging

    @property
    def silent_error_rate(self) -> float:
        return self.silent_errors / self.clear_boxes if self.clear_boxes else 0.0

    @property
    def flag_rate(self) -> float:
        return self.flagged / self.boxes if self.boxes else 0.0


def evaluate(ws: Workspace, truth_path: Path) -> Evaluation:
    truth: dict[str, Any] = json.loads(truth_path.read_text("utf-8"))
    pages = {(r["file_name"], r["page_index"]): r for r in store.rows(ws.db, "select * from pages")}
    readings: dict[int, dict[str, str]] = {}
    for r in store.rows(ws.db, "select page_id, box_id, state from box_readings"):
        readings.setdefault(r["page_id"], {})[r["box_id"]] = r["state"]
    c: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    examples: list[str] = []
    for file_name, file_pages in truth["files"].items():
        for index, t in enumerate(file_pages):
            row = pages.get((file_name, index))
            if t["kind"] != "sheet":
                c["other"] += 1
                if row is not None and row["status"] == "read":
                    c["other_read"] += 1
                continue
            c["sheet_pages"] += 1
            if row is None or row["status"] != "read":
                if row is not None:
                    reasons[row["reason"]] += 1
                continue
            c["sheet_pages_read"] += 1
            got = readings.get(row["id"], {})
            hard = set(t.get("hard", []))
            for box_id, want in dict(t["boxes"]).items():
                state = got.get(box_id, "missing")
                is_hard = box_id in hard
                c["boxes"] += 1
                c["hard" if is_hard else "clear"] += 1
                if state == "uncertain":
                    c["flagged"] += 1
                    c["flagged_clear" if not is_hard else "flagged_hard"] += 1
                elif state != want:
                    c["silent_hard" if is_hard else "silent"] += 1
                    if not is_hard and len(examples) < 20:
                        examples.append(f"{file_name}#{index} {box_id}: prawda {want}, odczyt {state}")
    sheets = store.rows(ws.db, "select status from sheets where status != 'duplicate'")
    return Evaluation(
        boxes=c["boxes"], clear_boxes=c["clear"], hard_boxes=c["hard"], silent_errors=c["silent"],
        silent_errors_hard=c["silent_hard"], flagged=c["flagged"], flagged_clear=c["flagged_clear"],
        sheet_pages=c["sheet_pages"], sheet_pages_read=c["sheet_pages_read"], other_pages=c["other"],
        other_read_as_sheet=c["other_read"], sheets=len(sheets),
        sheets_needing_review=sum(1 for s in sheets if s["status"] == "review"),
        rejected_reasons=dict(reasons), examples=tuple(examples),
    )
