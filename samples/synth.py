"""Filled-in sheets: the forms as a workspace publishes them, respondents who fill them in like people
do, and the clean page image with their ink on it, with the ground truth of every box.

Inputs are exactly what a workspace publishes (frozen FormGeometry, resolved FormLayout, printable PDF),
so the truth written here always refers to the geometry the reader uses. The printed convention: a cross
in the box marks it; to correct, the wrong box is filled completely and the right one crossed, so a
correction's filled box is truth "empty" (cancelled).

A sheet is planned first (`respond`: every stroke in page millimetres, every line of handwriting) and
rasterised later (`render_page`), so truth never depends on pixels and rendering at another DPI shows the
same answers.
"""

from __future__ import annotations

import math
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from pdf2image import convert_from_bytes

from pipeline.base import config as C
from pipeline.forms.render import compose, draw_pdf, version_hash
from pipeline.records.form_geometry import BoxGeom, FormGeometry, PageGeometry
from pipeline.records.layout import FormLayout, Question, TextSpec, load_layout, with_departments
from pipeline.records.office import Department, Office
from pipeline.records.page_code import PageIdentity, format_page_code, version_fingerprint
from samples import ink as K
from samples import phrases
from samples.ink import Ink, Stroke
from samples.profiles import MarkStyle, Profile

Truth = Literal["marked", "empty"]
Intent = Literal["mark", "cancel", "cancel-alone"]

LAYOUT_DIR = Path(__file__).resolve().parent.parent / "form_layouts"
DEMO_FORM_NAMES = ("lesko-f1", "satysfakcja-5")
# Lesko's F1 question 4, in the order printed on the original form (seed 004); ids match tests/conftest.py
DEMO_DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("fin", "Referat Finansowy"),
    ("org", "Referat Organizacyjny i Spraw Społecznych"),
    ("soa", "Referat Spraw Obywatelskich i Administracji"),
    ("gpn", "Referat Gospodarki Przestrzennej, Nieruchomościami i Ochrony Środowiska"),
    ("pfi", "Referat Pozyskiwania Funduszy i Inwestycji"),
    ("usc", "Kierownik Urzędu Stanu Cywilnego"),
    ("oc", "Obrona Cywilna"),
    ("gk", "Gospodarka Komunalna"),
    ("ewl", "Ewidencja Ludności. Dowody Osobiste"),
)
DEMO_OFFICE = Office(
    name="Urząd Miasta i Gminy Lesko",
    address="ul. Parkowa 1, 38-600 Lesko",
    departments=tuple(Department(i, n) for i, n in DEMO_DEPARTMENTS),
)
MM_PER_PT = 1.0 / C.PT_PER_MM


# --- forms ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SourceForm:
    """One published form version: what the reader will be given, and what gets printed."""

    geometry: FormGeometry
    layout: FormLayout
    pdf: bytes = field(repr=False)      # the printable master (serial-less page codes)
    fingerprint: str = ""               # printed in the page codes: the workspace's version hash, shortened

    @property
    def key(self) -> str:
        return f"{self.geometry.form}@{self.geometry.version}"


def demo_forms(departments: Sequence[tuple[str, str]] = DEMO_DEPARTMENTS, names: Sequence[str] = DEMO_FORM_NAMES,
               versions: Sequence[int] = (1,)) -> tuple[SourceForm, ...]:
    """The bundled layouts composed with Lesko's office data (same as a workspace would publish)."""
    office = replace(DEMO_OFFICE, departments=tuple(Department(i, n) for i, n in departments))
    out = []
    for name in names:
        layout = with_departments(load_layout(LAYOUT_DIR / f"{name}.yaml"), departments)
        for v in versions:
            comp = compose(layout, office, v)
            geometry = FormGeometry(layout.form, v, layout.title, comp.pages)
            # the same hash `run.publish_form` stores, so a workspace with this office data accepts the pages
            fp = version_fingerprint(version_hash(layout, office, comp.pages))
            out.append(SourceForm(geometry, layout, draw_pdf(comp, layout.form, v, [None], fingerprint=fp), fp))
    return tuple(out)


