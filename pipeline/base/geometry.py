"""Plain geometry: rectangles in PDF points (origin top-left, y down) and unit conversions.

Everything the printer and the reader agree on is expressed with these types, so a box means the same
place on paper whether it is being drawn or measured.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.base.config import PT_PER_MM


def mm(value_mm: float) -> float:
    """Millimetres to PDF points."""
    return value_mm * PT_PER_MM


def pt_to_px(value_pt: float, dpi: float) -> float:
    """PDF points to pixels at a given resolution."""
    return value_pt * dpi / 72.0


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle: (x, y) is the top-left corner, in PDF points from the page's top-left."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def center(self) -> Point:
        return Point(self.x + self.w / 2, self.y + self.h / 2)

    def inset(self, d: float) -> Rect:
        """Shrink (positive d) or grow (negative d) on every side."""
        return Rect(self.x + d, self.y + d, self.w - 2 * d, self.h - 2 * d)

    def corners(self) -> tuple[Point, Point, Point, Point]:
        """Top-left, top-right, bottom-right, bottom-left."""
        return (
            Point(self.x, self.y),
            Point(self.right, self.y),
            Point(self.right, self.bottom),
            Point(self.x, self.bottom),
        )

    def rounded(self, ndigits: int = 2) -> Rect:
        return Rect(round(self.x, ndigits), round(self.y, ndigits), round(self.w, ndigits), round(self.h, ndigits))

    def as_dict(self) -> dict[str, float]:
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h}
