"""The report as a PDF the office's quality representative signs (reportlab platypus).

Polish text in the bundled DejaVu Sans; vector bar charts (reportlab.graphics) in black and greys with the
figure printed beside every bar, so a black-and-white copy loses nothing; "Strona X z Y" on every page; a
table of contents. Texts are listed without sheet numbers: the PDF may be published (BIP), and a sheet
number links a remark to the respondent's profile in the raw data.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable
from reportlab.platypus.tableofcontents import TableOfContents

from pipeline.base.typeface import FONT, FONT_BOLD, register_fonts
from pipeline.report import build as R

WIDTH = A4[0] - 36 * mm
DARK, LIGHT, RULE = colors.Color(0.25, 0.25, 0.25), colors.Color(0.78, 0.78, 0.78), colors.Color(0.5, 0.5, 0.5)

_BASE = ParagraphStyle("base", fontName=FONT, fontSize=9.5, leading=12.5)
S = {
    "title": ParagraphStyle("title", _BASE, fontName=FONT_BOLD, fontSize=17, leading=21, alignment=TA_CENTER),
    "sub": ParagraphStyle("sub", _BASE, fontSize=11, leading=14, alignment=TA_CENTER),
    "h1": ParagraphStyle("h1", _BASE, fontName=FONT_BOLD, fontSize=13, leading=16, spaceBefore=8, spaceAfter=5),
    "h1form": ParagraphStyle("h1form", _BASE, fontName=FONT_BOLD, fontSize=11.5, leading=14, spaceBefore=10, spaceAfter=2,
                             borderPadding=(2, 0, 2, 0)),
    "h2": ParagraphStyle("h2", _BASE, fontName=FONT_BOLD, fontSize=10.5, leading=13.5, spaceBefore=8, spaceAfter=3),
    "p": _BASE,
    "small": ParagraphStyle("small", _BASE, fontSize=8, leading=10),
    "cell": ParagraphStyle("cell", _BASE, fontSize=8.5, leading=10.5),
    "cellb": ParagraphStyle("cellb", _BASE, fontName=FONT_BOLD, fontSize=8.5, leading=10.5),
    "toc1": ParagraphStyle("toc1", _BASE, fontSize=10, leading=14),
}


def P(text: str, style: str = "p") -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), S[style])


class _Doc(SimpleDocTemplate):
    """Registers every h1 in the table of contents."""

    def afterFlowable(self, flowable: Flowable) -> None:
        if isinstance(flowable, Paragraph) and flowable.style.name == "h1":
            self.notify("TOCEntry", (0, flowable.getPlainText(), self.page))


def _numbered_canvas(footer: str) -> type[Canvas]:
    class NumberedCanvas(Canvas):
        """Defers page output so the footer can say "Strona X z Y"."""

        def __init__(self, *args: Any, **kw: Any) -> None:
            super().__init__(*args, **kw)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(FONT, 7.5)
                self.setFillColor(colors.black)
                self.drawString(18 * mm, 10 * mm, footer)
                self.drawRightString(A4[0] - 18 * mm, 10 * mm, f"Strona {self._pageNumber} z {len(self._pages)}")
                super().showPage()
            super().save()

    return NumberedCanvas


def _table(rows: Sequence[Sequence[Any]], widths: Sequence[float], align_right_from: int = 1,
           header: bool = True) -> Table:
    data = [[c if isinstance(c, Flowable) else P(str(c), "cellb" if header and i == 0 else "cell") for c in row]
            for i, row in enumerate(rows)]
    t = Table(data, colWidths=list(widths), repeatRows=1 if header else 0)
    style = [("GRID", (0, 0), (-1, -1), 0.4, RULE), ("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
             ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3)]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)))
    t.setStyle(TableStyle(style))
    return t


def _bars(labels: Sequence[str], values: Sequence[float], prev: Sequence[float | None] | None = None,
          value_max: float = 100.0, unit: str = "%", digits: int = 1) -> Drawing:
    """Horizontal bars, current period dark (upper bar), previous light; the value printed at every bar's end."""
    short = [lab if len(lab) <= 48 else lab[:46] + "…" for lab in labels]
    has_prev = prev is not None and any(p is not None for p in prev)
    # reportlab stacks a group's series bottom-up and categories bottom-up: feed both reversed
    series: list[list[float | None]] = [list(reversed(values))]
    if has_prev and prev is not None:
        series.insert(0, list(reversed(prev)))
    bar_h = 9 if has_prev else 11
    group = bar_h * len(series) + 6
    n = len(labels)
    height = group * n + 16
    d = Drawing(WIDTH, height)
    ch = HorizontalBarChart()
    ch.x, ch.y, ch.width, ch.height = 66 * mm, 12, WIDTH - 66 * mm - 22 * mm, group * n
    ch.data = [[v if v is not None else 0 for v in s] for s in series]
    ch.bars.strokeColor = colors.black
    ch.bars.strokeWidth = 0.3
    ch.bars[len(series) - 1].fillColor = DARK
    if has_prev:
        ch.bars[0].fillColor = LIGHT
    ch.barWidth, ch.groupSpacing, ch.barSpacing = bar_h, 6, 0
    ch.valueAxis.valueMin, ch.valueAxis.valueMax = 0, value_max
    ch.valueAxis.valueStep = value_max / 5
    ch.valueAxis.labels.fontName, ch.valueAxis.labels.fontSize = FONT, 7
    ch.valueAxis.labelTextFormat = lambda v: f"{v:.0f}{' %' if unit == '%' else ''}"
    ch.categoryAxis.categoryNames = list(reversed(short))
    ch.categoryAxis.labels.fontName, ch.categoryAxis.labels.fontSize = FONT, 7.5
    ch.categoryAxis.labels.boxAnchor = "e"
    ch.categoryAxis.labels.dx = -3
    d.add(ch)
    # value labels drawn by hand (bold: current period) so every bar carries its figure in black and white
    for i in range(n):
        for s_idx, s in enumerate(series):
            v = s[i]
            if v is None:
                continue
            y = ch.y + group * i + 3 + bar_h * s_idx + bar_h / 2 - 2.5
            x = ch.x + ch.width * min(v, value_max) / value_max + 3
            current = s_idx == len(series) - 1
            d.add(String(x, y, f"{R.num(v, digits)}{' %' if unit == '%' else ''}", fontName=FONT_BOLD if current else FONT,
                         fontSize=7))
    return d


