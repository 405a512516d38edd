"""Render a form layout to a printable A4 PDF, and compute the geometry that gets frozen per version.

Placement and drawing are one code path: `compose` places every item and records both what to draw
(ops) and where the machine-readable parts are (PageGeometry). `draw_pdf` replays the ops, adding the
per-copy page code and serial. So the geometry can never drift from what was printed.

Every page carries four ArUco markers (ids 0-3 clockwise from top-left: orientation is unambiguous and
any three fix an affine transform) and a QR page code "ANK1/<form>/<version>/<page>/<serial or ->/<fingerprint>".
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import cv2
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.colors import Color
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from pipeline.base import config as C
from pipeline.base.geometry import Rect, mm
from pipeline.base.typeface import FONT, FONT_BOLD, register_fonts
from pipeline.records.form_geometry import (
    BoxGeom,
    FormGeometry,
    MarkerGeom,
    PageGeometry,
    TextAreaGeom,
    geometry_to_dict,
    standard_code_rect,
    standard_markers,
)
from pipeline.records.layout import Block, FormLayout, Question, TextSpec, layout_to_dict
from pipeline.records.office import Office
from pipeline.records.page_code import PageIdentity, format_page_code

INK = Color(0, 0, 0)
GUIDE = Color(0.55, 0.55, 0.55)     # handwriting guide lines: visible, but lighter than box outlines
SOFT_TEXT = Color(0.2, 0.2, 0.2)    # hints: still > 12:1 contrast on white paper


# --- drawing ops (what compose decides, draw_pdf replays) ---------------------------------------

@dataclass(frozen=True)
class TextOp:
    x: float
    y: float          # baseline, from the top of the page
    text: str
    font: str = FONT
    size: float = C.FONT_SIZE_OPTION_PT
    align: str = "left"
    color: Color = INK


@dataclass(frozen=True)
class BoxOp:
    rect: Rect
    filled: bool = False
    cross: bool = False
    width_pt: float = C.BOX_LINE_WIDTH_PT


@dataclass(frozen=True)
class LineOp:
    x0: float
    y0: float
    x1: float
    y1: float
    width_pt: float = 0.5
    color: Color = GUIDE


Op = TextOp | BoxOp | LineOp


@dataclass
class _Page:
    number: int
    ops: list[Op] = field(default_factory=list)
    boxes: list[BoxGeom] = field(default_factory=list)
    areas: list[TextAreaGeom] = field(default_factory=list)


@dataclass(frozen=True)
class Composition:
    """A form laid out on pages: the geometry to freeze and the ops to draw."""

    pages: tuple[PageGeometry, ...]
    ops: tuple[tuple[Op, ...], ...]
    header: tuple[str, ...]


# --- page furniture ----------------------------------------------------------------------------

CONTENT_LEFT = mm(C.PAGE_MARGIN_MM)
CONTENT_RIGHT = C.PAGE_WIDTH_PT - mm(C.PAGE_MARGIN_MM)
CONTENT_TOP = mm(C.MARKER_INSET_MM) + mm(C.QR_SIZE_MM) - mm(0.5)
CONTENT_BOTTOM = C.PAGE_HEIGHT_PT - mm(C.MARKER_INSET_MM + C.MARKER_SIZE_MM + 2.0)


def wrap(text: str, font: str, size: float, width: float, *, keep_single_letters: bool = False) -> list[str]:
    """Greedy word wrap using the font's real advance widths. `keep_single_letters`: as Polish typesetting
    wants (the poster), a one-letter word ("i", "w", "z") never ends a line but travels with the next word.
    Forms keep the plain wrap: changing it would move text on printed forms and so their frozen geometry."""
    register_fonts()
    lines: list[str] = []
    for para in text.split("\n"):
        units: list[str] = []
        for word in para.split():
            if keep_single_letters and units and len(units[-1].rsplit(" ", 1)[-1]) == 1:
                units[-1] += " " + word
            else:
                units.append(word)
        line = ""
        for word in units:
            trial = f"{line} {word}" if line else word
            if pdfmetrics.stringWidth(trial, font, size) <= width or not line:
                line = trial
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


def _leading(size: float) -> float:
    return size * C.LINE_GAP_RATIO


class _Composer:
    """Flows items down pages; each `_place_*` works at the current y and reports the height used."""

    def __init__(self, layout: FormLayout, office: Office, version: int) -> None:
        self.layout = layout
        self.office = office
        self.version = version
        self.pages: list[_Page] = []
        self.y = 0.0
        self.width = CONTENT_RIGHT - CONTENT_LEFT
        self.numbers = {q.id: q.number for q in layout.questions}

    # page management
    def new_page(self) -> None:
        self.pages.append(_Page(len(self.pages) + 1))
        self.y = CONTENT_TOP
        if len(self.pages) == 1:
            self._instructions()

    @property
    def page(self) -> _Page:
        return self.pages[-1]

    def text(self, x: float, text: str, font: str = FONT, size: float = C.FONT_SIZE_OPTION_PT,
             width: float | None = None, color: Color = INK, align: str = "left") -> float:
        """Write wrapped text with its first line's top at self.y; return the height used."""
        lines = wrap(text, font, size, width if width is not None else CONTENT_RIGHT - x)
        lead = _leading(size)
        for n, line in enumerate(lines):
            self.page.ops.append(TextOp(x, self.y + size * 0.93 + n * lead, line, font, size, align, color))
        return len(lines) * lead

    def _instructions(self) -> None:
        """How to mark and how to correct: printed once, on page 1, with drawn examples."""
        size = C.FONT_SIZE_SMALL_PT + 0.5
        x = CONTENT_LEFT
        for line in self.layout.instructions:
            self.y += self.text(x, line, size=size)
        top = self.y + mm(1)
        ex = mm(3.6)
        parts: list[tuple[str, BoxOp | None]] = [
            ("Jak zaznaczać: postaw krzyżyk w kratce", BoxOp(Rect(0, 0, ex, ex), cross=True, width_pt=0.7)),
            (". Pomyłka? Zamaluj całą błędną kratkę", BoxOp(Rect(0, 0, ex, ex), filled=True, width_pt=0.7)),
            (" i postaw krzyżyk we właściwej.", None),
        ]
        cx = x
        for label, box in parts:
            self.page.ops.append(TextOp(cx, top + size, label, FONT_BOLD, size))
            cx += pdfmetrics.stringWidth(label, FONT_BOLD, size) + mm(1)
            if box is not None:
                self.page.ops.append(BoxOp(Rect(cx, top + size - ex + 0.8, ex, ex), box.filled, box.cross, 0.7))
                cx += ex + mm(0.5)
        self.y = top + _leading(size) + mm(3)

    # items
    def place(self, item: Question | Block, keep_with: float = 0.0) -> None:
        """Place an item, moving it to a new page if it does not fit (keep_with: height of the next item)."""
        if not self.pages or (item.new_page and self.y > CONTENT_TOP + mm(12)):
            self.new_page()
        snapshot = (len(self.page.ops), len(self.page.boxes), len(self.page.areas), self.y, len(self.pages))
        self._place(item)
        if self.y + keep_with > CONTENT_BOTTOM and snapshot[3] > CONTENT_TOP + mm(12):
            ops, boxes, areas, y, _ = snapshot
            del self.page.ops[ops:], self.page.boxes[boxes:], self.page.areas[areas:]
            self.y = y
            self.new_page()
            self._place(item)

    def _place(self, item: Question | Block) -> None:
        if isinstance(item, Block):
            if item.kind == "heading":
                self.y += mm(1.5)
                self.y += self.text(CONTENT_LEFT, item.text, FONT_BOLD, C.FONT_SIZE_QUESTION_PT + 1.4) + mm(1.5)
            else:
                self.y += self.text(CONTENT_LEFT, item.text, FONT, C.FONT_SIZE_SMALL_PT + 0.5, color=SOFT_TEXT) + mm(2)
            return
        q = item
        title = f"{q.number}. {q.text}" if q.number is not None else q.text
        self.y += self.text(CONTENT_LEFT, title, FONT_BOLD, C.FONT_SIZE_QUESTION_PT)
        if q.hint:
            self.y += self.text(CONTENT_LEFT + mm(4), q.hint, FONT, C.FONT_SIZE_SMALL_PT, color=SOFT_TEXT)
        self.y += mm(1.2)
        if q.kind in ("single", "multi"):
            self._choices(q)
        elif q.kind == "grid":
            self._grid(q)
        else:
            self._area(q, TextSpec("", q.text, q.lines), CONTENT_LEFT + mm(4), self.width - mm(4), label=False)
        if q.comment is not None:
            self._area(q, q.comment, CONTENT_LEFT + mm(4), self.width - mm(4), label=True)
        self.y += mm(2.5)

    def _box(self, q: Question, value: str, x: float, y: float, row: str | None = None) -> Rect:
        s = mm(C.BOX_SIZE_MM)
        rect = Rect(x, y, s, s)
        box_id = f"{q.id}.{row}.{value}" if row is not None else f"{q.id}.{value}"
        self.page.boxes.append(BoxGeom(box_id, q.id, value, rect, row))
        self.page.ops.append(BoxOp(rect))
        return rect

    def _choices(self, q: Question) -> None:
        cols = max(1, q.option_columns)
        indent = mm(4)
        col_w = (self.width - indent) / cols
        s = mm(C.BOX_SIZE_MM)
        label_gap = mm(2.0)
        size = C.FONT_SIZE_OPTION_PT
        options = list(q.options)
        for start in range(0, len(options), cols):
            row_top = self.y
            row_bottom = row_top + s
            for c, opt in enumerate(options[start:start + cols]):
                x = CONTENT_LEFT + indent + c * col_w
                self._box(q, opt.id, x, row_top)
                label = opt.label
                if opt.skip_to:
                    label += f" → proszę przejść do pyt. {self.numbers.get(opt.skip_to) or opt.skip_to}"
                lx = x + s + label_gap
                lines = wrap(label, FONT, size, col_w - s - label_gap - mm(2))
                lead = _leading(size)
                # centre a one-line label on the box; longer labels start level with the box top
                first_base = row_top + s / 2 + size * 0.35 if len(lines) == 1 else row_top + size * 0.93
                for n, line in enumerate(lines):
                    self.page.ops.append(TextOp(lx, first_base + n * lead, line, FONT, size))
                bottom = max(row_top + s, first_base + (len(lines) - 1) * lead + size * 0.3)
                if opt.other is not None:
                    saved = self.y
                    self.y = bottom + mm(1)
                    self._area(q, opt.other, lx, col_w - s - label_gap - mm(2), label=False)
                    bottom = self.y
                    self.y = saved
                row_bottom = max(row_bottom, bottom)
            self.y = row_bottom + mm(C.BOX_GAP_MM) - mm(1.0)

    def _grid(self, q: Question) -> None:
        ncol = len(q.columns)
        s = mm(C.BOX_SIZE_MM)
        pitch = max(s + mm(C.BOX_GAP_MM), min(mm(22), (self.width * 0.55) / ncol))
        label_w = self.width - mm(4) - pitch * ncol
        x_label = CONTENT_LEFT + mm(4)
        x_cols = x_label + label_w
        small = C.FONT_SIZE_SMALL_PT
        # column headers, wrapped to the column pitch, bottom-aligned above the boxes
        header_lines = [wrap(c.label, FONT, small, pitch - mm(1.5)) for c in q.columns]
        n_head = max(len(h) for h in header_lines)
        lead = _leading(small)
        for c, lines in enumerate(header_lines):
            cx = x_cols + (c + 0.5) * pitch
            pad = n_head - len(lines)
            for n, line in enumerate(lines):
                font = FONT_BOLD if q.columns[c].scored and line.isdigit() else FONT
                self.page.ops.append(TextOp(cx, self.y + small + (pad + n) * lead, line, font, small, "center"))
        self.y += n_head * lead + mm(1.5)
        size = C.FONT_SIZE_OPTION_PT
        for r in q.rows:
            lines = wrap(r.label, FONT, size, label_w - mm(2))
            rlead = _leading(size)
            text_h = len(lines) * rlead
            row_h = max(s, text_h)
            first_base = self.y + (row_h - text_h) / 2 + size * 0.93
            for n, line in enumerate(lines):
                self.page.ops.append(TextOp(x_label, first_base + n * rlead, line, FONT, size))
            by = self.y + (row_h - s) / 2
            for c, col in enumerate(q.columns):
                self._box(q, col.id, x_cols + (c + 0.5) * pitch - s / 2, by, row=r.id)
            # a faint rule between rows guides the eye along the row, far from the boxes
            rule_y = self.y + row_h + mm(C.BOX_GAP_MM) / 2 - mm(0.5)
            self.page.ops.append(LineOp(x_label, rule_y, CONTENT_RIGHT, rule_y, 0.3, Color(0.75, 0.75, 0.75)))
            self.y += row_h + mm(C.BOX_GAP_MM) - mm(1.0)

    def _area(self, q: Question, spec: TextSpec, x: float, width: float, label: bool) -> None:
        if label and spec.label:
            self.y += self.text(x, spec.label, FONT, C.FONT_SIZE_OPTION_PT) + mm(0.5)
        pitch = mm(C.TEXT_LINE_PITCH_MM)
        top = self.y
        rect = Rect(x, top, width, pitch * spec.lines)
        for n in range(1, spec.lines + 1):
            y = top + n * pitch
            self.page.ops.append(LineOp(x, y, x + width, y))
        self.page.areas.append(TextAreaGeom(q.area_id(spec), q.id, rect))
        self.y = rect.bottom + mm(1.5)

    def closing(self) -> None:
        if not self.layout.closing:
            return
        if self.y + mm(4.5) > CONTENT_BOTTOM:
            self.new_page()
        self.page.ops.append(TextOp(C.PAGE_WIDTH_PT / 2, self.y + 9, self.layout.closing, FONT_BOLD, 10.5, "center"))
        self.y += mm(8)