# --- a filled-in sheet ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Mark:
    """Ink in or on one box, and what it means."""

    box_id: str
    page: int
    style: MarkStyle
    strokes: tuple[Stroke, ...]
    ink: Ink
    truth: Truth
    hard: bool                          # "uncertain" is an acceptable reading


@dataclass(frozen=True)
class Handwriting:
    area_id: str
    page: int
    lines: tuple[str, ...]              # what is written on each guide line
    x_mm: float
    baselines_mm: tuple[float, ...]
    cap_mm: float
    slant_deg: float
    ink: Ink

    @property
    def text(self) -> str:
        return " ".join(self.lines)


@dataclass(frozen=True)
class Sheet:
    form: str                           # SourceForm.key
    serial: str
    marks: tuple[Mark, ...]
    writing: tuple[Handwriting, ...]


@dataclass(frozen=True)
class PageTruth:
    boxes: dict[str, Truth]
    hard: tuple[str, ...]
    texts: dict[str, str]


@dataclass(frozen=True)
class _Person:
    habit: MarkStyle
    ink: Ink
    width_mm: float
    pencil: bool
    mood: float                         # 1..5: how they rate the office overall
    cap_mm: float
    slant_deg: float


PENS = (
    Ink("pen", (28, 45, 150)),          # blue ballpoint, the usual
    Ink("pen", (20, 30, 95)),           # dark blue
    Ink("pen", (30, 30, 35)),           # black
)


def _person(profile: Profile, rng: np.random.Generator) -> _Person:
    styles, weights = zip(*profile.habits, strict=True)
    habit: MarkStyle = styles[rng.choice(len(styles), p=np.asarray(weights) / sum(weights))]
    pencil = bool(rng.random() < profile.p_pencil_person)
    pen = PENS[rng.choice(len(PENS), p=[0.6, 0.2, 0.2])]
    if pencil:
        ink = Ink("pencil", (85, 85, 92), float(rng.uniform(0.5, 0.7)), grain=0.5)
        width = float(rng.uniform(0.25, 0.4))
    else:
        ink = replace(pen, opacity=float(rng.uniform(0.85, 0.98)), grain=0.15)
        width = float(rng.uniform(0.3, 0.55) if rng.random() < 0.8 else rng.uniform(0.55, 0.75))
    mood = float(rng.choice([5, 4.3, 3.5, 2.5, 1.5], p=[0.3, 0.35, 0.17, 0.12, 0.06]))
    return _Person(habit, ink, width, pencil, mood, float(rng.uniform(2.6, 3.6)), float(rng.normal(6, 6)))


# --- mark shapes (page millimetres) --------------------------------------------------------------

Pt = tuple[float, float]


def _bow(a: Pt, b: Pt, rng: np.random.Generator, amount: float) -> tuple[Pt, ...]:
    """A slightly curved pen line from a to b (quadratic through a perpendicular offset)."""
    (ax, ay), (bx, by) = a, b
    length = math.hypot(bx - ax, by - ay) or 1.0
    off = rng.normal(0, amount)
    cx, cy = (ax + bx) / 2 - (by - ay) / length * off, (ay + by) / 2 + (bx - ax) / length * off
    return tuple(((1 - t) ** 2 * ax + 2 * (1 - t) * t * cx + t * t * bx, (1 - t) ** 2 * ay + 2 * (1 - t) * t * cy + t * t * by)
                 for t in np.linspace(0, 1, 7))


def _x_shape(cx: float, cy: float, half: float, rng: np.random.Generator, reach: tuple[float, ...] = (0, 0, 0, 0),
             width: float = 0.4) -> tuple[Stroke, ...]:
    """Two crossing strokes; `reach` pushes each of the 4 ends further out (overflow)."""
    j = half * 0.12
    ends = [(-1, -1), (1, 1), (1, -1), (-1, 1)]
    pts = [(cx + sx * (half + r) + rng.normal(0, j), cy + sy * (half + r) + rng.normal(0, j))
           for (sx, sy), r in zip(ends, reach, strict=True)]
    return (Stroke(_bow(pts[0], pts[1], rng, half * 0.08), width), Stroke(_bow(pts[2], pts[3], rng, half * 0.08), width))


