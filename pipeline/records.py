"""The frozen dataclasses that flow between stages: frozen form geometry, page identities and readings.

Geometry is in PDF points from the page's top-left corner (geometry.Rect). Its JSON form is a public
interface (`ankieta forms layout`, README "Geometria formularza").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pipeline import config as C
from pipeline.geometry import Point, Rect

BoxState = Literal["marked", "empty", "uncertain"]


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


# --- page identity -------------------------------------------------------------------------------

@dataclass(frozen=True)
class PageIdentity:
    """What the page code says: form, version, page number and (for serialised copies) the sheet serial."""

    form: str
    version: int
    page: int
    serial: str | None = None
    fingerprint: str = ""       # start of the version's content hash (`version_fingerprint`)


def version_fingerprint(layout_hash: str) -> str:
    """What the page code carries of a form version's content hash (config.QR_FINGERPRINT_CHARS hex digits)."""
    return layout_hash[: C.QR_FINGERPRINT_CHARS]


def format_page_code(identity: PageIdentity) -> str:
    """The QR payload printed on every page: "ANK1/<form>/<version>/<page>/<serial or ->/<fingerprint>"."""
    return (f"{C.QR_PREFIX}/{identity.form}/{identity.version}/{identity.page}/{identity.serial or '-'}/"
            f"{identity.fingerprint}")


def parse_page_code(payload: str) -> PageIdentity | None:
    """Inverse of format_page_code; None when the payload is not one of our page codes."""
    parts = payload.strip().split("/")
    if (len(parts) != 6 or parts[0] != C.QR_PREFIX or not parts[2].isdigit() or not parts[3].isdigit()
            or len(parts[5]) != C.QR_FINGERPRINT_CHARS or not all(c in "0123456789abcdef" for c in parts[5])):
        return None
    return PageIdentity(parts[1], int(parts[2]), int(parts[3]), None if parts[4] == "-" else parts[4], parts[5])


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


# --- reading a scan ------------------------------------------------------------------------------

@dataclass(frozen=True)
class MarkerHit:
    """A detected fiducial in the upright page image: its id and 4 corner pixels (TL, TR, BR, BL of the
    marker as printed)."""

    id: int
    corners: tuple[tuple[float, float], ...]

@dataclass(frozen=True)
class SourcePage:
    """One page of a scan file, decoded to 8-bit greyscale pixels, with where it came from."""

    file_name: str
    file_sha256: str
    index: int                  # 0-based page index inside the file
    dpi: float                  # from the file; estimated from the markers when the file does not say
    image: Any = field(repr=False, compare=False)   # numpy uint8 array (H, W)
    dpi_from_file: bool = True
    # The page's embedded JPEG exactly as the scanner wrote it, when a browser shows it pixel for pixel as
    # `image` (same size and orientation, no EXIF turn) and it is not finer than REVIEW_ORIGINAL_MAX_DPI:
    # it then serves as the review picture as is (page_image). Empty otherwise.
    original_jpeg: bytes = field(default=b"", repr=False, compare=False)


@dataclass(frozen=True)
class Identification:
    """A page recognised as ours: who it is, the upright image (rotated 180° if it was scanned upside
    down) and the markers found on it."""

    identity: PageIdentity
    image: Any = field(repr=False, compare=False)   # numpy uint8 (H, W), upright
    markers: tuple[MarkerHit, ...] = ()
    rotated_180: bool = False
    dpi: float = 300.0


@dataclass(frozen=True)
class Registration:
    """Transform from frozen geometry (points) to pixels of the upright page image."""

    matrix: tuple[tuple[float, ...], ...]    # 3x3 homography, points -> pixels
    residual_pt: float                       # RMS marker fit error
    markers_found: int
    rotated_180: bool
    scale_px_per_pt: float

    def to_px(self, p: Point) -> tuple[float, float]:
        m = self.matrix
        w = m[2][0] * p.x + m[2][1] * p.y + m[2][2]
        return ((m[0][0] * p.x + m[0][1] * p.y + m[0][2]) / w, (m[1][0] * p.x + m[1][1] * p.y + m[1][2]) / w)


@dataclass(frozen=True)
class BoxReading:
    """The machine's reading of one box: state, confidence 0..1 and the raw evidence."""

    box_id: str
    state: BoxState
    confidence: float
    metrics: Mapping[str, float] = field(default_factory=dict)
    reason: str = ""


@dataclass(frozen=True)
class TextReading:
    """A free-text area: whether it has ink, the crop kept for the reviewer and tesseract's draft."""

    area_id: str
    has_ink: bool
    ink_ratio: float
    draft: str = ""
    confidence: float = 0.0
    crop_png: bytes = field(default=b"", repr=False, compare=False)


@dataclass(frozen=True)
class PageReading:
    """Everything the reader learnt from one page that is one of our forms."""

    source: SourcePage
    identity: PageIdentity
    registration: Registration
    boxes: tuple[BoxReading, ...]
    texts: tuple[TextReading, ...]
    normalised_png: bytes = field(default=b"", repr=False, compare=False)
    issues: tuple[str, ...] = ()            # question-level review reasons, e.g. "q1: dwa zaznaczenia"


@dataclass(frozen=True)
class RejectedPage:
    """A page that is not read as a sheet, with a stable reason code and a Polish explanation."""

    file_name: str
    file_sha256: str
    index: int
    reason: str            # "blank", "foreign", "unregistered", "unknown-form", "damaged"
    message: str


# --- office data ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Department:
    id: str
    name: str


@dataclass(frozen=True)
class Office:
    """The office's own data, edited by the administrator and printed on forms and reports."""

    name: str = "Urząd Gminy"
    address: str = ""
    respondent: str = "klient"          # "klient" or "interesant": how the office calls the people it serves
    departments: tuple[Department, ...] = ()
    contact: str = ""                   # free-text contact line for reports ("tel. ..., e-mail ...")
    # For the public pages (accessibility statement, survey poster); none of them is printed on the form.
    email: str = ""                     # the office's e-mail for accessibility requests
    phone: str = ""
    coordinator: str = ""               # the accessibility coordinator (koordynator ds. dostępności)
    public_url: str = ""                # where citizens reach the survey server, e.g. https://ankieta.lesko.pl
    statement_date: str = ""            # YYYY-MM-DD the accessibility statement was prepared