def compose(layout: FormLayout, office: Office, version: int) -> Composition:
    """Lay the (department-resolved) layout out on A4 pages."""
    register_fonts()
    comp = _Composer(layout, office, version)
    items = list(layout.items)
    comp.new_page()
    for item in items:
        keep = 0.0
        if isinstance(item, Block) and item.kind == "heading":
            keep = mm(25)   # a heading never sits alone at the bottom of a page
        comp.place(item, keep_with=keep)
    comp.closing()
    header = [layout.title + (f"  ({layout.code})" if layout.code else "")]
    header.append(office.name + (f", {office.address}" if office.address else ""))
    if layout.subtitle:
        header.append(layout.subtitle)
    markers = standard_markers()
    pages = tuple(
        PageGeometry(p.number, C.PAGE_WIDTH_PT, C.PAGE_HEIGHT_PT, tuple(p.boxes), tuple(p.areas), markers, standard_code_rect())
        for p in comp.pages
    )
    return Composition(pages, tuple(tuple(p.ops) for p in comp.pages), tuple(header))


def form_geometry(layout: FormLayout, office: Office, version: int) -> FormGeometry:
    return FormGeometry(layout.form, version, layout.title, compose(layout, office, version).pages)


# --- PDF output --------------------------------------------------------------------------------