def _check_shape(x: float, y: float, s: float, rng: np.random.Generator, width: float) -> tuple[Stroke, ...]:
    k = rng.uniform(0.75, 1.0)
    c = s / 2

    def p(u: float, v: float) -> tuple[float, float]:
        return (x + c + (u * s - c) * k + rng.normal(0, s * 0.04), y + c + (v * s - c) * k + rng.normal(0, s * 0.04))

    a, b, d = p(0.12, 0.5), p(0.4, 0.86), p(0.92, 0.06)
    return (Stroke((a, *(_bow(b, d, rng, s * 0.05))), width),)


def _fill_shape(x: float, y: float, s: float, grow: float, rng: np.random.Generator, width: float) -> tuple[Stroke, ...]:
    """Scribbled solid: horizontal then vertical zigzags, pitch below the line width."""
    w = max(width, 0.55)
    x0, y0, x1, y1 = x - grow + w / 2, y - grow + w / 2, x + s + grow - w / 2, y + s + grow - w / 2
    pitch = w * 0.6
    rows = np.arange(y0, y1 + 1e-6, pitch)
    zig = [(x0 if i % 2 == 0 else x1, float(v) + rng.normal(0, 0.05)) for i, v in enumerate(rows)]
    cols = np.arange(x0, x1 + 1e-6, pitch * 1.5)
    zag = [(float(v) + rng.normal(0, 0.05), y0 if i % 2 == 0 else y1) for i, v in enumerate(cols)]
    border = ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))
    return (Stroke(tuple(zig), w), Stroke(tuple(zag), w), Stroke(border, w))


def _draw_mark(box: BoxGeom, page: int, style: MarkStyle, intent: Intent, person: _Person,
               rng: np.random.Generator) -> Mark:
    x, y = box.rect.x * MM_PER_PT, box.rect.y * MM_PER_PT
    s = box.rect.w * MM_PER_PT
    cx, cy = x + s / 2 + rng.normal(0, 0.2), y + s / 2 + rng.normal(0, 0.2)
    w, ink = person.width_mm, person.ink
    strokes: tuple[Stroke, ...]
    if style == "fill":
        grow = rng.uniform(-0.3, 0.35) if intent != "mark" else rng.uniform(-0.6, 0.2)
        strokes = _fill_shape(x, y, s, grow, rng, w)
    elif style == "check" or (style in ("pencil", "heavy") and rng.random() < 0.35):
        if style == "heavy":
            w, ink = rng.uniform(0.8, 1.3), replace(ink, name="marker", opacity=0.97, grain=0.0)
        strokes = _check_shape(x, y, s, rng, w)
    elif style == "slash":
        a = (x + s * 0.18 + rng.normal(0, 0.2), y + s * 0.85 + rng.normal(0, 0.2))
        b = (x + s * 0.85 + rng.normal(0, 0.2), y + s * 0.15 + rng.normal(0, 0.2))
        strokes = (Stroke(_bow(a, b, rng, 0.15), w),)
    elif style == "tiny":
        half = rng.uniform(0.5, 0.75)
        strokes = _x_shape(x + s / 2 + rng.uniform(-1, 1), y + s / 2 + rng.uniform(-1, 1), half, rng, width=min(w, 0.35))
    elif style == "overflow":
        reach = tuple(float(rng.uniform(1, 3)) if rng.random() < 0.6 else 0.0 for _ in range(4))
        if not any(reach):
            reach = (float(rng.uniform(1, 3)), 0.0, 0.0, 0.0)
        # the cross's arms end at the box outline before `reach` takes them out
        strokes = _x_shape(cx, cy, s / 2, rng, reach, w)
    else:   # x, heavy, pencil
        if style == "heavy":
            w, ink = rng.uniform(0.8, 1.3), replace(ink, name="marker", opacity=0.97, grain=0.0)
        strokes = _x_shape(cx, cy, s / 2 * rng.uniform(0.55, 0.85), rng, width=w)
    truth: Truth = "marked" if intent == "mark" else "empty"
    if intent == "mark":
        inner = s - 2 * C.BOX_LINE_WIDTH_PT * MM_PER_PT
        dense = style != "fill" and K.coverage(strokes, x + s / 2 - inner / 2, y + s / 2 - inner / 2, inner, inner) >= 0.55
        hard = style in ("fill", "pencil", "tiny") or dense
    else:
        hard = intent == "cancel-alone" or person.pencil
    return Mark(box.id, page, style, strokes, ink, truth, hard)


