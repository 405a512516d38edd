"""The detailed sections of the PDF protocol: method, index, trend, profile, questions, departments, open answers,
complaints, findings, and the annexes (statistical methods, the questionnaire as printed).

Every table keeps its chart and heading on one page where they fit (KeepTogether) and repeats its header row when
it must run over a page; every change cell shows an arrow only when the change is significant and says so in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from pipeline.base.polish import ANKIETA, OSOBA, UWAGA, count
from pipeline.base.typeface import FONT, FONT_BOLD
from pipeline.report import build as R
from pipeline.report import charts, methods
from pipeline.report import wording as W
from pipeline.report.model import AnnexQuestion, ChoiceStats, QuestionReport, Report
from pipeline.report.stats import Measure

WIDTH = A4[0] - 36 * mm
RULE = colors.Color(0.5, 0.5, 0.5)

_BASE = ParagraphStyle("base", fontName=FONT, fontSize=9.5, leading=12.5)
S = {
    "title": ParagraphStyle("title", _BASE, fontName=FONT_BOLD, fontSize=16, leading=20, alignment=TA_CENTER),
    "sub": ParagraphStyle("sub", _BASE, fontSize=10, leading=13, alignment=TA_CENTER),
    "lead": ParagraphStyle("lead", _BASE, fontSize=11, leading=14.5, spaceBefore=3, spaceAfter=3),
    "h1": ParagraphStyle("h1", _BASE, fontName=FONT_BOLD, fontSize=13, leading=16, spaceBefore=8, spaceAfter=5),
    "h1form": ParagraphStyle("h1form", _BASE, fontName=FONT_BOLD, fontSize=11.5, leading=14, spaceBefore=10, spaceAfter=2),
    "h2": ParagraphStyle("h2", _BASE, fontName=FONT_BOLD, fontSize=10.5, leading=13.5, spaceBefore=7, spaceAfter=3),
    "h3": ParagraphStyle("h3", _BASE, fontName=FONT_BOLD, fontSize=9, leading=11.5, spaceBefore=4, spaceAfter=1),
    "p": _BASE,
    "small": ParagraphStyle("small", _BASE, fontSize=8, leading=10),
    "cell": ParagraphStyle("cell", _BASE, fontSize=8.5, leading=10.5),
    "cellb": ParagraphStyle("cellb", _BASE, fontName=FONT_BOLD, fontSize=8.5, leading=10.5),
    "toc1": ParagraphStyle("toc1", _BASE, fontSize=10, leading=14),
    "th": ParagraphStyle("th", _BASE, fontName=FONT_BOLD, fontSize=7.5, leading=9),
}


def esc(text: str) -> str:
    return escape(text)


def P(text: str, style: str = "p") -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), S[style])


def table(rows: Sequence[Sequence[Any]], widths: Sequence[float], header: bool = True) -> Table:
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


def change_cell(m: Measure) -> Paragraph | str:
    """'▼ −12,4 pkt (−18,8…−5,9)' over 'istotna', or the change without an arrow over 'w granicach błędu'."""
    if m.change is None:
        return "–"
    return Paragraph(f"{esc(W.change(m, interval=True))}<br/><font size=7>{W.verdict(m)}</font>", S["cell"])


def _block(head: Sequence[Flowable], body: Sequence[Flowable]) -> list[Flowable]:
    """A heading, its table and chart kept on one page where they fit."""
    return [KeepTogether([*head, *body])]


def _chart(items: Sequence[tuple[str, Measure]], low: float, high: float, legend: bool = True) -> list[Flowable]:
    if not any(m.value is not None for _, m in items):
        return []
    out: list[Flowable] = [Spacer(0, 3), charts.interval_bars(items, WIDTH, low, high)]
    if legend:
        prev = any(m.previous_value is not None for _, m in items)
        out.append(P("Słupek ciemny: bieżący okres, z przedziałem 95 % (wąsy)" + ("; jasny: okres porównawczy." if prev
                                                                                   else "."), "small"))
    return out


# --- front matter -----------------------------------------------------------------------------------------------------

def header(rep: Report) -> Table:
    forms = "; ".join(f"{f.title} — " + ", ".join(f"wersja {v}: {count(n, ANKIETA)}" for v, n in f.versions)
                      for f in rep.forms) or "brak ankiet w okresie"
    rows = [["Urząd", rep.office + (f", {rep.office_address}" if rep.office_address else "")],
            ["Okres badania", rep.period.describe()],
            ["Okres porównawczy", rep.previous.describe() if rep.previous else "brak"],
            ["Formularze i wersje", forms], ["Wygenerowano", rep.generated_at],
            ["Sporządził(a)", rep.generated_by or "……………………………………………… (imię, nazwisko, stanowisko)"]]
    return table(rows, [45 * mm, WIDTH - 45 * mm], header=False)


def method(rep: Report) -> list[Flowable]:
    m = rep.method
    out: list[Flowable] = [P("1. Metoda i liczba ankiet", "h1")]
    text = f"Uwzględniono {count(m.included, ANKIETA)}"
    if rep.previous:
        text += f" (okres porównawczy: {count(m.previous_included, ANKIETA)})"
    out.append(P(text + f". Ankiety oczekujące na przegląd niepewnych odpowiedzi: {m.awaiting_review} — nie zostały "
                 f"wliczone. Odpowiedzi nieważne (np. dwa zaznaczenia w pytaniu jednokrotnego wyboru): {m.invalid_answers}."))
    rows: list[list[Any]] = [["Kanał", "Ankiety", "%"]]
    rows += [[label, n, W.pct(100 * n / m.included if m.included else None)] for _, label, n in m.by_channel]
    out += [Spacer(0, 3), table(rows, [WIDTH - 50 * mm, 25 * mm, 25 * mm])]
    if m.by_batch:
        rows = [["Partia ankiet papierowych", "Ankiety"], *([label, n] for label, n in m.by_batch)]
        out += [Spacer(0, 4), table(rows, [WIDTH - 25 * mm, 25 * mm])]
    out += [Spacer(0, 3), P("Procenty liczone są od liczby ważnych odpowiedzi na dane pytanie (w pytaniach wielokrotnego "
                            "wyboru — od liczby osób, które na nie odpowiedziały). Przy każdej wartości podano przedział "
                            "95 %; zmiany odsetków w punktach procentowych (pp), indeksu w punktach (pkt). Strzałka ▲/▼ "
                            f"tylko przy zmianie istotnej. Poniżej {rep.settings.min_n} odpowiedzi podano tylko liczby "
                            f"(„3 z 5”); {W.SMALL_MARK} — mniej niż {rep.settings.warn_n} odpowiedzi. Metody: Załącznik A.",
                            "small")]
    out += [P(n, "small") for n in rep.notes]
    return out


def index(rep: Report) -> list[Flowable]:
    ix = rep.index
    rows = [["Indeks satysfakcji (95 %)", "Oceniający", "Okres porównawczy", "Zmiana (95 %)"],
            [W.with_interval(ix), count(ix.n, OSOBA), W.previous(ix), change_cell(ix)]]
    return [*_block([P("2. Indeks satysfakcji", "h1")], [table(rows, [WIDTH - 118 * mm, 28 * mm, 34 * mm, 56 * mm])]),
            Spacer(0, 3), P(R.INDEX_FORMULA, "small")]


def trend(rep: Report) -> list[Flowable]:
    t = rep.trend
    out: list[Flowable] = [P("3. Trend", "h1")]
    if len(t.periods) < 2:
        out.append(P("Brak wcześniejszych okresów z ankietami do porównania."))
        return out
    idx = t.series[0]
    chart = charts.trend_chart([p.name for p in t.periods], idx.values, WIDTH)
    out += _block([P("Indeks satysfakcji w kolejnych okresach (z przedziałem 95 %)", "h2")], [chart])
    k = len(t.periods)
    col = (WIDTH - 52 * mm - 20 * mm) / k
    # a period's name on two lines ("II półrocze" / "2026"): six columns of it fit the page
    heads = [Paragraph("<br/>".join(esc(x) for x in p.name.rsplit(" ", 1)) if p.label else esc(p.name), S["th"])
             for p in t.periods]
    rows: list[list[Any]] = [["Pozycja", *heads, "Wykres"]]
    groups = {"index": "", "row": "Średnie ocen", "department": "Indeks komórek"}
    last = ""
    for s in t.series:
        if s.kind != last and groups[s.kind]:
            rows.append([Paragraph(f"<b>{groups[s.kind]}</b>", S["cell"]), *([""] * k), ""])
        last = s.kind
        low, high = s.scale
        rows.append([s.label, *(W.value(v) for v in s.values), charts.sparkline(s.values, low, high)])
    out += [Spacer(0, 3), table(rows, [52 * mm, *([col] * k), 20 * mm])]
    out.append(P(f"Puste pole (–): brak ocen albo mniej niż {rep.settings.min_n} oceniających w okresie. Wykres w wierszu: "
                 "przebieg wartości w jej własnej skali (najmniej 5 pkt indeksu albo 0,25 oceny), ostatni okres "
                 "pogrubiony.", "small"))
    return out


# --- results ---------------------------------------------------------------------------------------------------------

def _choice_table(rep: Report, c: ChoiceStats, first_col: str = "Odpowiedź") -> list[Flowable]:
    base = "odsetek respondentów (można było wskazać kilka odpowiedzi)" if c.multi else "odsetek ważnych odpowiedzi"
    meta = f"n = {c.n}; {base}."
    if c.invalid:
        meta += f" Odpowiedzi nieważne: {c.invalid}."
    if c.no_answer:
        meta += f" Brak odpowiedzi: {c.no_answer}."
    out: list[Flowable] = [P(meta, "small")]
    if not c.n:
        return out
    if c.suppressed:
        return [*out, P(f"Wyników nie pokazano: mniej niż {rep.settings.min_cell} odpowiedzi (ochrona małych grup).")]
    rows: list[list[Any]] = [[first_col, "Liczba", "% (95 %)", "Okres porówn.", "Zmiana (95 %)"]]
    for cell in c.cells:
        label = cell.label + (f" ({', '.join(cell.merged)})" if cell.merged else "")
        rows.append([label, cell.count, W.with_interval(cell.share), W.previous(cell.share), change_cell(cell.share)])
    out.append(table(rows, [WIDTH - 128 * mm, 14 * mm, 36 * mm, 22 * mm, 56 * mm]))
    shown = [(cell.label, cell.share) for cell in c.cells if cell.count or not c.protected]
    return out + _chart(shown, 0, 100)


def profile(rep: Report) -> list[Flowable]:
    out: list[Flowable] = [P("4. Profil respondentów", "h1")]
    for q in rep.profile:
        if q.choice is not None:
            out += _block([P(q.text, "h2")], _choice_table(rep, q.choice))
    if not rep.profile:
        out.append(P("Formularze okresu nie pytają o profil respondenta."))
    return out


def _grid(rep: Report, q: QuestionReport) -> list[Flowable]:
    g = q.grid
    assert g is not None
    if g.scale is None:
        out: list[Flowable] = []
        for cat in g.categories:
            out += _block([P(cat.label, "h3")], _choice_table(rep, cat.choice, "Odpowiedź"))
        return out
    lo, hi = g.scale
    scored = [c for c in g.columns if c.scored]
    tops = "–".join(str(v) for v in (g.top_values[0], g.top_values[-1]))
    key = ", ".join(f"{c.value} = {c.label}" for c in scored if c.label != str(c.value))
    extra = [c for c in g.columns if not c.scored]
    note = (f"Skala {lo}–{hi}" + (f" ({key})" if key else "") + f"; „oceny {tops}” = udział ocen {tops} wśród ocen."
            + (" Odpowiedzi " + ", ".join(f"„{c.label}”" for c in extra) + " nie są wliczane do średniej." if extra else ""))
    rows: list[list[Any]] = [["Pozycja", "n", "Średnia (95 %)", "Zmiana (95 %)", f"Oceny {tops} (95 %)", "Zmiana (95 %)"]]
    for r in g.rows:
        rows.append([r.label, r.n, W.with_interval(r.mean), change_cell(r.mean), W.with_interval(r.top2), change_cell(r.top2)])
    measures = table(rows, [WIDTH - 142 * mm, 10 * mm, 30 * mm, 36 * mm, 32 * mm, 34 * mm])
    dist: list[list[Any]] = [["Rozkład odpowiedzi (liczba osób)", *(str(c.value) if c.scored else c.label for c in g.columns)]]
    dist += [[r.label, *(k for _, k in r.counts)] for r in g.rows]
    widths = [9 * mm if c.scored else 20 * mm for c in g.columns]
    distribution = table(dist, [WIDTH - sum(widths), *widths])
    chart = _chart([(r.label, r.mean) for r in g.rows], lo, hi)
    if chart:
        chart.insert(1, P(f"Średnia ocena (oś od {lo} — najniższej oceny skali — do {hi}):", "small"))
    return [P(note, "small"), measures, *chart, Spacer(0, 3), distribution]


def questions(rep: Report) -> list[Flowable]:
    out: list[Flowable] = [P("5. Wyniki dla poszczególnych pytań", "h1")]
    form = ""
    for q in rep.questions:
        if len(rep.forms) > 1 and q.form != form:
            form = q.form
            title = next((f.title for f in rep.forms if f.form == form), form)
            out.append(P(f"Formularz: {title}", "h1form"))
        head = [P(f"{q.number}. {q.text}" if q.number else q.text, "h2")]
        if q.role in R.ROLE_LABELS:
            body: list[Flowable] = [P("Wyniki w rozdziale 4 (profil respondentów).", "small")]
        elif q.role == "department" and q.choice is not None:
            body = [P("Liczby ankiet i wyniki komórek w rozdziale 6.", "small")]
        elif q.choice is not None:
            body = _choice_table(rep, q.choice)
        elif q.grid is not None:
            body = _grid(rep, q)
        else:
            body = [P("Odpowiedzi tekstowe w rozdziale 7.", "small")]
        out += _block(head, body)
    if not rep.questions:
        out.append(P("Brak ankiet w okresie."))
    return out


def departments(rep: Report) -> list[Flowable]:
    d = rep.departments
    title = P("6. Wyniki według komórek organizacyjnych", "h1")
    if d.suppressed or not d.rows:
        return [title, P(f"Zestawienia nie pokazano: mniej niż {rep.settings.min_cell} ankiet ze wskazaną komórką.")]
    out: list[Flowable] = []
    rows: list[list[Any]] = [["Komórka", "Ankiety", "Indeks (95 %)", "Zmiana (95 %)", "Na tle reszty urzędu (95 %)", "Skargi"]]
    for r in d.rows:
        label = r.label + (f" ({'; '.join(r.merged)})" if r.merged else "")
        v = r.vs_rest
        rest = "–" if v.value is None else Paragraph(
            f"{esc(W.signed(v.value))} pkt ({esc(W.span(v.interval, 1, signs=True))})<br/><font size=7>"
            f"{'istotnie ' + ('wyżej' if v.value > 0 else 'niżej') if v.significant else W.NOISE}</font>", S["cell"])
        rows.append([label, r.n, W.with_interval(r.index), change_cell(r.index), rest, r.complaints])
    body: list[Flowable] = [table(rows, [WIDTH - 142 * mm, 17 * mm, 30 * mm, 38 * mm, 42 * mm, 15 * mm])]
    body += _chart([(r.label, r.index) for r in d.rows], 0, 100)
    out += _block([title], body)
    if d.no_answer:
        out.append(P(f"Ankiety bez wskazanej komórki: {d.no_answer}.", "small"))
    if d.merged_count:
        out.append(P(f"Komórki z mniej niż {rep.settings.min_cell} ankietami połączono w jedną grupę (ochrona małych grup).",
                     "small"))
    return out


def open_answers(rep: Report) -> list[Flowable]:
    out: list[Flowable] = [P("7. Odpowiedzi otwarte i uwagi", "h1")]
    if not rep.open_answers:
        return [*out, P("Brak przepisanych odpowiedzi tekstowych w okresie.")]
    out.append(P("Teksty przepisane w przeglądzie, pogrupowane według pytania i komórki; jednakowe odpowiedzi połączono "
                 "(w nawiasie: liczba osób). [skarga] — tekst oznaczony w przeglądzie jako skarga.", "small"))
    for o in rep.open_answers:
        title = f"{o.number}. {o.title}" if o.number else o.title
        body: list[Flowable] = [P(f"{title} ({count(o.total, UWAGA)})", "h2")]
        for g in o.groups:
            if g.department:
                body.append(P(f"{g.department} ({g.total})", "h3"))
            body += [P(f"• {t.text}" + (f" ({t.count})" if t.count > 1 else "") + (" [skarga]" if t.complaint else ""),
                       "cell") for t in g.items]
        # a long list runs over pages, but never leaves its heading alone at the foot of one
        out += [KeepTogether(body[:4]), *body[4:]] if len(body) > 12 else [KeepTogether(body)]
    return out


def complaints(rep: Report) -> list[Flowable]:
    out: list[Flowable] = [P("8. Skargi", "h1")]
    if not rep.complaints:
        return [*out, P("Brak tekstów oznaczonych w przeglądzie jako skarga.")]
    rows: list[list[Any]] = [["Data wpływu", "Komórka", "Treść (pytanie)", "Stan rozpatrzenia"]]
    rows += [[c.received, c.department, Paragraph(f"{esc(c.text)}<br/><font size=7>{esc(c.where)}</font>", S["cell"]),
              c.status] for c in rep.complaints]
    return [*out, table(rows, [20 * mm, 40 * mm, WIDTH - 88 * mm, 28 * mm])]


def findings(rep: Report) -> list[Flowable]:
    s = rep.settings
    out: list[Flowable] = [P("9. Obszary wymagające działań", "h1")]
    out.append(P(f"Oceniono jednocześnie {rep.tests} porównań (pozycje pytań, komórki, indeks); ustalenie wymaga "
                 f"istotności po poprawce Holma (szansa przypadkowego ustalenia w raporcie ≤ {round(s.family_alpha * 100)} %). "
                 f"Progi: średnia {W.num(s.mean_below)} w skali 1–5, oceny najwyższe {W.pct(s.top2_below_pct, 0)}. Skargi "
                 "wymagają rozpatrzenia zawsze.", "small"))
    groups = (("index", "Indeks satysfakcji"), ("department", "Komórki organizacyjne"), ("row", "Pozycje pytań"),
              ("complaints", "Skargi według komórek"))
    any_found = False
    for kind, title in groups:
        items = [f for f in rep.findings if f.kind == kind]
        if not items:
            continue
        any_found = True
        rows: list[list[Any]] = [["Czego dotyczy", "n", "Ustalenie"]]
        rows += [[f.subject, f.n, "; ".join(f.reasons)] for f in items]
        out += _block([P(title, "h2")], [table(rows, [62 * mm, 12 * mm, WIDTH - 74 * mm])])
    if not any_found:
        out.append(P("Żadna pozycja, komórka ani indeks nie spełnia kryteriów; brak skarg."))
    out.append(P("Wnioski i działania korygujące / zapobiegawcze", "h2"))
    lines = Table([[""] for _ in range(6)], colWidths=[WIDTH], rowHeights=[8 * mm] * 6)
    lines.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE)]))
    sign = table([["Sporządził(a) (imię, nazwisko, stanowisko)", "Data", "Podpis"], [rep.generated_by or "\n\n", "", ""]],
                 [WIDTH - 70 * mm, 30 * mm, 40 * mm])
    return [*out, lines, Spacer(0, 6 * mm), KeepTogether([sign])]


# --- annexes -------------------------------------------------------------------------------------------------------------

def methods_annex(rep: Report) -> list[Flowable]:
    out: list[Flowable] = [PageBreak(), P("Załącznik A. Metody statystyczne", "h1")]
    for title, text in methods.annex(rep.settings):
        out += [P(title, "h3"), P(text, "cell")]
    return out


def _annex_question(q: AnnexQuestion) -> list[Flowable]:
    head = Paragraph(f"<b>{esc(f'{q.number}. ' if q.number else '')}{esc(q.text)}</b>"
                     + (f" <font size=7.5>{esc(q.hint)}</font>" if q.hint else ""), S["cell"])
    out: list[Flowable] = [head]
    if q.options:
        out.append(Paragraph("&nbsp;&nbsp;&nbsp; ".join(f"☐&nbsp;{esc(o)}" for o in q.options), S["cell"]))
    if q.rows:
        rows: list[list[Any]] = [["", *q.columns]]
        rows += [[r, *(["☐"] * len(q.columns))] for r in q.rows]
        w = min(22 * mm, (WIDTH - 60 * mm) / max(len(q.columns), 1))
        t = table(rows, [WIDTH - w * len(q.columns), *([w] * len(q.columns))])
        out.append(t)
    if q.comment:
        out.append(P(f"{q.comment} ……………………………………………………………………", "cell"))
    if q.kind == "text":
        out += [P("……………………………………………………………………………………………………………………………", "cell") for _ in range(max(q.lines, 1))]
    return [KeepTogether([*out, Spacer(0, 4)])]


def questionnaire(rep: Report) -> list[Flowable]:
    out: list[Flowable] = [PageBreak(), P("Załącznik B. Kwestionariusz", "h1")]
    for f in rep.annex:
        out.append(P(f"{f.title}" + (f" ({f.code})" if f.code else "") + f" — wersja {f.version}", "h2"))
        out += [P(text, "small") for text in f.instructions]
        for it in f.items:
            out += [P(it, "h3")] if isinstance(it, str) else _annex_question(it)
        if f.closing:
            out.append(P(f.closing, "cellb"))
    if not rep.annex:
        out.append(P("Brak ankiet w okresie."))
    return out