def _legend(has_prev: bool) -> Paragraph | Spacer:
    if not has_prev:
        return Spacer(0, 2)
    return P("Słupki: ciemny — bieżący okres, jasny — okres poprzedni.", "small")


def _choice(rep: R.Report, q: R.QuestionReport) -> list[Flowable]:
    c = q.choice
    assert c is not None
    out: list[Flowable] = []
    base = "odsetek respondentów (można było wskazać kilka odpowiedzi)" if c.multi else "odsetek ważnych odpowiedzi"
    meta = f"n = {c.n}; {base}."
    if c.invalid:
        meta += f" Odpowiedzi nieważne: {c.invalid}."
    if c.no_answer:
        meta += f" Brak odpowiedzi: {c.no_answer}."
    out.append(P(meta, "small"))
    if not c.n:
        return out
    if c.suppressed:
        out.append(P(f"Wyników nie pokazano: mniej niż {rep.settings.min_cell} odpowiedzi (ochrona małych grup)."))
        return out
    rows: list[list[Any]] = [["Odpowiedź", "Liczba", "%", "Poprz. okres", "Zmiana"]]
    for cell in c.cells:
        label = cell.label + (f" ({', '.join(cell.merged)})" if cell.merged else "")
        rows.append([label, cell.count, R.pct(cell.pct), R.pct(cell.prev_pct), R.change(cell.change_pp)])
    out.append(_table(rows, [WIDTH - 110 * mm, 18 * mm, 22 * mm, 32 * mm, 38 * mm]))
    shown = [cell for cell in c.cells if cell.count or not c.protected]
    if shown and c.n:
        prev = [cell.prev_pct for cell in shown] if c.prev_n else None
        out += [Spacer(0, 3), _bars([cell.label for cell in shown], [cell.pct for cell in shown], prev),
                _legend(bool(prev and any(p is not None for p in prev)))]
    return out