# --- answering -----------------------------------------------------------------------------------

def _weights(form: str, q: Question, n: int) -> np.ndarray:
    """Stable per-question popularity of options: some answers are simply more common."""
    g = np.random.default_rng(zlib.crc32(f"{form}/{q.id}".encode()))
    w = g.dirichlet(np.full(n, 1.3))
    for i, o in enumerate(q.options):
        if o.other is not None:
            w[i] *= 0.35
    return np.asarray(w / w.sum())


def _phrase(q: Question, spec: TextSpec, rng: np.random.Generator) -> str:
    label = spec.label.lower()
    pool: tuple[str, ...]
    if q.kind == "text" or q.comment is spec:
        pool = phrases.REMARKS
    elif "spraw" in label:
        pool = phrases.MATTERS
    elif "trudno" in label:
        pool = phrases.DIFFICULTIES
    else:
        pool = phrases.SOURCES
    text = str(pool[rng.integers(len(pool))])
    if spec.lines > 1 and pool is phrases.REMARKS and rng.random() < 0.5:
        text += " " + str(pool[rng.integers(len(pool))])
    return text


def _write(page: PageGeometry, area_id: str, text: str, person: _Person, rng: np.random.Generator) -> Handwriting | None:
    """Lay words out on the area's guide lines; words that do not fit are not written (nor in the truth)."""
    area = next(a for a in page.text_areas if a.id == area_id)
    pitch = C.TEXT_LINE_PITCH_MM
    n_lines = max(1, round(area.rect.h * MM_PER_PT / pitch))
    x = area.rect.x * MM_PER_PT + rng.uniform(0.8, 4.0)
    room = area.rect.right * MM_PER_PT - x - 2.0 - person.cap_mm      # slant and jitter need slack
    lines: list[str] = []
    words = text.split()
    while words and len(lines) < n_lines:
        line = words.pop(0)
        while words and K.text_width_mm(f"{line} {words[0]}", person.cap_mm) * 1.06 <= room:
            line += " " + words.pop(0)
        if K.text_width_mm(line, person.cap_mm) * 1.06 > room:
            break
        lines.append(line)
    if not lines:
        return None
    top = area.rect.y * MM_PER_PT
    base = tuple(top + (i + 1) * pitch - float(rng.uniform(0.9, 1.6)) for i in range(len(lines)))
    return Handwriting(area_id, page.number, tuple(lines), x, base, person.cap_mm, person.slant_deg, person.ink)


