"""The frozen geometry of a published form version: where every box, text area, marker and page code is printed.

Geometry is in PDF points from the page's top-left corner (base.geometry.Rect). Its JSON form is a public
interface (`ankieta forms layout`, README "Geometria formularza").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.base import config as C
from pipeline.base.geometry import Rect

# --- frozen geometry (written once per published form version) ---------------------------------

@dataclass(frozen=True)
class BoxGeom:
    """One printed checkbox. `id` is `question.option` or `question.row.column`."""

    id: str
    question: str
    value: str
    rect: Rect
    row: str | None = None


@dataclass(frozen=True)
class TextAreaGeom:
    """A handwriting area (lines printed inside `rect`). `id` is e.g. `q5.inna.text`, `uwagi.text`."""

    id: str
    question: str
    rect: Rect


@dataclass(frozen=True)
class MarkerGeom:
    """An ArUco fiducial: its dictionary id and the square it occupies."""

    id: int
    rect: Rect


@dataclass(frozen=True)
class PageGeometry:
    number: int
    width_pt: float
    height_pt: float
    boxes: tuple[BoxGeom, ...]
    text_areas: tuple[TextAreaGeom, ...]
    markers: tuple[MarkerGeom, ...]
    code: Rect                      # the QR page code (incl. quiet zone)

    def box(self, box_id: str) -> BoxGeom:
        for b in self.boxes:
            if b.id == box_id:
                return b
        raise KeyError(box_id)


@dataclass(frozen=True)
class FormGeometry:
    form: str
    version: int
    title: str
    pages: tuple[PageGeometry, ...]

    def page(self, number: int) -> PageGeometry:
        for p in self.pages:
            if p.number == number:
                return p
        raise KeyError(number)


def _rect(d: Mapping[str, Any]) -> Rect:
    return Rect(float(d["x"]), float(d["y"]), float(d["w"]), float(d["h"]))


def geometry_to_dict(g: FormGeometry) -> dict[str, Any]:
    """The public JSON shape of `ankieta forms layout` (documented in README)."""
    pages = []
    for p in g.pages:
        boxes = []
        for b in p.boxes:
            d: dict[str, Any] = {"id": b.id, "question": b.question}
            if b.row is not None:
                d["row"] = b.row
            d["value"] = b.value
            d.update(b.rect.rounded().as_dict())
            boxes.append(d)
        pages.append({
            "number": p.number, "width_pt": round(p.width_pt, 2), "height_pt": round(p.height_pt, 2),
            "boxes": boxes,
            "text_areas": [{"id": t.id, "question": t.question, **t.rect.rounded().as_dict()} for t in p.text_areas],
            "markers": [{"id": m.id, **m.rect.rounded().as_dict()} for m in p.markers],
            "code": p.code.rounded().as_dict(),
        })
    return {"form": g.form, "version": g.version, "title": g.title, "pages": pages}


def geometry_from_dict(d: Mapping[str, Any]) -> FormGeometry:
    pages = tuple(
        PageGeometry(
            number=int(p["number"]), width_pt=float(p["width_pt"]), height_pt=float(p["height_pt"]),
            boxes=tuple(BoxGeom(b["id"], b["question"], str(b["value"]), _rect(b), b.get("row")) for b in p["boxes"]),
            text_areas=tuple(TextAreaGeom(t["id"], t["question"], _rect(t)) for t in p["text_areas"]),
            markers=tuple(MarkerGeom(int(m["id"]), _rect(m)) for m in p["markers"]),
            code=_rect(p["code"]),
        )
        for p in d["pages"]
    )
    return FormGeometry(form=str(d["form"]), version=int(d["version"]), title=str(d["title"]), pages=pages)


# --- page furniture shared by every form: where markers and the page code are printed ---------------

def standard_markers() -> tuple[MarkerGeom, ...]:
    """The four ArUco markers, ids 0-3 clockwise from the top-left corner."""
    s, i = C.MARKER_SIZE_MM * C.PT_PER_MM, C.MARKER_INSET_MM * C.PT_PER_MM
    w, h = C.PAGE_WIDTH_PT, C.PAGE_HEIGHT_PT
    corners = ((i, i), (w - i - s, i), (w - i - s, h - i - s), (i, h - i - s))
    return tuple(MarkerGeom(mid, Rect(x, y, s, s)) for mid, (x, y) in zip(C.MARKER_IDS, corners, strict=True))


def standard_code_rect() -> Rect:
    """The QR page code's square (incl. quiet zone), top right, left of marker 1."""
    s = C.QR_SIZE_MM * C.PT_PER_MM
    x = C.PAGE_WIDTH_PT - (C.MARKER_INSET_MM + C.MARKER_SIZE_MM + 2.0) * C.PT_PER_MM - s
    return Rect(x, (C.MARKER_INSET_MM - 1.5) * C.PT_PER_MM, s, s)