def _grid(q: R.QuestionReport) -> list[Flowable]:
    g = q.grid
    assert g is not None
    out: list[Flowable] = []
    scored = [c for c in g.columns if c.scored]
    col_labels = [c.label if c.scored else f"{c.label}*" for c in g.columns]
    if scored:
        top = " i ".join(str(v) for v in g.top_values)
        # scored columns are headed by their value (word labels do not fit a narrow column): the key is printed
        key = ", ".join(f"{c.value} = {c.label}" for c in scored if c.label != str(c.value))
        extra = [c for c in g.columns if not c.scored]
        note = (f"Średnia liczona z ocen {scored[0].value}–{scored[-1].value}" + (f" ({key})" if key else "")
                + f"; „oceny najwyższe” = udział ocen {top}."
                + (" Kolumny oznaczone * (" + ", ".join(c.label for c in extra) + ") nie są wliczane do średniej."
                   if extra else ""))
        out.append(P(note, "small"))
        head = ["Pozycja", "n", "Średnia", "Zmiana", "Oceny najw.", "Zmiana",
                *(str(c.value) if c.scored else f"{c.label}*" for c in g.columns)]
        rows: list[list[Any]] = [head]
        for r in g.rows:
            rows.append([r.label, r.n, R.num(r.mean, 2), R.change(r.mean_change, "", 2), R.pct(r.top2_pct),
                         R.change(r.top2_change_pp), *(k for _, k in r.counts)])
        fixed = [9 * mm, 16 * mm, 17 * mm, 17 * mm, 21 * mm]
        widths = [7 * mm if c.scored else 19 * mm for c in g.columns]
        out.append(_table(rows, [WIDTH - sum(fixed) - sum(widths), *fixed, *widths]))
        rated = [r for r in g.rows if r.mean is not None]
        if rated:
            hi = float(scored[-1].value or 0)
            prev = [r.prev_mean for r in rated]
            out += [Spacer(0, 3), KeepTogether([
                P("Średnia ocena:", "small"),
                _bars([r.label for r in rated], [r.mean or 0.0 for r in rated], prev, value_max=hi, unit="", digits=2),
                _legend(any(p is not None for p in prev))])]
    else:
        rows = [["Pozycja", "n", *col_labels]]
        rows += [[r.label, sum(k for _, k in r.counts), *(k for _, k in r.counts)] for r in g.rows]
        k = len(g.columns)
        out.append(_table(rows, [WIDTH - 12 * mm - k * 24 * mm, 12 * mm, *([24 * mm] * k)]))
    return out


def _texts(items: Sequence[R.TextItem], title: str) -> list[Flowable]:
    if not items:
        return []
    out: list[Flowable] = [P(title, "h2")]
    for t in items:
        mark = " [skarga]" if t.complaint else ""
        out.append(P(f"• {t.text}{mark}", "cell"))
    return out


def _header(rep: R.Report) -> list[Flowable]:
    forms = "; ".join(f"{f.title} ({f.form}) — " + ", ".join(f"wersja {v}: {n} ank." for v, n in f.versions)
                      for f in rep.forms) or "brak ankiet w okresie"
    rows = [["Urząd", rep.office + (f", {rep.office_address}" if rep.office_address else "")],
            ["Okres badania", rep.period.describe()], ["Okres porównawczy", rep.previous.describe()],
            ["Formularze i wersje", forms], ["Wygenerowano", f"{rep.generated_at}, {rep.generated_by}"]]
    return [Spacer(0, 6 * mm), P("Protokół z badania zadowolenia Klienta", "title"), Spacer(0, 2 * mm),
            P(rep.period.describe(), "sub"), Spacer(0, 6 * mm),
            _table(rows, [45 * mm, WIDTH - 45 * mm], header=False), Spacer(0, 4 * mm)]