def respond(form: SourceForm, serial: str, profile: Profile, rng: np.random.Generator) -> Sheet:
    """One respondent fills one sheet in: answers, marks and handwriting, all planned in page millimetres."""
    person = _person(profile, rng)
    where: dict[str, tuple[PageGeometry, BoxGeom]] = {b.id: (p, b) for p in form.geometry.pages for b in p.boxes}
    area_page = {a.id: p for p in form.geometry.pages for a in p.text_areas}
    picks: list[tuple[str, Intent]] = []
    texts: list[tuple[str, str]] = []
    pr = profile

    def group(ids: Sequence[str], chosen: int) -> None:
        """A single-choice question or a grid row: usually one clean cross; sometimes two, or a correction."""
        r = rng.random()
        others = [i for i in range(len(ids)) if i != chosen]
        if not others or person.habit == "fill":
            picks.append((ids[chosen], "mark"))
            return
        near = [i for i in others if abs(i - chosen) == 1] or others
        other = int(rng.choice(near)) if rng.random() < 0.7 else int(rng.choice(others))
        if r < pr.p_double:
            picks.extend([(ids[chosen], "mark"), (ids[other], "mark")])
        elif r < pr.p_double + pr.p_correction:
            picks.extend([(ids[other], "cancel"), (ids[chosen], "mark")])
        elif r < pr.p_double + pr.p_correction + pr.p_forgot_cross:
            picks.append((ids[other], "cancel-alone"))
        else:
            picks.append((ids[chosen], "mark"))

    skip_until: str | None = None
    for q in form.layout.questions:
        if skip_until is not None:
            if q.id != skip_until:
                continue
            skip_until = None
        if q.kind == "text":
            if rng.random() < pr.p_remark:
                spec = q.text_specs()[0]
                texts.append((q.area_id(spec), _phrase(q, spec, rng)))
            continue
        if rng.random() < pr.p_skip_question:
            continue
        if q.kind in ("single", "multi"):
            ids = [f"{q.id}.{o.id}" for o in q.options]
            w = _weights(form.geometry.form, q, len(ids))
            if q.kind == "single":
                chosen = [int(rng.choice(len(ids), p=w))]
                group(ids, chosen[0])
            else:
                k = min(len(ids), int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1])))
                chosen = [int(i) for i in rng.choice(len(ids), size=k, replace=False, p=w)]
                picks.extend((ids[i], "mark") for i in chosen)
                rest = [i for i in range(len(ids)) if i not in chosen]
                if rest and person.habit != "fill" and rng.random() < pr.p_correction:
                    picks.append((ids[int(rng.choice(rest))], "cancel"))
            for i in chosen:
                opt = q.options[i]
                if opt.other is not None and rng.random() < 0.85:
                    texts.append((q.area_id(opt.other), _phrase(q, opt.other, rng)))
                if opt.skip_to and rng.random() < 0.85:
                    skip_until = opt.skip_to
        elif q.kind == "grid":
            scored = [i for i, c in enumerate(q.columns) if c.scored]
            w = _weights(form.geometry.form, q, len(q.columns))
            for row in q.rows:
                if rng.random() < pr.p_skip_row:
                    continue
                ids = [f"{q.id}.{row.id}.{c.id}" for c in q.columns]
                if scored and rng.random() > 0.05:
                    target = person.mood + rng.normal(0, 0.75)
                    col = min(scored, key=lambda i: abs(float(q.columns[i].value or 0) - target))
                else:
                    col = int(rng.choice(len(ids), p=w)) if not scored else int(rng.choice(len(ids)))
                group(ids, col)
        if q.comment is not None and rng.random() < pr.p_remark * 0.6:
            texts.append((q.area_id(q.comment), _phrase(q, q.comment, rng)))

    marks = []
    for box_id, intent in picks:
        page, box = where[box_id]
        if intent != "mark":
            style: MarkStyle = "fill"
        elif person.pencil:
            style = "pencil"
        elif rng.random() < pr.p_tiny:
            style = "tiny"
        elif rng.random() < pr.p_overflow:
            style = "overflow"
        elif person.habit != "fill" and rng.random() < pr.p_off_habit:
            style = ("x", "check", "slash")[int(rng.integers(3))]
        else:
            style = person.habit
        marks.append(_draw_mark(box, page.number, style, intent, person, rng))
    writing = [hw for area_id, text in texts if (hw := _write(area_page[area_id], area_id, text, person, rng)) is not None]
    return Sheet(form.key, serial, tuple(marks), tuple(writing))


def page_truth(page: PageGeometry, sheet: Sheet) -> PageTruth:
    """Every box of the page: marked/empty; `hard` adds empty boxes someone else's ink strays into."""
    marks = [m for m in sheet.marks if m.page == page.number]
    boxes: dict[str, Truth] = {b.id: "empty" for b in page.boxes}
    hard = {m.box_id for m in marks if m.hard}
    for m in marks:
        if boxes[m.box_id] != "marked":
            boxes[m.box_id] = m.truth
    own = {m.box_id for m in marks}
    inset = C.BOX_LINE_WIDTH_PT * MM_PER_PT
    for b in page.boxes:
        if b.id in own:
            continue
        x, y, s = b.rect.x * MM_PER_PT + inset, b.rect.y * MM_PER_PT + inset, b.rect.w * MM_PER_PT - 2 * inset
        if any(K.touches(m.strokes, x, y, s, s) for m in marks):
            hard.add(b.id)
    texts = {hw.area_id: hw.text for hw in sheet.writing if hw.page == page.number}
    return PageTruth(boxes, tuple(sorted(hard)), texts)