@cache
def _aruco_cells(marker_id: int) -> tuple[tuple[int, ...], ...]:
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, C.MARKER_DICTIONARY))
    img = cv2.aruco.generateImageMarker(dictionary, marker_id, 6)   # 4x4 bits + 1-cell black border
    return tuple(tuple(int(v) for v in row) for row in img)


def _draw_marker(cv: Canvas, m: MarkerGeom, page_h: float) -> None:
    cells = _aruco_cells(m.id)
    n = len(cells)
    cell = m.rect.w / n
    cv.setFillColor(INK)
    for r, row in enumerate(cells):
        for c, v in enumerate(row):
            if v == 0:
                cv.rect(m.rect.x + c * cell, page_h - (m.rect.y + (r + 1) * cell), cell + 0.05, cell + 0.05,
                        stroke=0, fill=1)


def draw_qr(cv: Canvas, payload: str, rect: Rect, page_h: float) -> None:
    """A QR code filling `rect` (top-left page coordinates; the quiet zone of 4 modules is inside it)."""
    widget = QrCodeWidget(payload, barLevel="M", barBorder=4)
    x0, y0, x1, y1 = widget.getBounds()
    d = Drawing(rect.w, rect.h, transform=[rect.w / (x1 - x0), 0, 0, rect.h / (y1 - y0), 0, 0])
    d.add(widget)
    renderPDF.draw(d, cv, rect.x, page_h - rect.bottom)


