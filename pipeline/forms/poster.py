"""The "Oceń Urząd" invitation to the online survey: an A4 poster PDF with a QR code (for the service desks)
and the banner (SVG + PNG) with its HTML snippet that the office embeds on its home page (ordinances 000-002).

The banner has no office data in it, so its files are committed in pipeline/web/static/ as this module's
output; regenerate them with `ankieta banner -o pipeline/web/static` (tests/test_poster.py checks they match).
The SVG names generic fonts only (no web fonts: a CSP-strict or offline site shows it the same way) and pins
every text's width to the DejaVu Sans measurement, so a different sans-serif cannot overflow the tile.
"""

from __future__ import annotations

import html
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.colors import Color, HexColor
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from pipeline.base import config as C
from pipeline.base.errors import InvalidInput, NotFound
from pipeline.base.geometry import Rect, mm
from pipeline.base.typeface import FONT, FONT_BOLD, font_file, register_fonts
from pipeline.forms.render import draw_qr, wrap
from pipeline.records.office import Office

BANNER_PNG = "ocen-urzad.png"
BANNER_SVG = "ocen-urzad.svg"
# Colours shared with public.css. White and the yellow on the banner's blue: 8.0:1 and 6.0:1 (WCAG AA: 4.5:1).
BLUE = "#0b4f9c"
BLUE_DARK = "#083a73"
WHITE = "#ffffff"
YELLOW = "#ffdd00"
INK = "#1b1b1b"
TITLE = "Oceń Urząd"
SUBTITLE = "Wypełnij ankietę"
PAPER_NOTE = ("Wolisz papier? Ankiety papierowe są też dostępne przy stanowiskach obsługi. "
              "Wypełnioną ankietę wrzuć do urny.")


# --- which survey, at which address ---------------------------------------------------------------

@dataclass(frozen=True)
class PublishedForm:
    form: str
    title: str


def published_forms(versions: Iterable[Mapping[str, Any]]) -> list[PublishedForm]:
    """The forms one can invite people to, the office's main form (the first one published) first.

    `versions` are rows with form, version, title, published_at (store.list_form_versions); the title shown
    is the newest version's, as that is what the survey page renders.
    """
    first: dict[str, str] = {}
    newest: dict[str, tuple[int, str]] = {}
    for row in versions:
        form = str(row["form"])
        first[form] = min(first.get(form, row["published_at"]), row["published_at"])
        if form not in newest or row["version"] > newest[form][0]:
            newest[form] = (int(row["version"]), str(row["title"]))
    return [PublishedForm(f, newest[f][1]) for f in sorted(first, key=lambda f: (first[f], f))]


def choose_form(forms: Sequence[PublishedForm], wanted: str | None) -> PublishedForm | None:
    """`wanted` when given, otherwise the office's main form; None when nothing is published yet."""
    if not wanted:
        return forms[0] if forms else None
    for f in forms:
        if f.form == wanted:
            return f
    names = ", ".join(f.form for f in forms)
    raise NotFound(f"Ankieta {wanted!r} nie jest opublikowana. "
                   + (f"Opublikowane: {names}." if names else "Żadna ankieta nie jest jeszcze opublikowana."))


def survey_url(base: str, form: str) -> str:
    """The public survey page of `form` under the server's base address (Office.public_url)."""
    if not base.startswith(("http://", "https://")):
        raise InvalidInput(f"Adres serwera ankiety {base!r} jest niepoprawny: podaj pełny adres, np. https://ankieta.lesko.pl "
                           "(ankieta office set --public-url ...).")
    return f"{base.rstrip('/')}/ankieta/{quote(form, safe='')}"


def banner_alt(office: Office) -> str:
    """The banner's text alternative: its words and where the link goes (WCAG 1.1.1 and 2.4.4)."""
    return f"{TITLE} – wypełnij ankietę satysfakcji {office.respondent}a"


