"""The report as a PDF the office's quality representative signs (reportlab platypus).

Page 1 is the summary for the mayor (respondents, the index with its interval and change, strong and weak
points, departments that need attention, complaints and — once the register exists — actions); then the table
of contents and the detailed sections (`pdf_sections`); the annexes give the statistical methods and the
questionnaire as printed. Polish text in the bundled DejaVu Sans; black-and-grey vector charts (`charts`);
"Strona X z Y" on every page. Texts are listed without sheet numbers: the PDF may be published (BIP).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer
from reportlab.platypus.flowables import Flowable
from reportlab.platypus.tableofcontents import TableOfContents

from pipeline.base.polish import ANKIETA, OSOBA, count
from pipeline.base.typeface import FONT, register_fonts
from pipeline.report import pdf_sections as X
from pipeline.report import wording as W
from pipeline.report.model import Point, Report
from pipeline.report.pdf_sections import WIDTH, P, S, change_cell, table


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


# --- page 1: the summary ----------------------------------------------------------------------------------------------

def _points(title: str, points: Sequence[Point]) -> list[Flowable]:
    if not points:
        return []
    rows: list[list[Any]] = [["Pozycja", "Średnia (95 %)", "Zmiana (95 %)"]]
    rows += [[p.label, W.with_interval(p.mean), change_cell(p.mean)] for p in points]
    return [KeepTogether([P(title, "h2"), table(rows, [WIDTH - 90 * mm, 38 * mm, 52 * mm])])]


def summary_page(rep: Report) -> list[Flowable]:
    m, ix, sm = rep.method, rep.index, rep.summary
    compare = rep.previous.name if rep.previous else ""
    out: list[Flowable] = [
        P("Protokół z badania zadowolenia Klienta", "title"),
        P(rep.office + (f", {rep.office_address}" if rep.office_address else ""), "sub"),
        P(f"Okres: {rep.period.describe()}" + (f" · porównanie: {rep.previous.describe()}" if rep.previous else
                                              " · bez okresu porównawczego"), "sub"),
        Spacer(0, 3 * mm), P("Streszczenie", "h1"),
    ]
    channels = ", ".join(f"{label} {n}" for _, label, n in m.by_channel)
    text = f"Uwzględniono {count(m.included, ANKIETA)}" + (f" ({channels})" if channels else "") + "."
    if rep.previous:
        text += f" W okresie porównawczym ({compare}): {count(m.previous_included, ANKIETA)}."
    if m.awaiting_review:
        text += f" Oczekujące na przegląd (nie liczone): {m.awaiting_review}."
    out.append(P(text))
    if ix.value is None:
        out.append(P("Indeks satysfakcji: " + (f"za mało ocen (oceniający: {count(ix.n, OSOBA)})." if ix.n
                                              else "brak ocen w okresie."), "lead"))
    else:
        line = f"Indeks satysfakcji: <b>{W.num(ix.value)}</b> / 100 (przedział 95 %: {W.span(ix.interval)})"
        if ix.change is not None:
            line += f"; zmiana względem okresu porównawczego: {W.change(ix, interval=True)} — {W.verdict(ix)}"
        out.append(Paragraph(line + ".", S["lead"]))
    if sm.verdict:
        out.append(Paragraph(f"Ocena ogólna (ISO 9001, 9.1.3): <b>{sm.verdict}</b> w porównaniu z okresem "
                             f"„{X.esc(compare)}”.", S["p"]))
    out += _points("Najmocniejsze strony", sm.strongest)
    out += _points("Najsłabsze strony", sm.weakest)
    out.append(P("Komórki organizacyjne wymagające uwagi", "h2"))
    if sm.attention:
        for f in sm.attention:
            out.append(Paragraph(f"• <b>{X.esc(f.subject)}</b> (n = {f.n}): {X.esc('; '.join(f.reasons))}.", S["cell"]))
    else:
        out.append(P("Żadna komórka nie ma wyniku istotnie niższego niż pozostała część urzędu ani istotnie gorszego niż "
                     "w okresie porównawczym.", "cell"))
    other = [f"ustalenia dotyczące pytań i indeksu: {sm.other_findings}" if sm.other_findings else
             "brak istotnych ustaleń dotyczących pytań i indeksu",
             f"skargi: {sm.complaints} (do rozpatrzenia: {sm.complaints_open})" if sm.complaints else "brak skarg"]
    out.append(P("Pozostałe: " + "; ".join(other) + " — szczegóły w rozdziale „Obszary wymagające działań”.", "cell"))
    if rep.actions is not None:
        out.append(P("Działania korygujące i zapobiegawcze", "h2"))
        out.append(P(", ".join(f"{label}: {n}" for label, n in rep.actions.counts) + (f". {rep.actions.note}"
                                                                                       if rep.actions.note else ""), "cell"))
    out.append(Spacer(0, 2 * mm))
    out.append(P(f"Strzałki ▲ ▼ oznaczają tylko zmiany istotne (przedział 95 % zmiany nie obejmuje zera); pozostałe są "
                 f"w granicach błędu. {W.SMALL_MARK} — mniej niż {rep.settings.warn_n} odpowiedzi. Metody: Załącznik A.",
                 "small"))
    return [*out, PageBreak()]


# --- the document --------------------------------------------------------------------------------------------------------

def report_pdf(rep: Report) -> bytes:
    register_fonts()
    toc = TableOfContents()
    toc.levelStyles = [S["toc1"]]
    toc.dotsMinLevel = 0
    story: list[Flowable] = summary_page(rep)
    story += [P("Spis treści", "h2"), toc, Spacer(0, 4 * mm), X.header(rep), PageBreak()]
    story += X.method(rep) + X.index(rep) + X.trend(rep) + X.profile(rep) + X.questions(rep) + X.departments(rep)
    story += X.open_answers(rep) + X.complaints(rep) + X.findings(rep) + X.methods_annex(rep) + X.questionnaire(rep)
    buf = io.BytesIO()
    doc = _Doc(buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=14 * mm, bottomMargin=18 * mm,
               title=f"Protokół z badania zadowolenia Klienta — {rep.period.describe()}", author=rep.generated_by,
               subject=rep.office)
    footer = f"{rep.office} — protokół z badania zadowolenia Klienta, {rep.period.describe()}"
    doc.multiBuild(story, canvasmaker=_numbered_canvas(footer))
    return buf.getvalue()