def _replay(cv: Canvas, ops: Sequence[Op], page_h: float) -> None:
    for op in ops:
        if isinstance(op, TextOp):
            cv.setFillColor(op.color)
            cv.setFont(op.font, op.size)
            y = page_h - op.y
            if op.align == "center":
                cv.drawCentredString(op.x, y, op.text)
            elif op.align == "right":
                cv.drawRightString(op.x, y, op.text)
            else:
                cv.drawString(op.x, y, op.text)
        elif isinstance(op, BoxOp):
            r = op.rect
            cv.setStrokeColor(INK)
            cv.setLineWidth(op.width_pt)
            cv.setFillColor(INK)
            # the outline is drawn centred on the rect's edge: the frozen rect is the outline itself
            cv.rect(r.x, page_h - r.bottom, r.w, r.h, stroke=1, fill=1 if op.filled else 0)
            if op.cross:
                cv.line(r.x + 1.2, page_h - r.y - 1.2, r.right - 1.2, page_h - r.bottom + 1.2)
                cv.line(r.x + 1.2, page_h - r.bottom + 1.2, r.right - 1.2, page_h - r.y - 1.2)
        else:
            cv.setStrokeColor(op.color)
            cv.setLineWidth(op.width_pt)
            cv.line(op.x0, page_h - op.y0, op.x1, page_h - op.y1)