def banner_snippet(office: Office, base: str, form: str) -> str:
    """The HTML the webmaster pastes into the office's page: a plain link around the PNG, no script, no style,
    so any CMS accepts it; width and height keep the page from jumping while the image loads."""
    href = html.escape(survey_url(base, form))
    src = html.escape(f"{base.rstrip('/')}/static/{BANNER_PNG}")
    return (f'<a href="{href}"><img src="{src}" alt="{html.escape(banner_alt(office))}" '
            f'width="{C.BANNER_WIDTH_PX}" height="{C.BANNER_HEIGHT_PX}"></a>')


# --- the banner: one drawing, written as SVG and painted as PNG ------------------------------------

@dataclass(frozen=True)
class BannerText:
    text: str
    x: float
    baseline: float
    size: float           # CSS pixels
    bold: bool
    color: str
    length: float         # advance width in DejaVu Sans at `size`, pinned in the SVG (textLength)


@dataclass(frozen=True)
class Banner:
    width: int
    height: int
    background: str
    radius: float
    icon: Rect            # white tile with a tick: the survey's check box
    tick: tuple[tuple[float, float], ...]
    tick_width: float
    texts: tuple[BannerText, ...]


@cache
def _font(bold: bool, size_px: float) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    with resources.as_file(font_file(name)) as path:
        return ImageFont.truetype(str(path), size=size_px)


def _fitted(text: str, bold: bool, size: float, width: float) -> tuple[float, float]:
    """The largest size up to `size` (in 0.5 px steps) at which `text` fits `width`, and its length."""
    while size > 6 and _font(bold, size).getlength(text) > width:
        size -= 0.5
    return size, float(_font(bold, size).getlength(text))


def banner() -> Banner:
    w, h = C.BANNER_WIDTH_PX, C.BANNER_HEIGHT_PX
    side = h * 0.56
    icon = Rect(h * 0.16, (h - side) / 2, side, side)
    tick = ((icon.x + side * 0.2, icon.y + side * 0.52), (icon.x + side * 0.42, icon.y + side * 0.74),
            (icon.x + side * 0.8, icon.y + side * 0.28))
    left = icon.right + h * 0.14
    room = w - left - h * 0.12
    title_size, title_len = _fitted(TITLE, True, h * 0.3, room)
    sub_size, sub_len = _fitted(SUBTITLE, False, h * 0.19, room)
    return Banner(w, h, BLUE, h * 0.1, icon, tick, side * 0.13, (
        BannerText(TITLE, left, h * 0.5, title_size, True, WHITE, title_len),
        BannerText(SUBTITLE, left, h * 0.77, sub_size, False, YELLOW, sub_len),
    ))


