"""The bundled typeface (DejaVu Sans, files in base/fonts/): every PDF and image the product draws uses it,
because reportlab's built-in fonts draw black squares for ą ę ł ń ś ź ż."""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.abc import Traversable

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"


def font_file(name: str) -> Traversable:
    """A bundled font file by its file name (e.g. "DejaVuSans.ttf")."""
    return resources.files("pipeline.base").joinpath("fonts", name)


@cache
def register_fonts() -> None:
    """Register the bundled DejaVu Sans (covers ą ę ł ń ó ś ź ż; reportlab's built-ins do not)."""
    for name, file in ((FONT, "DejaVuSans.ttf"), (FONT_BOLD, "DejaVuSans-Bold.ttf")):
        with resources.as_file(font_file(file)) as path:
            pdfmetrics.registerFont(TTFont(name, str(path)))