# --- pixels --------------------------------------------------------------------------------------

_MASTERS: OrderedDict[tuple[str, int], tuple[np.ndarray, ...]] = OrderedDict()
_MASTER_CACHE_PAGES = 16


def master_pages(form: SourceForm, dpi: int) -> tuple[np.ndarray, ...]:
    """The serial-less printed pages rasterised once per DPI (greyscale, read-only), kept in a small LRU."""
    key = (form.key, dpi)
    if key in _MASTERS:
        _MASTERS.move_to_end(key)
        return _MASTERS[key]
    pages = tuple(np.asarray(im, np.uint8) for im in convert_from_bytes(form.pdf, dpi=dpi, grayscale=True, thread_count=1))
    for a in pages:
        a.setflags(write=False)
    _MASTERS[key] = pages
    while sum(len(v) for v in _MASTERS.values()) > _MASTER_CACHE_PAGES and len(_MASTERS) > 1:
        _MASTERS.popitem(last=False)
    return pages


def _print_serial(img: np.ndarray, page: PageGeometry, form: SourceForm, serial: str, dpi: int) -> None:
    """What draw_pdf adds per copy: the page code with the serial and "Nr arkusza" in the footer."""
    k = dpi / 72.0
    payload = format_page_code(PageIdentity(form.geometry.form, form.geometry.version, page.number, serial, form.fingerprint))
    K.paste_qr(img, payload, page.code.x * k, page.code.y * k, page.code.w * k)
    size = (C.FONT_SIZE_SMALL_PT + 1) * k
    alpha, ox, oy = K.text_alpha(f"Nr arkusza: {serial}", size, bold=True)
    right = (C.PAGE_WIDTH_PT - (C.MARKER_INSET_MM + C.MARKER_SIZE_MM + 3) * C.PT_PER_MM) * k
    base = (C.PAGE_HEIGHT_PT - C.MARKER_INSET_MM * C.PT_PER_MM - C.MARKER_SIZE_MM / 2 * C.PT_PER_MM + 2.5) * k
    text_w = K.font(round(size), True).getlength(f"Nr arkusza: {serial}")
    K.blend(img, alpha, round(right - text_w - ox), round(base - oy), Ink("print", (0, 0, 0), 1.0))


def render_page(form: SourceForm, sheet: Sheet, page_number: int, dpi: int, colour: bool, rng: np.random.Generator,
                bilevel: bool = False) -> np.ndarray:
    """The filled-in page as it lies on the scanner glass: upright, white paper, uint8 (H,W) or (H,W,3) RGB.

    `bilevel`: the scan will be thresholded, so pencil is drawn with the pressure that survives it
    (otherwise the truth would say "marked" about a box the scanner left blank)."""
    page = form.geometry.page(page_number)
    img = master_pages(form, dpi)[page_number - 1].copy()
    _print_serial(img, page, form, sheet.serial, dpi)
    if colour:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    ss = 4 if dpi <= 200 else 3 if dpi <= 300 else 2
    for m in sheet.marks:
        if m.page != page_number:
            continue
        alpha, x0, y0 = K.strokes_alpha(m.strokes, dpi, ss)
        opacity = max(m.ink.opacity, 0.9) if bilevel and m.ink.name == "pencil" else None
        K.blend(img, alpha, x0, y0, m.ink, opacity, rng)
    for hw in sheet.writing:
        if hw.page != page_number:
            continue
        for line, base_mm in zip(hw.lines, hw.baselines_mm, strict=True):
            alpha, base_px = K.handwriting_alpha(line, hw.cap_mm, hw.slant_deg, dpi, rng)
            x0 = round(K.mm_to_px(hw.x_mm, dpi))
            y0 = round(K.mm_to_px(base_mm, dpi) - base_px)
            opacity = max(hw.ink.opacity, 0.9) if bilevel and hw.ink.name == "pencil" else None
            K.blend(img, alpha, x0, y0, hw.ink, opacity, rng)
    return img
