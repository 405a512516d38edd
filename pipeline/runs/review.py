"""The review stage: what the night left uncertain, settled by a person (library functions the web app calls).

Human decisions go to `decisions` (who, when, action id) and are never written over machine rows
(`box_readings`, `text_readings`). After every decision or undo, `settle` recomputes the sheet's review
items from the machine reading plus the decisions in force, so an undo needs no special case: an item is
closed exactly when the decisions in force resolve it, and a sheet is final when nothing on it is open.

Decision kinds (export applies the first three): `box` (target box id, value marked|empty), `text`
(target area id, value the text), `question` (target question or `question.row`, value "invalid"),
`complaint` (target area id, value tak|nie), `duplicate` (target the original's id, value keep-original|
keep-this), `missing-page` (value partial).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline import store
from pipeline.base.errors import InvalidInput, NotFound
from pipeline.records.answers import INVALID
from pipeline.records.form_geometry import BoxGeom, FormGeometry
from pipeline.records.layout import FormLayout, Question

BOX_VALUES = ("marked", "empty")
KIND_ORDER = {"duplicate": 0, "missing-page": 1, "box": 2, "question": 3, "text": 4}
KIND_LABELS = {"box": "niepewna kratka", "question": "podwójne zaznaczenie", "text": "tekst do przepisania",
               "duplicate": "zdublowany skan", "missing-page": "brak strony"}
STATE_LABELS = {"marked": "zaznaczona", "empty": "pusta", "uncertain": "niepewna"}


@dataclass(frozen=True)
class QueueRow:
    sheet_id: str
    batch_id: int | None
    batch_label: str
    form: str
    received_at: str
    open_items: int
    counts: Mapping[str, int]


@dataclass(frozen=True)
class Decision:
    id: int
    action_id: int
    kind: str
    target: str
    value: str
    user: str
    decided_at: str
    undone_at: str | None


@dataclass(frozen=True)
class Box:
    """One box of the sheet: where it is (points), what the machine read, what is in force now."""

    id: str
    question: str
    row: str | None
    label: str
    page_number: int
    x: float
    y: float
    w: float
    h: float
    machine: str
    confidence: float
    reason: str
    metrics: Mapping[str, float]
    state: str                       # in force: a human decision if there is one, else the machine's state
    decided_by: str = ""
    flagged: bool = False            # has an open review item


@dataclass(frozen=True)
class TextInfo:
    area_id: str
    page_id: int
    label: str
    draft: str
    ocr_confidence: float | None
    has_crop: bool
    value: str | None                # the transcription in force, None if not yet confirmed
    complaint: bool


@dataclass(frozen=True)
class Item:
    id: int
    kind: str
    target: str
    reason: str
    status: str
    title: str
    question_text: str
    page_number: int | None
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)   # group (q or q.row) -> its box ids
    region: tuple[float, float, float, float] | None = None               # context shown, points (x, y, w, h)
    text: TextInfo | None = None


@dataclass(frozen=True)
class PageView:
    page_id: int
    number: int
    width_pt: float
    height_pt: float
    boxes: tuple[Box, ...]
    # the picture's size in pixels and its SVG placement (pixels -> points), from pipeline/reader/page_image.py;
    # None for pages read before placements were stored: their picture is upright at the page's size
    picture: tuple[int, int, tuple[float, ...]] | None = None


@dataclass(frozen=True)
class SheetView:
    sheet: Mapping[str, Any]
    title: str
    layout: FormLayout
    pages: tuple[PageView, ...]
    items: tuple[Item, ...]
    decisions: tuple[Decision, ...]
    verdicts: Mapping[str, str]

    def box(self, box_id: str) -> Box:
        for p in self.pages:
            for b in p.boxes:
                if b.id == box_id:
                    return b
        raise NotFound(f"Na arkuszu {self.sheet['id']} nie ma kratki {box_id!r}.")

    def item(self, item_id: int) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise NotFound(f"Na arkuszu {self.sheet['id']} nie ma pozycji {item_id}.")

    @property
    def open_items(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.status == "open")


# --- the queue ----------------------------------------------------------------------------------------

def queue(db: store.DB) -> list[QueueRow]:
    """Sheets with open items, oldest batch first. A discarded rescan (duplicate) shows only while its
    duplicate item is open: its own uncertain boxes are not anyone's work."""
    found = store.rows(db, """
        select s.id, s.batch_id, s.batch_label, s.form, s.received_at, s.created_at, ri.kind, count(*) as n
        from review_items ri join sheets s on s.id = ri.sheet_id
        where ri.status = 'open' and (s.status != 'duplicate' or ri.kind = 'duplicate'
              or exists (select 1 from review_items d where d.sheet_id = s.id and d.kind = 'duplicate' and d.status = 'open'))
        group by s.id, ri.kind order by coalesce(s.batch_id, 0), s.created_at, s.id""")
    out: dict[str, QueueRow] = {}
    for r in found:
        row = out.get(r["id"])
        counts = dict(row.counts) if row else {}
        counts[r["kind"]] = r["n"]
        out[r["id"]] = QueueRow(r["id"], r["batch_id"], r["batch_label"] or "", r["form"], r["received_at"] or "",
                                sum(counts.values()), counts)
    return list(out.values())