def _method(rep: R.Report) -> list[Flowable]:
    m = rep.method
    out: list[Flowable] = [P("1. Metoda i liczba ankiet", "h1")]
    out.append(P(f"Uwzględniono {m.included} ankiet (okres poprzedni: {m.previous_included}). Ankiety oczekujące na "
                 f"przegląd niepewnych odpowiedzi: {m.awaiting_review} — nie zostały wliczone. Odpowiedzi nieważne "
                 f"(np. dwa zaznaczenia w pytaniu jednokrotnego wyboru): {m.invalid_answers}."))
    rows: list[list[Any]] = [["Kanał", "Ankiety", "%"]]
    rows += [[label, n, R.pct(100 * n / m.included if m.included else None)] for _, label, n in m.by_channel]
    out += [Spacer(0, 3), _table(rows, [WIDTH - 50 * mm, 25 * mm, 25 * mm])]
    if m.by_batch:
        rows = [["Partia ankiet papierowych", "Ankiety"], *([label, n] for label, n in m.by_batch)]
        out += [Spacer(0, 4), _table(rows, [WIDTH - 25 * mm, 25 * mm])]
    out += [Spacer(0, 3), P("Procenty liczone są od liczby ważnych odpowiedzi na dane pytanie (w pytaniach wielokrotnego "
                            "wyboru — od liczby osób, które na nie odpowiedziały). Zmiany względem okresu poprzedniego "
                            "podano w punktach procentowych (pp): ▲ wzrost, ▼ spadek.", "small")]
    out += [P(n, "small") for n in rep.notes]
    return out


def _summary(rep: R.Report) -> list[Flowable]:
    ix = rep.index
    out: list[Flowable] = [P("2. Indeks satysfakcji", "h1")]
    value = f"{R.num(ix.value)} / 100" if ix.value is not None else "brak ocen"
    out.append(_table([["Indeks satysfakcji", "Liczba ocen", "Okres poprzedni", "Zmiana"],
                       [value, ix.answers, R.num(ix.prev_value), R.change(ix.change, "pkt")]],
                      [WIDTH - 105 * mm, 30 * mm, 35 * mm, 40 * mm]))
    out += [Spacer(0, 3), P(R.INDEX_FORMULA, "small")]
    return out


def _departments(rep: R.Report) -> list[Flowable]:
    d = rep.departments
    out: list[Flowable] = [P("5. Wyniki według komórek organizacyjnych", "h1")]
    if d.suppressed or not d.rows:
        out.append(P(f"Zestawienia nie pokazano: mniej niż {rep.settings.min_cell} ankiet ze wskazaną komórką."))
        return out
    rows: list[list[Any]] = [["Komórka", "Ankiety", "Indeks (0–100)", "Oceny najw.", "Indeks – poprz."]]
    for r in d.rows:
        label = r.label + (f" ({'; '.join(r.merged)})" if r.merged else "")
        rows.append([label, r.n, R.num(r.index), R.pct(r.top2_pct), R.num(r.prev_index)])
    out.append(_table(rows, [WIDTH - 92 * mm, 17 * mm, 25 * mm, 23 * mm, 27 * mm]))
    if d.no_answer:
        out.append(P(f"Ankiety bez wskazanej komórki: {d.no_answer}.", "small"))
    if d.merged_count:
        out.append(P(f"Komórki z mniej niż {rep.settings.min_cell} ankietami połączono w jedną grupę (ochrona małych grup).",
                     "small"))
    return out