def version_hash(layout: FormLayout, office: Office, pages: Sequence[PageGeometry]) -> str:
    """The content hash of a form version: wording, options, the office header and every position. Publishing
    the same content keeps the version; its start is printed in every page code (`version_fingerprint`)."""
    layout_json = json.dumps(layout_to_dict(layout), ensure_ascii=False, sort_keys=True)
    probe = geometry_to_dict(FormGeometry(layout.form, 0, layout.title, tuple(pages)))["pages"]
    return hashlib.sha256(
        json.dumps([layout_json, probe, office.name, office.address], ensure_ascii=False, sort_keys=True).encode()
    ).hexdigest()


def draw_pdf(comp: Composition, form: str, version: int, serials: Sequence[str | None], *, fingerprint: str) -> bytes:
    """The printable PDF: every page of the form once per serial (None = a master for photocopying).
    `fingerprint` is `version_fingerprint(version hash)`: the reader rejects pages whose fingerprint it
    does not know, so paper from another workspace is never read against the wrong geometry."""
    register_fonts()
    buf = io.BytesIO()
    cv = Canvas(buf, pagesize=(C.PAGE_WIDTH_PT, C.PAGE_HEIGHT_PT), pageCompression=1)
    cv.setTitle(comp.header[0])
    cv.setAuthor(comp.header[1] if len(comp.header) > 1 else "")
    cv.setCreator("ankieta")
    h = C.PAGE_HEIGHT_PT
    total = len(comp.pages)
    for serial in serials:
        for page, ops in zip(comp.pages, comp.ops, strict=True):
            for m in page.markers:
                _draw_marker(cv, m, h)
            ident = PageIdentity(form, version, page.number, serial, fingerprint)
            draw_qr(cv, format_page_code(ident), page.code, h)
            # header: title and office, left of the page code, right of the top-left marker
            hx = mm(C.MARKER_INSET_MM + C.MARKER_SIZE_MM + 3)
            hy = mm(C.MARKER_INSET_MM) + 11
            for n, line in enumerate(comp.header):
                font, size = (FONT_BOLD, C.FONT_SIZE_TITLE_PT) if n == 0 else (FONT, C.FONT_SIZE_SMALL_PT + 1)
                for wline in wrap(line, font, size, page.code.x - hx - mm(3)):
                    cv.setFont(font, size)
                    cv.setFillColor(INK)
                    cv.drawString(hx, h - hy, wline)
                    hy += _leading(size)
            # footer, between the bottom markers: page x of n, form version and the serial in plain text
            cv.setFont(FONT, C.FONT_SIZE_SMALL_PT)
            fy = h - (C.PAGE_HEIGHT_PT - mm(C.MARKER_INSET_MM + C.MARKER_SIZE_MM / 2)) - 2.5
            cv.drawString(mm(C.MARKER_INSET_MM + C.MARKER_SIZE_MM + 3), fy, f"Strona {page.number} z {total}")
            cv.drawCentredString(C.PAGE_WIDTH_PT / 2, fy, f"{form}, wersja {version}")
            if serial:
                cv.setFont(FONT_BOLD, C.FONT_SIZE_SMALL_PT + 1)
                cv.drawRightString(C.PAGE_WIDTH_PT - mm(C.MARKER_INSET_MM + C.MARKER_SIZE_MM + 3), fy,
                                   f"Nr arkusza: {serial}")
            _replay(cv, ops, h)
            cv.showPage()
    cv.save()
    return buf.getvalue()