def next_open(db: store.DB, sheet_id: str, after_item: int | None = None) -> tuple[str, int] | None:
    """The next open item: later on this sheet, else earlier on it, else the first of the next sheet in the queue."""
    view = sheet_view(db, sheet_id) if _sheet_exists(db, sheet_id) else None
    if view is not None and view.open_items:
        ids = [i.id for i in view.items]
        pos = ids.index(after_item) if after_item in ids else -1
        ordered = [*view.items[pos + 1:], *view.items[:pos + 1]]
        for it in ordered:
            if it.status == "open":
                return sheet_id, it.id
    for row in queue(db):
        if row.sheet_id != sheet_id:
            other = sheet_view(db, row.sheet_id).open_items
            if other:
                return row.sheet_id, other[0].id
    return None


# --- reading a sheet ------------------------------------------------------------------------------------

def _sheet_exists(db: store.DB, sheet_id: str) -> bool:
    return bool(store.rows(db, "select 1 from sheets where id = ?", [sheet_id]))


def _decisions(db: store.DB, sheet_id: str) -> tuple[Decision, ...]:
    return tuple(Decision(r["id"], r["action_id"] or r["id"], r["kind"], r["target"], r["value"], r["user"],
                          r["decided_at"], r["undone_at"])
                 for r in store.rows(db, "select * from decisions where sheet_id = ? order by id desc", [sheet_id]))


def _in_force(decisions: Sequence[Decision]) -> dict[tuple[str, str], Decision]:
    """The latest not-undone decision per (kind, target): the same rule as store.active_decisions."""
    force: dict[tuple[str, str], Decision] = {}
    for d in sorted(decisions, key=lambda d: d.id):
        if d.undone_at is None:
            force[(d.kind, d.target)] = d
    return force


def _labels(layout: FormLayout) -> dict[str, tuple[str, str | None, str]]:
    """box id -> (question text, row label, option/column label)."""
    out: dict[str, tuple[str, str | None, str]] = {}
    for q in layout.questions:
        if q.kind == "grid":
            for r in q.rows:
                for c in q.columns:
                    out[f"{q.id}.{r.id}.{c.id}"] = (q.text, r.label, c.label)
        else:
            for o in q.options:
                out[f"{q.id}.{o.id}"] = (q.text, None, o.label)
    return out