def _actions(rep: R.Report) -> list[Flowable]:
    s = rep.settings
    out: list[Flowable] = [P("6. Obszary wymagające działań", "h1")]
    out.append(P(f"Kryteria: średnia poniżej {R.num(s.mean_below)} (w skali 1–5; inne skale proporcjonalnie), udział ocen "
                 f"najwyższych poniżej {R.pct(s.top2_below_pct)} albo jego spadek o co najmniej {R.num(s.drop_pp)} pp; "
                 f"pozycje z co najmniej {s.action_min_n} ocenami.", "small"))
    if rep.actions:
        rows: list[list[Any]] = [["Pozycja", "n", "Średnia", "Oceny najw.", "Powód"]]
        rows += [[a.label, a.n, R.num(a.mean, 2), R.pct(a.top2_pct), "; ".join(a.reasons)] for a in rep.actions]
        out.append(_table(rows, [WIDTH - 100 * mm, 10 * mm, 16 * mm, 19 * mm, 55 * mm]))
    else:
        out.append(P("Żadna pozycja nie spełnia kryteriów."))
    out.append(P("Uwagi oznaczone jako skargi", "h2"))
    if rep.complaints:
        out += [P(f"• {t.text} ({t.label})", "cell") for t in rep.complaints]
    else:
        out.append(P("Brak tekstów oznaczonych w przeglądzie jako skarga."))
    out += [P("Wnioski i działania korygujące / zapobiegawcze", "h2")]
    lines = Table([[""] for _ in range(6)], colWidths=[WIDTH], rowHeights=[8 * mm] * 6)
    lines.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE)]))
    sign = _table([["Sporządził(a) (imię, nazwisko, stanowisko)", "Data", "Podpis"], ["\n\n", "", ""]],
                  [WIDTH - 70 * mm, 30 * mm, 40 * mm])
    out += [lines, Spacer(0, 6 * mm), KeepTogether([sign])]
    return out


def _annex(rep: R.Report) -> list[Flowable]:
    out: list[Flowable] = [PageBreak(), P("Załącznik: kwestionariusz", "h1")]
    for f in rep.annex:
        out.append(P(f"{f.title} ({f.form}, wersja {f.version})", "h2"))
        for q in f.questions:
            num = f"{q.number}. " if q.number else ""
            answers = "; ".join(q.answers)
            out.append(P(f"{num}{q.text}" + (f" — {answers}" if answers else "") + f"  [{q.id}]", "cell"))
            out.append(Spacer(0, 2))
    return out


def report_pdf(rep: R.Report) -> bytes:
    register_fonts()
    story: list[Flowable] = _header(rep)
    toc = TableOfContents()
    toc.levelStyles = [S["toc1"]]
    toc.dotsMinLevel = 0
    story += [P("Spis treści", "h2"), toc, PageBreak()]
    story += _method(rep) + _summary(rep)
    story.append(P("3. Profil respondentów", "h1"))
    for q in rep.profile:
        story.append(KeepTogether([P(q.text, "h2"), *_choice(rep, q)]))
    story.append(CondPageBreak(80 * mm))
    story.append(P("4. Wyniki dla poszczególnych pytań", "h1"))
    form = ""
    for q in rep.questions:
        if len(rep.forms) > 1 and q.form != form:
            form = q.form
            title = next((f.title for f in rep.forms if f.form == form), form)
            story += [CondPageBreak(80 * mm), P(f"Formularz: {title} ({form})", "h1form")]
        num = f"{q.number}. " if q.number else ""
        head = [P(f"{num}{q.text}", "h2")]
        if q.role in R.ROLE_LABELS:
            body: list[Flowable] = [P("Wyniki w rozdziale 3 (profil respondentów).", "small")]
        elif q.choice is not None:
            body = _choice(rep, q)
        elif q.grid is not None:
            body = _grid(q)
        else:
            body = [] if q.texts else [P("Brak odpowiedzi.", "small")]
        story.append(CondPageBreak(60 * mm))
        story.append(KeepTogether(head + body[:3]))
        story += body[3:]
        label = "Odpowiedzi tekstowe (przepisane)" if q.kind == "text" else "„Inne” i uwagi (przepisane)"
        story += _texts(q.texts, label)
    story += _departments(rep) + _actions(rep) + _annex(rep)
    buf = io.BytesIO()
    doc = _Doc(buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm, bottomMargin=18 * mm,
               title=f"Protokół z badania zadowolenia Klienta — {rep.period.describe()}", author=rep.generated_by,
               subject=rep.office)
    footer = f"{rep.office} — protokół z badania zadowolenia Klienta, {rep.period.describe()}"
    doc.multiBuild(story, canvasmaker=_numbered_canvas(footer))
    return buf.getvalue()
