"""Vector charts of the PDF protocol (reportlab.graphics), in black and greys so a photocopy loses nothing.

- `interval_bars`: horizontal bars of shares, means or indexes with their 95 % interval as a whisker and the
  previous period as a thin light bar; the value axis starts at the scale's minimum (a mean on 1-5 starts at 1),
  every bar carries its figure; an item below the minimum n gets no bar, only its count.
- `trend_chart`: the index over the trend's periods, a point and a whisker per period.
- `sparkline`: a small line per trend row, for the trend table.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.units import mm

from pipeline.base.typeface import FONT, FONT_BOLD
from pipeline.report import wording as W
from pipeline.report.stats import Measure

DARK, LIGHT, RULE = colors.Color(0.3, 0.3, 0.3), colors.Color(0.8, 0.8, 0.8), colors.Color(0.55, 0.55, 0.55)
LABEL_W = 62 * mm
VALUE_W = 24 * mm


def _short(text: str, limit: int = 46) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ticks(lo: float, hi: float) -> list[float]:
    span = hi - lo
    step = 1.0 if span <= 10 else (10.0 if span <= 100 else span / 5)
    if span == 100:
        step = 20.0
    out, v = [], lo
    while v <= hi + 1e-9:
        out.append(v)
        v += step
    return out


def interval_bars(items: Sequence[tuple[str, Measure]], width: float, low: float, high: float) -> Drawing:
    """One row per item: label, a dark bar from `low` to the value with the interval's whisker, a light bar for the
    previous period, the value printed at the right."""
    has_prev = any(m.previous_value is not None for _, m in items)
    row_h = 17.0 if has_prev else 13.0
    axis_h = 12.0
    height = row_h * len(items) + axis_h + 2
    d = Drawing(width, height)
    x0, x1 = LABEL_W, width - VALUE_W
    span = high - low

    def x(v: float) -> float:
        return x0 + (x1 - x0) * (min(max(v, low), high) - low) / span

    for t in _ticks(low, high):
        d.add(Line(x(t), axis_h, x(t), height, strokeColor=LIGHT, strokeWidth=0.3))
        d.add(String(x(t), axis_h - 9, W.num(t, 0) + (" %" if items and items[0][1].kind == "share" else ""),
                     fontName=FONT, fontSize=6.5, textAnchor="middle"))
    d.add(Line(x0, axis_h, x1, axis_h, strokeColor=RULE, strokeWidth=0.5))
    for i, (label, m) in enumerate(items):
        top = height - row_h * i
        d.add(String(x0 - 3, top - 9.5, _short(label), fontName=FONT, fontSize=7, textAnchor="end"))
        if m.value is None:
            shown = W.value(m) if m.kind == "share" else f"n = {m.n}"
            d.add(String(x0 + 2, top - 9.5, f"za mało odpowiedzi ({shown})" if m.n else "brak odpowiedzi",
                         fontName=FONT, fontSize=6.5, fillColor=DARK))
            continue
        d.add(Rect(x0, top - 11, x(m.value) - x0, 8, fillColor=DARK, strokeColor=colors.black, strokeWidth=0.3))
        if m.interval is not None:
            lo, hi = m.interval
            mid = top - 7
            d.add(Line(x(lo), mid, x(hi), mid, strokeColor=colors.black, strokeWidth=0.8))
            for end in (lo, hi):
                d.add(Line(x(end), mid - 3, x(end), mid + 3, strokeColor=colors.black, strokeWidth=0.8))
        if m.previous_value is not None:
            d.add(Rect(x0, top - 15.5, x(m.previous_value) - x0, 3.5, fillColor=LIGHT, strokeColor=RULE, strokeWidth=0.2))
        d.add(String(x1 + 3, top - 9.5, W.value(m), fontName=FONT_BOLD, fontSize=7))
    return d


def trend_chart(labels: Sequence[str], values: Sequence[Measure], width: float, low: float = 0, high: float = 100,
                height: float = 52 * mm) -> Drawing:
    """Points with 95 % whiskers over the periods, joined by a line where consecutive values are shown."""
    d = Drawing(width, height)
    left, bottom, right, top = 14 * mm, 16, width - 6 * mm, height - 8
    n = len(labels)

    def px(i: int) -> float:
        return left + (right - left) * (i + 0.5) / max(n, 1)

    def py(v: float) -> float:
        return bottom + (top - bottom) * (min(max(v, low), high) - low) / (high - low)

    for t in _ticks(low, high):
        d.add(Line(left, py(t), right, py(t), strokeColor=LIGHT, strokeWidth=0.3))
        d.add(String(left - 3, py(t) - 2.5, W.num(t, 0), fontName=FONT, fontSize=6.5, textAnchor="end"))
    d.add(Line(left, bottom, right, bottom, strokeColor=RULE, strokeWidth=0.5))
    points: list[tuple[float, float] | None] = []
    for i, (label, m) in enumerate(zip(labels, values, strict=True)):
        d.add(String(px(i), bottom - 10, _short(label, 22), fontName=FONT, fontSize=6.5, textAnchor="middle"))
        if m.value is None:
            d.add(String(px(i), py((low + high) / 2), "–", fontName=FONT, fontSize=8, textAnchor="middle"))
            points.append(None)
            continue
        if m.interval is not None:
            lo, hi = m.interval
            d.add(Line(px(i), py(lo), px(i), py(hi), strokeColor=colors.black, strokeWidth=0.8))
            for end in (lo, hi):
                d.add(Line(px(i) - 3, py(end), px(i) + 3, py(end), strokeColor=colors.black, strokeWidth=0.8))
        points.append((px(i), py(m.value)))
        d.add(String(px(i) + 5, py(m.value) + 2, W.num(m.value, 1), fontName=FONT_BOLD, fontSize=7))
    for a, b in pairwise(points):
        if a and b:
            d.add(Line(a[0], a[1], b[0], b[1], strokeColor=DARK, strokeWidth=1))
    for p in points:
        if p:
            d.add(Circle(p[0], p[1], 2.2, fillColor=colors.black, strokeColor=colors.black))
    return d


def sparkline(values: Sequence[Measure], low: float, high: float, width: float = 18 * mm, height: float = 7 * mm) -> Drawing:
    """The series in its own range (at least 1/20 of the scale, so noise does not fill the box), last point bold."""
    d = Drawing(width, height)
    n = len(values)
    shown = [m.value for m in values if m.value is not None]
    if shown:
        least = (high - low) / 20
        mid = (max(shown) + min(shown)) / 2
        half = max(max(shown) - min(shown), least) / 2
        low, high = mid - half, mid + half
    pts = [(2 + (width - 4) * (i + 0.5) / n, 1.5 + (height - 3) * (m.value - low) / (high - low))
           for i, m in enumerate(values) if m.value is not None]
    if len(pts) > 1:
        d.add(PolyLine([c for p in pts for c in p], strokeColor=DARK, strokeWidth=0.8))
    for i, p in enumerate(pts):
        d.add(Circle(p[0], p[1], 1.6 if i == len(pts) - 1 else 0.9, fillColor=colors.black, strokeColor=colors.black))
    return d