def _groups(q: Question) -> dict[str, tuple[str, ...]]:
    """One-answer groups of a single-choice question or grid: the key a verdict targets -> its box ids."""
    if q.kind == "grid":
        return {f"{q.id}.{r.id}": tuple(f"{q.id}.{r.id}.{c.id}" for c in q.columns) for r in q.rows}
    return {q.id: tuple(f"{q.id}.{o.id}" for o in q.options)}


def _text_label(layout: FormLayout, area_id: str) -> str:
    qid = area_id.split(".")[0]
    try:
        q = layout.question(qid)
    except KeyError:
        return area_id
    for spec in q.text_specs():
        if q.area_id(spec) == area_id:
            return spec.label or q.text
    return q.text


def sheet_view(db: store.DB, sheet_id: str) -> SheetView:
    found = store.rows(db, "select * from sheets where id = ?", [sheet_id])
    if not found:
        raise NotFound(f"Nie ma arkusza {sheet_id!r}.")
    sheet = found[0]
    fv = store.get_form_version(db, sheet["form"], sheet["version"])
    decisions = _decisions(db, sheet_id)
    force = _in_force(decisions)
    items_rows = store.rows(db, "select * from review_items where sheet_id = ? order by id", [sheet_id])
    flagged = {r["target"] for r in items_rows if r["kind"] == "box" and r["status"] == "open"}
    labels = _labels(fv.layout)
    pages: list[PageView] = []
    boxes_by_id: dict[str, Box] = {}
    readings = store.sheet_box_states(db, sheet_id)
    page_rows = store.sheet_pages(db, sheet_id)
    page_numbers = {p["id"]: p["page_number"] for p in page_rows}
    for p in page_rows:
        geo = fv.geometry.page(p["page_number"])
        by_id: dict[str, BoxGeom] = {b.id: b for b in geo.boxes}
        boxes: list[Box] = []
        for r in readings:
            if r["page_id"] != p["id"] or r["box_id"] not in by_id:
                continue
            g = by_id[r["box_id"]]
            d = force.get(("box", g.id))
            _qtext, row_label, label = labels.get(g.id, ("", None, g.value))
            b = Box(g.id, g.question, row_label, label, p["page_number"], g.rect.x, g.rect.y, g.rect.w, g.rect.h,
                    r["state"], float(r["confidence"] or 0.0), r["reason"] or "",
                    json.loads(r["metrics_json"] or "{}"), d.value if d else r["state"], d.user if d else "",
                    g.id in flagged)
            boxes.append(b)
            boxes_by_id[g.id] = b
        placement = json.loads(p["image_placement"]) if p.get("image_placement") else None
        picture = (int(placement["width_px"]), int(placement["height_px"]), tuple(placement["to_pt"])) if placement else None
        pages.append(PageView(p["id"], p["page_number"], geo.width_pt, geo.height_pt, tuple(boxes), picture))
    texts = {r["area_id"]: r for r in store.sheet_texts(db, sheet_id)}
    items = [_item(r, fv.layout, fv.geometry, boxes_by_id, texts, force, page_numbers) for r in items_rows]
    items.sort(key=lambda i: (KIND_ORDER.get(i.kind, 9), i.page_number or 0, i.region[1] if i.region else 0, i.id))
    verdicts = {t: d.value for (k, t), d in force.items() if k == "question"}
    return SheetView(sheet, fv.title, fv.layout, tuple(pages), tuple(items), decisions, verdicts)


REGION_MAX_PT = 240.0     # a crop taller than this shrinks the boxes below easy reading; centre on the target then


def _region(boxes: Sequence[Box], width_pt: float, target: Sequence[Box] = ()) -> tuple[float, float, float, float]:
    """A full-width strip round the question's boxes on that page: the question and column labels above,
    the row labels and the neighbouring boxes stay in view."""
    top = max(min(b.y for b in boxes) - 42, 0.0)
    bottom = max(b.y + b.h for b in boxes) + 10
    if bottom - top > REGION_MAX_PT:
        focus = target or boxes
        middle = (min(b.y for b in focus) + max(b.y + b.h for b in focus)) / 2
        top = max(middle - REGION_MAX_PT / 2, 0.0)
        bottom = top + REGION_MAX_PT
    return (24.0, top, width_pt - 48.0, bottom - top)


