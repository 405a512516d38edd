"""Box and text-area reading on real rendered forms with synthetic pen marks and scanner degradations.

Marks are drawn with OpenCV straight into pages rasterised from the F1 form (at the DPI under test),
then the page is degraded the way scanners do (blur, JPEG, noise, grey paper, bilevel thresholding,
skew). Clear marks and clear empties must come out exactly; ambiguous marks must not come out as a
confident wrong answer.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pdf2image
import pytest

from pipeline.base import config as C
from pipeline.base.geometry import Rect
from pipeline.forms.render import compose, draw_pdf
from pipeline.reader.detect import outline, read_boxes, read_text_areas, sampling
from pipeline.records.form_geometry import PageGeometry
from pipeline.records.layout import FormLayout, load_layout, with_departments
from pipeline.records.office import Office
from pipeline.records.reading import BoxReading, Registration

FP = "5eedf00d"     # a version fingerprint; these pages are read without a workspace, so any will do

ROOT = Path(__file__).resolve().parents[2]
MM_300 = 25.4 / 300          # one pixel at 300 DPI, in mm: stroke widths are quoted that way


# --- the form, rendered once per module ------------------------------------------------------------

@dataclass(frozen=True)
class Form:
    layout: FormLayout
    pages: tuple[PageGeometry, ...]
    pdf: bytes
    rasters: dict[int, tuple[np.ndarray, ...]] = field(default_factory=dict, compare=False)

    def raster(self, dpi: int) -> tuple[np.ndarray, ...]:
        """The pages at `dpi`, rasterised once (poppler takes ~0.2 s a page at 300 DPI)."""
        if dpi not in self.rasters:
            self.rasters[dpi] = tuple(np.array(im) for im in pdf2image.convert_from_bytes(self.pdf, dpi=dpi, grayscale=True))
        return self.rasters[dpi]


@pytest.fixture(scope="module")
def form() -> Form:
    lay = with_departments(load_layout(ROOT / "form_layouts/lesko-f1.yaml"),
                           [("fin", "Referat Finansowy"), ("org", "Referat Organizacyjny")])
    comp = compose(lay, Office(name="Urząd"), 1)
    return Form(lay, comp.pages, draw_pdf(comp, "lesko-f1", 1, [None], fingerprint=FP))


def registration(dpi: float, angle_deg: float = 0.0, size: tuple[int, int] = (2481, 3508),
                 error_mm: tuple[float, float] = (0.0, 0.0)) -> tuple[Registration, np.ndarray]:
    """A registration for a page image rotated by angle_deg about its centre, and the 2x3 warp that makes
    such an image. error_mm shifts where the registration *thinks* the page is (an imperfect marker fit)."""
    s = dpi / 72.0
    rot = cv2.getRotationMatrix2D((size[0] / 2, size[1] / 2), angle_deg, 1.0)
    k = dpi / 25.4
    believed = rot.copy()
    believed[:, 2] += np.array([error_mm[0] * k, error_mm[1] * k])
    full = np.vstack([believed, [0.0, 0.0, 1.0]]) @ np.diag([s, s, 1.0])
    return Registration(tuple(tuple(float(v) for v in row) for row in full), 0.1, 4, False, s), rot


# --- drawing marks ---------------------------------------------------------------------------------

class Pen:
    """Draws in page coordinates (points) onto an image at `dpi`, sub-pixel, anti-aliased."""

    def __init__(self, img: np.ndarray, dpi: float, rng: np.random.Generator | None = None) -> None:
        self.img, self.dpi = img, dpi
        self.k = dpi / 25.4
        self.rng = rng or np.random.default_rng(0)

    def stroke(self, p0: tuple[float, float], p1: tuple[float, float], width_mm: float, grey: int,
               wobble_mm: float = 0.08) -> None:
        """A slightly wobbly hand stroke between two pixel positions."""
        n = 12
        t = np.linspace(0.0, 1.0, n)
        d = np.array(p1) - np.array(p0)
        normal = np.array([-d[1], d[0]]) / (np.hypot(*d) + 1e-9)
        phase = self.rng.uniform(0, math.pi)
        off = wobble_mm * self.k * np.sin(math.pi * t + phase) * self.rng.uniform(-1, 1)
        pts = np.array(p0)[None] + t[:, None] * d[None] + off[:, None] * normal[None]
        th = max(round(width_mm * self.k), 1)
        cv2.polylines(self.img, [np.round((pts - 0.5) * 16).astype(np.int32)], False, int(grey), th, cv2.LINE_AA, 4)

    def centre(self, r: Rect) -> tuple[float, float, float]:
        s = self.dpi / 72.0
        return (r.x + r.w / 2) * s, (r.y + r.h / 2) * s, r.w * s


def cross(pen: Pen, r: Rect, width_mm: float = 0.3, size: float = 0.85, rot_deg: float = 0.0, grey: int = 25,
          off_mm: tuple[float, float] = (0.0, 0.0)) -> None:
    cx, cy, w = pen.centre(r)
    cx, cy = cx + off_mm[0] * pen.k, cy + off_mm[1] * pen.k
    h = w * size / 2
    a = math.radians(rot_deg)
    for sx in (1, -1):
        dx, dy = h * sx * math.cos(a) - h * math.sin(a), h * sx * math.sin(a) + h * math.cos(a)
        pen.stroke((cx - dx, cy - dy), (cx + dx, cy + dy), width_mm, grey)


def tick(pen: Pen, r: Rect, width_mm: float = 0.25, size: float = 0.85, grey: int = 25) -> None:
    cx, cy, w = pen.centre(r)
    h = w * size / 2
    mid = (cx - h * 0.3, cy + h * 0.9)
    pen.stroke((cx - h, cy), mid, width_mm, grey)
    pen.stroke(mid, (cx + h, cy - h), width_mm, grey)


def slash(pen: Pen, r: Rect, width_mm: float = 0.25, size: float = 0.85, grey: int = 25) -> None:
    cx, cy, w = pen.centre(r)
    h = w * size / 2
    pen.stroke((cx - h, cy + h), (cx + h, cy - h), width_mm, grey)


def fill(pen: Pen, r: Rect, grey: int = 25, scribble: bool = False) -> None:
    """Fill the box: solid, or as a dense zig-zag of 0.7 mm marker strokes slightly over the outline."""
    s = pen.dpi / 72.0
    over = 0.2 * pen.k
    x0, y0, x1, y1 = r.x * s - over, r.y * s - over, r.right * s + over, r.bottom * s + over
    if not scribble:
        cv2.rectangle(pen.img, (round(x0), round(y0)), (round(x1), round(y1)), grey, -1)
        return
    y, step = y0, 0.5 * pen.k
    while y < y1:
        pen.stroke((x0, y), (x1, y + step), 0.75, grey, wobble_mm=0.05)
        y += step


def speck(pen: Pen, x: float, y: float, radius_mm: float, grey: int = 40) -> None:
    cv2.circle(pen.img, (round(x * 16), round(y * 16)), max(round(radius_mm * pen.k * 16), 8), grey, -1, cv2.LINE_AA, 4)


def specks(pen: Pen, r: Rect, n: int = 4) -> None:
    cx, cy, w = pen.centre(r)
    for _ in range(n):
        speck(pen, cx + pen.rng.uniform(-w / 3, w / 3), cy + pen.rng.uniform(-w / 3, w / 3), pen.rng.uniform(0.05, 0.15))


# --- scanner degradations --------------------------------------------------------------------------

def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return np.asarray(cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE))


def degrade(img: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """One of the ways a scanner spoils a page (all at once for "office": grey paper, blur, noise, JPEG)."""
    if kind == "clean":
        return img
    if kind == "blur":
        return np.asarray(cv2.GaussianBlur(img, (0, 0), 1.0))
    if kind == "jpeg":
        return jpeg(img, int(rng.integers(40, 71)))
    if kind == "noise":
        return np.clip(img + rng.normal(0, 7, img.shape), 0, 255).astype(np.uint8)
    if kind == "paper":
        tone = rng.uniform(220, 240)
        return (img.astype(np.float32) * (tone - 10) / 255 + 10).astype(np.uint8)
    if kind == "bilevel":
        return np.where(img < 128, 0, 255).astype(np.uint8)
    if kind == "office":
        out = img.astype(np.float32) * rng.uniform(215, 240) / 255 + 8
        out = cv2.GaussianBlur(out, (0, 0), 0.8) + rng.normal(0, 4, img.shape)
        return jpeg(np.clip(out, 0, 255).astype(np.uint8), int(rng.integers(40, 71)))
    raise ValueError(kind)


def scan(form: Form, page: int, dpi: int, draw: Callable[[Pen, PageGeometry], None], kind: str = "clean",
         angle_deg: float = 0.0, seed: int = 0, error_mm: tuple[float, float] = (0.0, 0.0)) -> tuple[np.ndarray, Registration]:
    """Rasterise page `page` (1-based), draw marks, skew it, degrade it; return the image and its registration."""
    rng = np.random.default_rng(seed)
    img = form.raster(dpi)[page - 1].copy()
    draw(Pen(img, dpi, rng), form.pages[page - 1])
    reg, rot = registration(dpi, angle_deg, (img.shape[1], img.shape[0]), error_mm)
    if angle_deg:
        img = cv2.warpAffine(img, rot, (img.shape[1], img.shape[0]), flags=cv2.INTER_LINEAR, borderValue=255)
    return degrade(img, kind, rng), reg


def by_id(readings: Sequence[BoxReading]) -> dict[str, BoxReading]:
    return {r.box_id: r for r in readings}


# --- random clear marks, for the statistical test -----------------------------------------------------

def random_clear_mark(pen: Pen, r: Rect) -> str:
    """One clear mark, as people make them: crosses of any pen, ticks, slashes, markers, dark pencil."""
    rng = pen.rng
    kind = str(rng.choice(["cross", "cross", "cross", "tick", "slash", "marker", "pencil"]))
    if kind == "cross":
        cross(pen, r, rng.uniform(1, 4) * MM_300, rng.uniform(0.6, 1.2), rng.uniform(-15, 15), int(rng.integers(0, 70)),
              (rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5)))
    elif kind == "tick":
        tick(pen, r, rng.uniform(1.5, 4) * MM_300, rng.uniform(0.7, 1.1), int(rng.integers(0, 70)))
    elif kind == "slash":
        slash(pen, r, rng.uniform(1.5, 4) * MM_300, rng.uniform(0.7, 1.1), int(rng.integers(0, 70)))
    elif kind == "marker":
        cross(pen, r, rng.uniform(0.6, 0.9), rng.uniform(0.7, 1.1), rng.uniform(-15, 15), int(rng.integers(10, 60)))
    else:
        cross(pen, r, rng.uniform(2, 4) * MM_300, rng.uniform(0.7, 1.1), rng.uniform(-15, 15), int(rng.integers(80, 140)))
    return kind


def draw_each(plan: Mapping[str, Callable[..., object]]) -> Callable[[Pen, PageGeometry], None]:
    """A draw function marking the boxes named in `plan` (box id -> how)."""
    def draw(pen: Pen, page: PageGeometry) -> None:
        for box_id, how in plan.items():
            how(pen, page.box(box_id).rect)
    return draw


# --- clear marks and clear empties: exact states ------------------------------------------------------

# page 2 of F1: the q8 grid (5 rows x 1-5), q9 (single, 3 options), q10 grid (3 rows x 3)
CLEAR_P2: dict[str, Callable[[Pen, Rect], object]] = {
    "q8.uprzejmosc.1": lambda p, r: cross(p, r, 1 * MM_300, rot_deg=8),          # thinnest pen
    "q8.sprawnosc.2": lambda p, r: cross(p, r, 4 * MM_300, size=1.0, rot_deg=-10),
    "q8.kompetencja.3": lambda p, r: tick(p, r, 2.5 * MM_300),
    "q8.informacja.4": lambda p, r: slash(p, r, 2 * MM_300),
    "q8.terminowosc.5": lambda p, r: cross(p, r, 0.8, grey=40),                    # heavy felt marker
    "q9.nie": lambda p, r: cross(p, r, 3 * MM_300, grey=110),                      # dark pencil
    "q10.prasa.pozytywnie": lambda p, r: cross(p, r, 2 * MM_300, size=1.7),       # overflowing the box
    "q10.internet.negatywnie": lambda p, r: cross(p, r, 2 * MM_300, size=0.65, off_mm=(0.5, -0.4)),  # small, off-centre
    "q10.tablice.brak-zdania": lambda p, r: tick(p, r, 3 * MM_300, size=1.1),
}


@pytest.mark.parametrize(("dpi", "kind", "angle"), [
    (300, "clean", 0.0), (300, "office", 1.2), (300, "bilevel", -0.7), (300, "jpeg", 0.0),
    (200, "blur", 0.5), (200, "paper", -1.5), (150, "noise", 0.0), (150, "office", -1.0),
    (600, "office", 0.8),
])
def test_clear_marks_and_empties_read_exactly(form: Form, dpi: int, kind: str, angle: float) -> None:
    img, reg = scan(form, 2, dpi, draw_each(CLEAR_P2), kind, angle, seed=dpi)
    readings, issues = read_boxes(img, reg, form.pages[1], form.layout)
    assert [r.box_id for r in readings] == [b.id for b in form.pages[1].boxes]
    wrong = {r.box_id: (r.state, r.confidence, r.reason) for r in readings
             if r.state != ("marked" if r.box_id in CLEAR_P2 else "empty") or r.confidence < 0.5}
    assert not wrong
    assert issues == ()


def test_metrics_are_recorded(form: Form) -> None:
    img, reg = scan(form, 2, 300, draw_each({**CLEAR_P2, "q9.tak": fill}))
    readings = by_id(read_boxes(img, reg, form.pages[1], form.layout)[0])
    for r in readings.values():
        for key in ("filled", "dx_px", "dy_px", "coverage", "white_share", "solid_share", "darkness",
                    "position_quality", "paper_level"):
            assert isinstance(r.metrics[key], float), key
        assert 0.0 <= r.confidence <= 1.0
        assert r.state in ("marked", "empty", "uncertain")
        if r.box_id != "q9.tak":
            assert (r.reason == "") == (r.state != "uncertain")
    # the fill next to the cross in q9 is a correction; the straight-lines metric is evidence for a person:
    # kept for the filled box, not for clear crosses
    assert readings["q9.tak"].state == "empty" and readings["q9.tak"].reason == "anulowane (zamalowane)"
    assert 0.0 <= readings["q9.tak"].metrics["lines_residual"] <= 1.0
    assert "lines_residual" not in readings["q8.uprzejmosc.1"].metrics


@pytest.mark.parametrize("error_mm", [(0.4, -0.3), (1.2, -0.9), (-2.0, 1.7)])
def test_registration_error_is_absorbed_by_the_outline_search(form: Form, error_mm: tuple[float, float]) -> None:
    """Registration off by up to ½ box: the outline is found where it is, and the offset is reported. Within
    DETECT_NEAR_SEARCH_MM the first, narrow search finds it; beyond that the box is searched again ±½ box."""
    img, reg = scan(form, 2, 300, draw_each(CLEAR_P2), "office", 1.0, error_mm=error_mm)
    readings, _ = read_boxes(img, reg, form.pages[1], form.layout)
    for r in readings:
        assert r.state == ("marked" if r.box_id in CLEAR_P2 else "empty"), r
        assert r.confidence >= 0.5, r
    k = 300 / 25.4
    empties = [r for r in readings if r.box_id not in CLEAR_P2]
    assert all(abs(r.metrics["dx_px"] + error_mm[0] * k) < 3 and abs(r.metrics["dy_px"] + error_mm[1] * k) < 3
               for r in empties)


def test_coarse_to_fine_outline_search_finds_the_shift_trying_every_shift_finds(form: Form) -> None:
    """The outline search tries every 2nd shift, then every shift near the best: on real patches (marks of
    every kind, overflow, fills, misregistration, degraded scans) it must pick the very shift, and score, that
    trying all (2 search + 1)^2 shifts picks."""
    def draw(pen: Pen, pg: PageGeometry) -> None:
        for i, b in enumerate(pg.boxes):
            if i % 3 == 0:
                random_clear_mark(pen, b.rect)
            elif i % 7 == 1:
                fill(pen, b.rect)
            elif i % 11 == 2:
                cross(pen, b.rect, 3 * MM_300, size=1.8)       # spilling onto the neighbours
    checked = 0
    for seed, (kind, error) in enumerate([("office", (0.6, -1.4)), ("bilevel", (-2.2, 0.3)), ("blur", (0.0, 0.0))]):
        img, reg = scan(form, 2, 300, draw, kind, 0.8, seed=seed, error_mm=error)
        h = sampling.homography(reg.matrix)
        rects = [b.rect for b in form.pages[1].boxes]
        for search_mm in (C.DETECT_NEAR_SEARCH_MM, 5.0 * C.DETECT_SEARCH_BOX_RATIO):
            plan = outline.outline_plan(5.0, search_mm)
            corner_pt = (plan.centre + 0.5) / sampling.RES * C.PT_PER_MM
            grey = sampling.sample_many(img, h, [(r.center.x - corner_pt, r.center.y - corner_pt) for r in rects],
                                       plan.size, sampling.RES)
            white = np.full(len(rects), 230.0, dtype=np.float32)
            dark = (230 - np.minimum(grey, 230)).astype(np.uint8)
            dy, dx, top, _ = outline.find_outlines(dark, 1.0 / white, plan)
            a_in, a_out, b_in, b_out = plan.squares
            for i, d in enumerate(dark.astype(np.float64) / 230.0):
                best, where = -np.inf, (0, 0)
                for sy in range(-plan.search, plan.search + 1):
                    for sx in range(-plan.search, plan.search + 1):
                        cy, cx = plan.centre + sy, plan.centre + sx

                        def square(half: int, cy: int = cy, cx: int = cx, d: np.ndarray = d) -> float:
                            return float(d[cy - half:cy + half + 1, cx - half:cx + half + 1].sum())
                        score = ((square(a_out) - square(a_in)) * plan.band_weights[0]
                                 - (square(b_out) - square(b_in)) * plan.band_weights[1])
                        value = score - plan.penalty[sy + plan.search, sx + plan.search]
                        if value > best + 1e-9:
                            best, where, best_score = value, (sy, sx), score
                assert (int(dy[i]), int(dx[i])) == where, (kind, search_mm, rects[i])
                assert abs(float(top[i]) - best_score) < 1e-5
                checked += 1
    assert checked == 6 * len(form.pages[1].boxes)


def test_registration_too_far_off_makes_boxes_uncertain_not_wrong(form: Form) -> None:
    """Beyond the ±½-box search the outline is not found: every box goes to a person, none is guessed."""
    img, reg = scan(form, 2, 300, draw_each(CLEAR_P2), "office", 0.5, error_mm=(3.5, -1.0))
    readings, _ = read_boxes(img, reg, form.pages[1], form.layout)
    wrong = [r for r in readings if r.state != "uncertain" and r.state != ("marked" if r.box_id in CLEAR_P2 else "empty")]
    assert not wrong
    assert sum(r.state == "uncertain" for r in readings) >= len(readings) - 2
    assert all("ramki" in r.reason for r in readings if r.state == "uncertain")


def test_neighbours_overflowing_cross_does_not_count(form: Form) -> None:
    """A sloppy X spilling 2 mm past its box towards the next one leaves the next box empty."""
    plan = {"q8.uprzejmosc.2": lambda p, r: cross(p, r, 3 * MM_300, size=1.8),
            "q8.kompetencja.3": lambda p, r: cross(p, r, 0.8, size=1.7, grey=30)}
    for kind in ("clean", "office", "bilevel"):
        img, reg = scan(form, 2, 300, draw_each(plan), kind)
        got = by_id(read_boxes(img, reg, form.pages[1], form.layout)[0])
        for nb in ("q8.uprzejmosc.1", "q8.uprzejmosc.3", "q8.kompetencja.2", "q8.kompetencja.4"):
            assert (got[nb].state, got[nb].confidence >= 0.9) == ("empty", True), (kind, got[nb])
        assert got["q8.uprzejmosc.2"].state == got["q8.kompetencja.3"].state == "marked"


# --- ambiguous marks: uncertain, never a confident wrong answer ---------------------------------------

HARD_P2: dict[str, tuple[str, Callable[[Pen, Rect], object]]] = {
    # box: (what a careful person would say, how it is drawn)
    "q9.tak": ("mark", lambda p, r: cross(p, r, 2.5 * MM_300, grey=155)),                    # light pencil
    "q8.uprzejmosc.2": ("mark", lambda p, r: cross(p, r, 1 * MM_300, grey=185)),           # very faint pencil
    "q8.sprawnosc.3": ("mark", lambda p, r: cross(p, r, 1.5 * MM_300, grey=175)),           # faint pencil
    "q8.kompetencja.4": ("?", lambda p, r: cross(p, r, 2 * MM_300, size=0.2)),              # tiny 1 mm cross
    "q8.informacja.1": ("?", lambda p, r: slash(p, r, 2 * MM_300, size=0.35)),              # partial stroke
    "q8.terminowosc.2": ("?", lambda p, r: speck(p, *p.centre(r)[:2], 0.4, 30)),            # a pen dot
    "q10.prasa.negatywnie": ("empty", lambda p, r: specks(p, r, 3)),                        # dust
    "q10.internet.pozytywnie": ("empty", lambda p, r: specks(p, r, 2)),
}


@pytest.mark.parametrize(("dpi", "kind"), [(300, "clean"), (300, "office"), (200, "jpeg"), (150, "blur"), (600, "noise"),
                                           (200, "paper")])
def test_ambiguous_marks_are_never_confidently_wrong(form: Form, dpi: int, kind: str) -> None:
    """Not under a bilevel scan: thresholding at 50 % erases pale pencil from the image itself."""
    plan = {k: how for k, (_, how) in HARD_P2.items()}
    img, reg = scan(form, 2, dpi, draw_each(plan), kind, 0.6, seed=dpi + 7)
    got = by_id(read_boxes(img, reg, form.pages[1], form.layout)[0])
    for box_id, (truth, _) in HARD_P2.items():
        r = got[box_id]
        if truth == "?":
            assert r.state == "uncertain", r
        elif truth == "mark":
            assert r.state in ("marked", "uncertain"), r      # faint pencil: seen, or shown to a person
        else:
            assert r.state in ("empty", "uncertain"), r       # dust never becomes an answer
    # at the resolution dust is resolved, it is simply empty
    if dpi >= 300:
        assert got["q10.prasa.negatywnie"].state == got["q10.internet.pozytywnie"].state == "empty"


def test_confidence_orders_clear_above_hard(form: Form) -> None:
    plan = dict(CLEAR_P2)
    plan.update({k: how for k, (_, how) in HARD_P2.items() if k not in CLEAR_P2})
    img, reg = scan(form, 2, 300, draw_each(plan), "office", 0.4, seed=3)
    got = by_id(read_boxes(img, reg, form.pages[1], form.layout)[0])
    clear = [got[k].confidence for k in CLEAR_P2] + [
        r.confidence for k, r in got.items() if k not in plan]
    # the genuinely ambiguous ones (a faint pencil cross read as marked is right, not "hard")
    hard = [got[k].confidence for k, (truth, _) in HARD_P2.items() if truth == "?" or got[k].state == "uncertain"]
    assert len(hard) >= 3
    assert min(clear) > max(hard)
    assert min(clear) >= 0.9 and max(hard) < 0.5


# --- the marking convention and question rules -------------------------------------------------------

def test_filled_box_next_to_a_cross_is_a_cancellation(form: Form) -> None:
    plan = {
        "q1.kobieta": lambda p, r: fill(p, r),                    # single choice: filled, then
        "q1.mezczyzna": lambda p, r: cross(p, r),                 # ... the right answer crossed
        "q3.raz-w-roku": lambda p, r: fill(p, r, scribble=True),  # a scribbled fill, with
        "q3.kilka-w-roku": lambda p, r: tick(p, r),               # ... a tick elsewhere
        "q7.brak-trudnosci": lambda p, r: fill(p, r),             # multi: cancelled one,
        "q7.inne": lambda p, r: cross(p, r),                      # ... chose another
        "q6.tak": lambda p, r: fill(p, r),                        # filled with nothing else: ask a person
    }
    for kind in ("clean", "office"):
        img, reg = scan(form, 1, 300, draw_each(plan), kind)
        readings, issues = read_boxes(img, reg, form.pages[0], form.layout)
        got = by_id(readings)
        for cancelled in ("q1.kobieta", "q3.raz-w-roku", "q7.brak-trudnosci"):
            r = got[cancelled]
            assert (r.state, r.reason, r.metrics["filled"]) == ("empty", "anulowane (zamalowane)", 1.0), r
            assert r.confidence >= 0.9
        for crossed in ("q1.mezczyzna", "q3.kilka-w-roku", "q7.inne"):
            assert got[crossed].state == "marked"
        alone = got["q6.tak"]
        assert alone.state == "uncertain" and "zamalowana" in alone.reason and alone.metrics["filled"] == 1.0
        assert issues == ()


def test_filled_cell_in_a_grid_row(form: Form) -> None:
    plan = {"q8.uprzejmosc.2": lambda p, r: fill(p, r), "q8.uprzejmosc.4": lambda p, r: cross(p, r),
            "q8.sprawnosc.5": lambda p, r: fill(p, r, scribble=True),
            "q8.kompetencja.3": lambda p, r: cross(p, r)}   # a cross in another row does not cancel
    img, reg = scan(form, 2, 300, draw_each(plan), "jpeg")
    got = by_id(read_boxes(img, reg, form.pages[1], form.layout)[0])
    assert (got["q8.uprzejmosc.2"].state, got["q8.uprzejmosc.2"].reason) == ("empty", "anulowane (zamalowane)")
    assert got["q8.uprzejmosc.4"].state == "marked"
    assert got["q8.sprawnosc.5"].state == "uncertain"


def test_double_marks_are_an_issue_only_where_one_answer_is_expected(form: Form) -> None:
    plan1 = {"q1.kobieta": cross, "q1.mezczyzna": cross,               # single: two crosses
             "q7.brak-trudnosci": cross, "q7.inne": cross}             # multi: fine
    img, reg = scan(form, 1, 300, draw_each(plan1), "office")
    _, issues = read_boxes(img, reg, form.pages[0], form.layout)
    assert issues == ("q1: więcej niż jedno zaznaczenie",)
    plan2: dict[str, Callable[..., object]] = {"q8.sprawnosc.1": cross, "q8.sprawnosc.5": tick, "q8.kompetencja.3": cross}
    img, reg = scan(form, 2, 300, draw_each(plan2), "office")
    readings, issues = read_boxes(img, reg, form.pages[1], form.layout)
    assert len(issues) == 1 and issues[0].startswith("q8: ") and "sprawnosc" in issues[0]
    assert "więcej niż jedno zaznaczenie" in issues[0]
    # the boxes keep their own reading: a person decides what the answer is
    assert by_id(readings)["q8.sprawnosc.1"].state == by_id(readings)["q8.sprawnosc.5"].state == "marked"


def test_nothing_marked_is_no_issue(form: Form) -> None:
    for page in (1, 2):
        img, reg = scan(form, page, 200, lambda pen, pg: None, "office")
        readings, issues = read_boxes(img, reg, form.pages[page - 1], form.layout)
        assert issues == ()
        assert all(r.state == "empty" and r.confidence >= 0.9 for r in readings)


# --- many boxes ---------------------------------------------------------------------------------------

def test_statistical_zero_wrong_confident_states(form: Form) -> None:
    """~1000 boxes of random clear marks and empties on randomly degraded, skewed, misregistered scans."""
    total = wrong = flagged = 0
    failures = []
    n = 0
    while total < 1000:
        rng = np.random.default_rng(1000 + n)
        dpi = int(rng.choice([150, 200, 300]))
        kind = str(rng.choice(["clean", "blur", "jpeg", "noise", "paper", "bilevel", "office", "office"]))
        page = 1 + n % 2
        truth: dict[str, str] = {}

        def draw(pen: Pen, pg: PageGeometry, truth: dict[str, str] = truth, kind: str = kind) -> None:
            for b in pg.boxes:
                if pen.rng.random() < 0.4:
                    how = random_clear_mark(pen, b.rect)
                    # light pencil vanishes in a bilevel scan: nothing left to read, not a reader error
                    truth[b.id] = "lost" if how == "pencil" and kind == "bilevel" else "marked"
                else:
                    truth[b.id] = "empty"

        img, reg = scan(form, page, dpi, draw, kind, float(rng.uniform(-2, 2)), 1000 + n,
                        (float(rng.uniform(-1, 1)), float(rng.uniform(-1, 1))))
        for r in read_boxes(img, reg, form.pages[page - 1], form.layout)[0]:
            if truth[r.box_id] == "lost":
                continue
            total += 1
            if r.state == "uncertain":
                flagged += 1
            elif r.state != truth[r.box_id]:
                wrong += 1
                failures.append((dpi, kind, r))
        n += 1
    print(f"\n{total} boxes on {n} pages: {wrong} wrong, {flagged} flagged ({100 * flagged / total:.2f} %)")
    assert wrong == 0, failures[:5]
    assert flagged / total <= 0.02


# --- free-text areas ----------------------------------------------------------------------------------

def handwriting(pen: Pen, r: Rect, text: str = "Urlop zdrowotny", line: int = 1) -> None:
    s = pen.dpi / 72.0
    pitch = 8 * 72 / 25.4
    org = (round((r.x + 8) * s), round((r.y + line * pitch - 4) * s))
    cv2.putText(pen.img, text, org, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, pen.dpi / 300 * 1.2, 30,
                max(round(pen.dpi / 150), 1), cv2.LINE_AA)


@pytest.mark.parametrize(("dpi", "kind"), [(300, "clean"), (300, "office"), (150, "bilevel"), (200, "noise"), (600, "jpeg")])
def test_text_areas_with_and_without_handwriting(form: Form, dpi: int, kind: str) -> None:
    def draw(pen: Pen, pg: PageGeometry) -> None:
        handwriting(pen, pg.text_areas[0].rect)                        # q8.uwagi.text: written in
        empty = pg.text_areas[1].rect                                  # uwagi.text: only dust on its guide lines
        for _ in range(15):
            speck(pen, pen.rng.uniform(empty.x, empty.right) * pen.dpi / 72,
                  pen.rng.uniform(empty.y, empty.bottom) * pen.dpi / 72, pen.rng.uniform(0.05, 0.2))
        cross(pen, pg.box("q8.uprzejmosc.3").rect)
    img, reg = scan(form, 2, dpi, draw, kind, 0.7, seed=dpi)
    texts = read_text_areas(img, reg, form.pages[1])
    assert [t.area_id for t in texts] == ["q8.uwagi.text", "uwagi.text"]
    written, empty = texts
    assert written.has_ink and written.ink_ratio > 0.001
    assert not empty.has_ink and empty.crop_png == b""
    crop = cv2.imdecode(np.frombuffer(written.crop_png, np.uint8), cv2.IMREAD_UNCHANGED)
    assert crop is not None and crop.ndim == 2 and crop.dtype == np.uint8
    r = form.pages[1].text_areas[0].rect
    px_per_mm = crop.shape[1] / (r.w * 25.4 / 72 + 4.0)    # the crop has a 2 mm margin each side
    assert px_per_mm <= 200 / 25.4 + 0.05
    assert px_per_mm == pytest.approx(min(dpi, 200) / 25.4, rel=0.02)


@pytest.mark.parametrize("error_mm", [(0.0, 0.0), (0.0, 1.3), (1.5, -1.5)])
def test_blank_text_areas_hold_no_ink_even_when_registration_is_off(form: Form, error_mm: tuple[float, float]) -> None:
    """The labels printed just above the areas must not slide in: the guide lines re-align each area."""
    for page in (1, 2):
        for kind in ("office", "bilevel"):
            img, reg = scan(form, page, 300, lambda pen, pg: None, kind, -1.0, error_mm=error_mm)
            assert all(not t.has_ink and t.crop_png == b"" for t in read_text_areas(img, reg, form.pages[page - 1]))


# --- speed --------------------------------------------------------------------------------------------

def test_read_boxes_speed(form: Form) -> None:
    """Reported, loosely bounded: the product needs detection well under ~30 ms a page (shared CI machine)."""
    plan = {b.id: cross for i, b in enumerate(form.pages[1].boxes) if i % 4 == 0}
    img, reg = scan(form, 2, 300, draw_each(plan), "office")
    read_boxes(img, reg, form.pages[1], form.layout)
    times = []
    for _ in range(5):
        t = time.perf_counter()
        read_boxes(img, reg, form.pages[1], form.layout)
        times.append(time.perf_counter() - t)
    best = min(times) * 1000
    print(f"\nread_boxes: {best:.1f} ms for {len(form.pages[1].boxes)} boxes at 300 DPI")
    assert best < 100