def _n(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def banner_svg(spec: Banner | None = None) -> str:
    b = spec or banner()
    label = f"{TITLE} – {SUBTITLE.lower()}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{b.width}" height="{b.height}" '
        f'viewBox="0 0 {b.width} {b.height}" role="img" aria-labelledby="baner-tytul" lang="pl">',
        f'<title id="baner-tytul">{html.escape(label)}</title>',
        f'<rect width="{b.width}" height="{b.height}" rx="{_n(b.radius)}" fill="{b.background}"/>',
        f'<rect x="{_n(b.icon.x)}" y="{_n(b.icon.y)}" width="{_n(b.icon.w)}" height="{_n(b.icon.h)}" '
        f'rx="{_n(b.radius * 0.8)}" fill="{WHITE}"/>',
        f'<polyline points="{" ".join(f"{_n(x)},{_n(y)}" for x, y in b.tick)}" fill="none" stroke="{b.background}" '
        f'stroke-width="{_n(b.tick_width)}" stroke-linecap="round" stroke-linejoin="round"/>',
    ]
    for t in b.texts:
        weight = ' font-weight="bold"' if t.bold else ""
        parts.append(
            f'<text x="{_n(t.x)}" y="{_n(t.baseline)}" font-family="\'DejaVu Sans\', Verdana, Arial, sans-serif" '
            f'font-size="{_n(t.size)}"{weight} fill="{t.color}" textLength="{_n(t.length)}" '
            f'lengthAdjust="spacingAndGlyphs">{html.escape(t.text)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def banner_png(spec: Banner | None = None, scale: int = C.BANNER_PNG_SCALE) -> bytes:
    """The same drawing painted by Pillow at `scale` pixels per CSS pixel (transparent outside the corners)."""
    b = spec or banner()
    img = Image.new("RGBA", (b.width * scale, b.height * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((0, 0, b.width * scale - 1, b.height * scale - 1), radius=b.radius * scale, fill=b.background)
    i = b.icon
    draw.rounded_rectangle((i.x * scale, i.y * scale, i.right * scale, i.bottom * scale), radius=b.radius * 0.8 * scale,
                           fill=WHITE)
    points = [(x * scale, y * scale) for x, y in b.tick]
    width = round(b.tick_width * scale)
    draw.line(points, fill=b.background, width=width, joint="curve")
    for x, y in (points[0], points[-1]):       # round caps, as in the SVG
        draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=b.background)
    for t in b.texts:
        draw.text((t.x * scale, t.baseline * scale), t.text, font=_font(t.bold, t.size * scale), fill=t.color, anchor="ls")
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


# --- the A4 poster -----------------------------------------------------------------------------------

LEAD = 1.25                 # line height as a multiple of the font size
INNER_GAP_PT = 6.0          # between the lines of one group (label and its QR code) ...
MAX_GAP_PT = 40.0           # ... and at most this between groups; the rest of the page stays at the bottom


@dataclass(frozen=True)
class _Text:
    lines: tuple[str, ...]
    font: str
    size: float
    color: Color

    @property
    def height(self) -> float:
        return len(self.lines) * self.size * LEAD


@dataclass(frozen=True)
class _Code:
    payload: str
    size: float

    @property
    def height(self) -> float:
        return self.size


@dataclass(frozen=True)
class _Boxed:
    text: _Text
    padding: float

    @property
    def height(self) -> float:
        return self.text.height + 2 * self.padding


_Block = _Text | _Code | _Boxed


def _text(text: str, font: str, size: float, color: str, width: float, max_lines: int = 4) -> _Text:
    lines = wrap(text, font, size, width, keep_single_letters=True)
    while len(lines) > max_lines and size > 8:       # an unusually long office name: smaller, never cut
        size -= 1
        lines = wrap(text, font, size, width, keep_single_letters=True)
    return _Text(tuple(lines), font, size, HexColor(color))


def _url_text(url: str, width: float) -> _Text:
    """The address on one line if it fits at a readable size; otherwise broken after '/' or anywhere."""
    size = C.POSTER_URL_PT
    while size > C.POSTER_URL_MIN_PT and pdfmetrics.stringWidth(url, FONT_BOLD, size) > width:
        size -= 0.5
    if pdfmetrics.stringWidth(url, FONT_BOLD, size) > width:
        size = C.POSTER_BODY_PT - 2      # it will be broken anyway: two readable lines beat two tiny ones
    lines: list[str] = []
    rest = url
    while pdfmetrics.stringWidth(rest, FONT_BOLD, size) > width:
        cut = len(rest)
        while cut > 1 and pdfmetrics.stringWidth(rest[:cut], FONT_BOLD, size) > width:
            cut -= 1
        slash = rest.rfind("/", 0, cut)
        cut = slash + 1 if slash > cut // 2 else cut
        lines.append(rest[:cut])
        rest = rest[cut:]
    lines.append(rest)
    return _Text(tuple(lines), FONT_BOLD, size, HexColor(BLUE_DARK))


def _groups(office: Office, url: str, width: float) -> list[list[_Block]]:
    return [
        [_text(TITLE, FONT_BOLD, C.POSTER_TITLE_PT, BLUE_DARK, width, 1),
         _text(f"Ankieta satysfakcji {office.respondent}a", FONT, C.POSTER_OFFICE_PT, INK, width)],
        [_text(office.name, FONT_BOLD, C.POSTER_OFFICE_PT, INK, width, 3)],
        [_text("Jak oceniasz załatwienie swojej sprawy? Twoja opinia pomoże nam pracować lepiej. "
               "Ankieta jest anonimowa i zajmuje kilka minut.", FONT, C.POSTER_BODY_PT, INK, width)],
        [_text("Zeskanuj kod aparatem telefonu:", FONT_BOLD, C.POSTER_BODY_PT, INK, width),
         _Code(url, mm(C.POSTER_QR_SIZE_MM)),
         _text("albo wpisz w przeglądarce adres:", FONT, C.POSTER_BODY_PT - 2, INK, width),
         _url_text(url, width)],
        [_Boxed(_text(PAPER_NOTE, FONT, C.POSTER_BODY_PT - 2, INK, width - mm(12)), mm(5))],
        [_text("Dziękujemy!", FONT_BOLD, C.POSTER_OFFICE_PT + 4, BLUE_DARK, width)],
    ]


def _draw_text(cv: Canvas, t: _Text, y: float, page_h: float) -> None:
    cv.setFillColor(t.color)
    cv.setFont(t.font, t.size)
    for n, line in enumerate(t.lines):
        baseline = y + n * t.size * LEAD + t.size * 0.95
        cv.drawCentredString(C.PAGE_WIDTH_PT / 2, page_h - baseline, line)


def _draw_block(cv: Canvas, block: _Block, y: float, left: float, width: float, page_h: float) -> None:
    if isinstance(block, _Text):
        _draw_text(cv, block, y, page_h)
    elif isinstance(block, _Code):
        draw_qr(cv, block.payload, Rect((C.PAGE_WIDTH_PT - block.size) / 2, y, block.size, block.size), page_h)
    else:
        cv.setStrokeColor(HexColor(BLUE_DARK))
        cv.setLineWidth(1.5)
        cv.roundRect(left, page_h - y - block.height, width, block.height, mm(3), stroke=1, fill=0)
        _draw_text(cv, block.text, y + block.padding, page_h)


def poster_pdf(office: Office, url: str) -> bytes:
    """One A4 page: title, office, invitation, the QR code of `url` with the address in text, the paper option."""
    register_fonts()
    page_w, page_h = C.PAGE_WIDTH_PT, C.PAGE_HEIGHT_PT
    margin = mm(C.POSTER_MARGIN_MM)
    width = page_w - 2 * margin
    groups = _groups(office, url, width)
    footer = _text(office.address, FONT, C.POSTER_BODY_PT - 4, INK, width, 2) if office.address else None
    bottom = page_h - margin - (footer.height + mm(4) if footer else 0)
    heights = [sum(b.height for b in g) + INNER_GAP_PT * (len(g) - 1) for g in groups]
    gap = max(INNER_GAP_PT, min(MAX_GAP_PT, (bottom - margin - sum(heights)) / (len(groups) - 1)))

    buf = io.BytesIO()
    cv = Canvas(buf, pagesize=(page_w, page_h), pageCompression=1)
    cv.setTitle(f"{TITLE} – ankieta satysfakcji {office.respondent}a")
    cv.setAuthor(office.name)
    cv.setSubject(url)
    cv.setCreator("ankieta")
    # a frame in the office's blue: the sheet reads as one notice among the papers on a desk
    cv.setStrokeColor(HexColor(BLUE))
    cv.setLineWidth(4)
    cv.roundRect(margin / 2, margin / 2, page_w - margin, page_h - margin, mm(5), stroke=1, fill=0)
    y = margin
    for group in groups:
        for block in group:
            _draw_block(cv, block, y, margin, width, page_h)
            y += block.height + INNER_GAP_PT
        y += gap - INNER_GAP_PT
    if footer:
        _draw_text(cv, footer, page_h - margin - footer.height, page_h)
    cv.showPage()
    cv.save()
    return buf.getvalue()


def poster_filename(form: str) -> str:
    return f"plakat-ocen-urzad-{form}.pdf"


def banner_files() -> Sequence[tuple[str, bytes]]:
    """The banner as the files the office's web server (or ours, in static/) publishes."""
    return ((BANNER_SVG, banner_svg().encode()), (BANNER_PNG, banner_png()))