def _item(r: Mapping[str, Any], layout: FormLayout, geometry: FormGeometry, boxes: Mapping[str, Box],
          texts: Mapping[str, Mapping[str, Any]], force: Mapping[tuple[str, str], Decision],
          page_numbers: Mapping[int, int]) -> Item:
    kind, target = r["kind"], r["target"]
    base = {"id": r["id"], "kind": kind, "target": target, "reason": r["reason"] or "", "status": r["status"]}
    qid = target.split(".")[0]
    try:
        q: Question | None = layout.question(qid)
    except KeyError:
        q = None
    qtext = q.text if q else ""
    if kind == "box" and target in boxes:
        b = boxes[target]
        group_key = f"{b.question}.{target.split('.')[1]}" if q is not None and q.kind == "grid" else b.question
        members = _groups(q)[group_key] if q is not None and q.kind != "multi" else \
            tuple(x for x in boxes if boxes[x].question == b.question)
        near = [x for x in boxes.values() if x.question == b.question and x.page_number == b.page_number]
        width = geometry.page(b.page_number).width_pt
        where = f"{b.row} – {b.label}" if b.row else b.label
        return Item(**base, title=f"Kratka „{where}”", question_text=qtext, page_number=b.page_number,
                    groups={group_key: tuple(members)}, region=_region(near, width, [b]))
    if kind == "question" and q is not None:
        groups = _groups(q)
        affected = {k: v for k, v in groups.items()
                    if sum(1 for m in v if m in boxes and (boxes[m].machine == "marked" or boxes[m].state == "marked")) > 1}
        # once settled, show the groups a person touched (the whole grid only when nothing else is known)
        touched = {k: v for k, v in groups.items() if any(m in boxes and boxes[m].decided_by for m in v)}
        shown = affected or touched or groups
        focus = [boxes[m] for v in shown.values() for m in v if m in boxes]
        page = focus[0].page_number if focus else None
        near = [x for x in boxes.values() if x.question == q.id and x.page_number == page]
        region = _region(near, geometry.page(page).width_pt, focus) if page else None
        return Item(**base, title=f"Podwójne zaznaczenie: {qtext[:60]}", question_text=qtext, page_number=page,
                    groups=shown, region=region)
    if kind == "text":
        t = texts.get(target)
        d = force.get(("text", target))
        c = force.get(("complaint", target))
        info = TextInfo(target, t["page_id"] if t else 0, _text_label(layout, target), (t["draft"] or "") if t else "",
                        t["ocr_confidence"] if t else None, bool(t and t["crop_path"]), d.value if d else None,
                        bool(c and c.value == "tak"))
        return Item(**base, title=f"Tekst: {info.label[:60]}", question_text=qtext,
                    page_number=page_numbers.get(info.page_id), text=info)
    if kind == "duplicate":
        return Item(**base, title=f"Zdublowany skan arkusza {target}", question_text="", page_number=None)
    if kind == "missing-page":
        return Item(**base, title="Brak strony", question_text="", page_number=None)
    return Item(**base, title=f"{KIND_LABELS.get(kind, kind)}: {target}", question_text=qtext, page_number=None)


# --- deciding -------------------------------------------------------------------------------------------

def _act(db: store.DB, sheet_id: str, user: str, decisions: Sequence[tuple[str, str, str]], action: str) -> int:
    with db.atomic():
        action_id = store.record_action(db, sheet_id, user, decisions)
        store.audit(db, user, action, {"sheet": sheet_id, "action": action_id,
                                       "decisions": [list(d) for d in decisions]})
        settle(db, sheet_id)
    return action_id


def decide_box(db: store.DB, sheet_id: str, box_id: str, value: str, user: str) -> int:
    """Any box on the sheet, flagged or not: marked or empty, in force over the machine's reading."""
    if value not in BOX_VALUES:
        raise InvalidInput(f"Kratka może być tylko zaznaczona albo pusta, nie {value!r}.")
    sheet_view(db, sheet_id).box(box_id)
    return _act(db, sheet_id, user, [("box", box_id, value)], "review.box")


def choose_answer(db: store.DB, sheet_id: str, group: str, box_id: str, user: str) -> int:
    """A double mark settled: `box_id` is the intended answer, the other boxes of its group are empty."""
    view = sheet_view(db, sheet_id)
    members = _group_members(view.layout, group)
    if box_id not in members:
        raise InvalidInput(f"Kratka {box_id!r} nie należy do pytania {group!r}.")
    decisions = [("box", m, "marked" if m == box_id else "empty") for m in members
                 if m == box_id or view.box(m).state != "empty"]
    return _act(db, sheet_id, user, decisions, "review.choose")


def declare_invalid(db: store.DB, sheet_id: str, group: str, user: str) -> int:
    """The question (or one grid row) counts as an invalid answer: not guessed, not open."""
    view = sheet_view(db, sheet_id)
    _group_members(view.layout, group)
    return _act(db, sheet_id, user, [("question", group, INVALID)], "review.invalid")


def _group_members(layout: FormLayout, group: str) -> tuple[str, ...]:
    try:
        q = layout.question(group.split(".")[0])
    except KeyError:
        raise NotFound(f"Nie ma pytania {group!r} w tym formularzu.") from None
    groups = _groups(q)
    if q.kind == "grid" and group == q.id:
        return tuple(m for v in groups.values() for m in v)
    if group not in groups:
        raise NotFound(f"Nie ma pytania ani wiersza {group!r} w tym formularzu.")
    return groups[group]


def transcribe(db: store.DB, sheet_id: str, area_id: str, text: str, user: str, complaint: bool | None = None) -> int:
    """The confirmed (or corrected) text of an area; optionally flag or unflag it as a complaint."""
    if not store.rows(db, "select 1 from review_items where sheet_id = ? and kind = 'text' and target = ? "
                          "union select 1 from text_readings where sheet_id = ? and area_id = ?",
                      [sheet_id, area_id, sheet_id, area_id]):
        raise NotFound(f"Na arkuszu {sheet_id} nie ma pola tekstowego {area_id!r}.")
    text = text.replace("\r\n", "\n").strip()
    if len(text) > 5000:
        raise InvalidInput("Tekst jest za długi (ponad 5000 znaków).")
    decisions = [("text", area_id, text)]
    if complaint is not None:
        decisions.append(("complaint", area_id, "tak" if complaint else "nie"))
    return _act(db, sheet_id, user, decisions, "review.text")


def flag_complaint(db: store.DB, sheet_id: str, area_id: str, flag: bool, user: str) -> int:
    return _act(db, sheet_id, user, [("complaint", area_id, "tak" if flag else "nie")], "review.complaint")


def resolve_duplicate(db: store.DB, sheet_id: str, keep: str, user: str) -> int:
    """Keep one of two scans of the same sheet: `keep-original` (discard this rescan) or `keep-this`."""
    if keep not in ("keep-original", "keep-this"):
        raise InvalidInput("Wybierz, który skan zostaje: keep-original albo keep-this.")
    items = store.rows(db, "select target from review_items where sheet_id = ? and kind = 'duplicate'", [sheet_id])
    if not items:
        raise NotFound(f"Arkusz {sheet_id} nie jest zdublowanym skanem.")
    return _act(db, sheet_id, user, [("duplicate", items[0]["target"], keep)], "review.duplicate")


def accept_partial(db: store.DB, sheet_id: str, user: str) -> int:
    """A sheet missing a page is accepted as it is (its other answers count)."""
    return _act(db, sheet_id, user, [("missing-page", "", "partial")], "review.partial")


def undo(db: store.DB, sheet_id: str, user: str, action_id: int | None = None) -> int:
    """Undo one action (default: this user's latest on this sheet); the earlier decision comes back in force."""
    if action_id is None:
        mine = [d for d in _decisions(db, sheet_id) if d.undone_at is None and d.user == user]
        if not mine:
            raise NotFound("Nie ma tu Twojej decyzji do cofnięcia.")
        action_id = mine[0].action_id
    with db.atomic():
        if not store.undo_action(db, sheet_id, action_id):
            raise NotFound("Tej decyzji nie ma albo już ją cofnięto.")
        store.audit(db, user, "review.undo", {"sheet": sheet_id, "action": action_id})
        settle(db, sheet_id)
    return action_id


# --- settling -------------------------------------------------------------------------------------------

def settle(db: store.DB, sheet_id: str) -> str:
    """Recompute the sheet's review items and status from machine readings + decisions in force."""
    sheet = store.rows(db, "select * from sheets where id = ?", [sheet_id])[0]
    layout = store.get_form_version(db, sheet["form"], sheet["version"]).layout
    force = _in_force(_decisions(db, sheet_id))
    states = {r["box_id"]: r["state"] for r in store.sheet_box_states(db, sheet_id)}
    states.update({t: d.value for (k, t), d in force.items() if k == "box"})
    verdicts = {t: d.value for (k, t), d in force.items() if k == "question"}
    unresolved_q: set[str] = set()
    for q in layout.questions:
        if q.kind not in ("single", "grid"):
            continue
        for key, members in _groups(q).items():
            if verdicts.get(q.id) == INVALID or verdicts.get(key) == INVALID:
                continue
            if sum(1 for m in members if states.get(m) == "marked") > 1:
                unresolved_q.add(q.id)
    for qid in sorted(unresolved_q):   # a correction may itself create a double mark: it must not slip through
        store.add_review_item(db, sheet_id, "question", qid, "więcej niż jedno zaznaczenie", sheet["batch_id"])
    for it in store.rows(db, "select * from review_items where sheet_id = ?", [sheet_id]):
        kind, target = it["kind"], it["target"]
        if kind == "box":
            done = ("box", target) in force
        elif kind == "question":
            done = target not in unresolved_q
        elif kind == "text":
            done = ("text", target) in force
        elif kind == "duplicate":
            done = ("duplicate", target) in force
        elif kind == "missing-page":
            present = store.sheet_page_numbers(db, sheet_id)
            done = ("missing-page", "") in force or present >= set(range(1, (sheet["pages_expected"] or 0) + 1))
        else:
            continue
        status = "closed" if done else "open"
        if status != it["status"]:
            store.set_review_item_status(db, it["id"], status)
    _apply_duplicate(db, sheet_id, sheet, force)
    return store.refresh_sheet_status(db, sheet_id)


def _apply_duplicate(db: store.DB, sheet_id: str, sheet: Mapping[str, Any], force: Mapping[tuple[str, str], Decision]) -> None:
    """keep-this swaps the roles (the original becomes the duplicate); anything else keeps the original."""
    dup_items = store.rows(db, "select target from review_items where sheet_id = ? and kind = 'duplicate'", [sheet_id])
    if not dup_items:
        return
    original = dup_items[0]["target"]
    dup = force.get(("duplicate", original))
    keep_this = dup is not None and dup.value == "keep-this"
    if keep_this and sheet["status"] == "duplicate":
        store.set_sheet_duplicate(db, original, sheet_id)
        store.set_sheet_duplicate(db, sheet_id, "")
    elif not keep_this and sheet["status"] != "duplicate":
        store.set_sheet_duplicate(db, sheet_id, original)
        store.set_sheet_duplicate(db, original, "")
