"""The `ankieta` command: a thin click layer over the run layer (pipeline.runs).

Commands call library functions and turn our exceptions into a clean Polish message and a documented exit
code (README, "Kody wyjścia"). Nothing here decides anything a library function could.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from pipeline import store
from pipeline.base import config as C
from pipeline.base import polish
from pipeline.base.errors import (
    AnkietaError,
    DatabaseBusy,
    ExitCode,
    InvalidInput,
    Locked,
    NotFound,
    WorkspaceMissing,
    os_reason,
)
from pipeline.forms import poster
from pipeline.records.form_geometry import geometry_to_dict
from pipeline.records.layout import load_layout
from pipeline.runs import editing
from pipeline.runs import export as exporting
from pipeline.runs.ingest import batch, quarantine
from pipeline.runs.workspace import Workspace, form_pdf, init_workspace, open_workspace, publish_form

F = TypeVar("F", bound=Callable[..., Any])
CLI_USER = "cli"


def fail(message: str, code: int) -> None:
    click.echo(f"Błąd: {message}", err=True)
    sys.exit(code)


def handled(func: F) -> F:
    """Turn library exceptions into messages and exit codes at the edge."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AnkietaError as exc:
            fail(exc.message, exc.exit_code)
        except KeyboardInterrupt:
            fail("przerwano.", ExitCode.INTERNAL)
        except OSError as exc:   # the disk or the system refused (full, read-only, no permission): no traceback
            fail(f"system odmówił zapisu lub odczytu: {os_reason(exc)}. Usuń przyczynę (np. zwolnij miejsce na dysku, "
                 "sprawdź uprawnienia) i powtórz polecenie.", ExitCode.STORAGE)
        except Exception as exc:  # an internal error must still end with a message, not a bare traceback
            traceback.print_exc(file=sys.stderr)
            fail(f"błąd wewnętrzny programu ({type(exc).__name__}: {exc}). Zgłoś go razem z powyższym opisem.",
                 ExitCode.INTERNAL)
        return None

    return wrapper  # type: ignore[return-value]


def sheets_pl(n: int) -> str:
    """'1 arkusz', '22 arkusze', '12 arkuszy' (the product's one plural helper, base/polish.py)."""
    return polish.count(n, polish.ARKUSZ)


def workspace(ctx: click.Context) -> Workspace:
    home: Path = ctx.obj["home"]
    return open_workspace(home)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=f"Folder przestrzeni roboczej (domyślnie ${C.HOME_ENV} albo ./{C.DEFAULT_HOME}).")
@click.version_option(package_name="ankieta")
@click.pass_context
def main(ctx: click.Context, home: Path | None) -> None:
    """ankieta: badanie satysfakcji klientów urzędu (ankiety papierowe i elektroniczne)."""
    ctx.ensure_object(dict)
    ctx.obj["home"] = C.home_from_env(home)


@main.command()
@click.pass_context
@handled
def init(ctx: click.Context) -> None:
    """Utwórz przestrzeń roboczą (bazę danych i foldery)."""
    home: Path = ctx.obj["home"]
    ws = init_workspace(home)
    click.echo(f"Przestrzeń robocza gotowa: {ws.home.resolve()}")
    click.echo("Następnie: ankieta office set --name \"Nazwa urzędu\", ankieta office departments add ..., "
               "ankieta forms pdf lesko-f1")


# --- office --------------------------------------------------------------------------------------

@main.group()
def office() -> None:
    """Dane urzędu: nazwa, adres, komórki organizacyjne.

    Po zebraniu pierwszych odpowiedzi zmiana wymaga zarchiwizowanego raportu wyników do dziś (inaczej kod 7)."""


@office.command("show")
@click.option("--json", "as_json", is_flag=True, help="Wypisz jako JSON.")
@click.pass_context
@handled
def office_show(ctx: click.Context, as_json: bool) -> None:
    """Pokaż dane urzędu."""
    o = store.get_office(workspace(ctx).db)
    if as_json:
        click.echo(json.dumps({**{f: getattr(o, f) for f in store.OFFICE_FIELDS},
                               "departments": [{"id": d.id, "name": d.name} for d in o.departments]},
                              ensure_ascii=False, indent=2))
        return
    click.echo(f"Nazwa:      {o.name}\nAdres:      {o.address}\nKontakt:    {o.contact}\nRespondent: {o.respondent}\n"
               f"E-mail:     {o.email}\nTelefon:    {o.phone}\nKoordynator ds. dostępności: {o.coordinator}\n"
               f"Adres ankiety internetowej: {o.public_url}\nData deklaracji dostępności: {o.statement_date}")
    click.echo("Komórki organizacyjne:")
    for d in o.departments:
        click.echo(f"  {d.id:<14} {d.name}")
    if not o.departments:
        click.echo("  (brak; dodaj: ankieta office departments add ID \"Nazwa\")")


@office.command("set")
@click.option("--name", help="Nazwa urzędu, np. \"Urząd Miasta i Gminy Lesko\".")
@click.option("--address", help="Adres urzędu.")
@click.option("--respondent", type=click.Choice(["klient", "interesant"]), help="Jak urząd nazywa osoby obsługiwane.")
@click.option("--contact", help="Kontakt do raportów, np. \"tel. 13 469 66 00, e-mail ...\".")
@click.option("--email", help="E-mail urzędu do wniosków o dostępność (deklaracja dostępności).")
@click.option("--phone", help="Telefon urzędu (deklaracja dostępności).")
@click.option("--coordinator", help="Imię i nazwisko koordynatora ds. dostępności.")
@click.option("--public-url", help="Adres serwera z ankietą internetową, np. https://ankieta.lesko.pl (plakat, baner).")
@click.option("--statement-date", help="Data sporządzenia deklaracji dostępności, RRRR-MM-DD.")
@click.pass_context
@handled
def office_set(ctx: click.Context, **fields: str | None) -> None:
    """Zmień dane urzędu."""
    given = {k: v for k, v in fields.items() if v is not None}
    if not given:
        fail("podaj co najmniej jedną opcję, np. --name, --address (lista: ankieta office set --help).", ExitCode.USAGE)
    _, gate = editing.set_office(workspace(ctx), CLI_USER, **given)     # refused (exit 7) before a report
    click.echo("Zapisano dane urzędu." if gate else "Bez zmian: dane urzędu już mają te wartości.")


@office.group("departments")
def departments() -> None:
    """Komórki organizacyjne (lista odpowiedzi w pytaniu o komórkę)."""


@departments.command("list")
@click.pass_context
@handled
def departments_list(ctx: click.Context) -> None:
    for d in store.get_office(workspace(ctx).db).departments:
        click.echo(f"{d.id}\t{d.name}")


@departments.command("add")
@click.argument("dep_id")
@click.argument("name")
@click.pass_context
@handled
def departments_add(ctx: click.Context, dep_id: str, name: str) -> None:
    """Dodaj komórkę: ID (krótki, stały, np. fin) i NAZWA."""
    editing.add_department(workspace(ctx), CLI_USER, dep_id, name)
    click.echo(f"Dodano: {dep_id} – {name}")


@departments.command("rename")
@click.argument("dep_id")
@click.argument("name")
@click.pass_context
@handled
def departments_rename(ctx: click.Context, dep_id: str, name: str) -> None:
    editing.rename_department(workspace(ctx), CLI_USER, dep_id, name)
    click.echo(f"Zmieniono nazwę: {dep_id} – {name}")


@departments.command("remove")
@click.argument("dep_id")
@click.pass_context
@handled
def departments_remove(ctx: click.Context, dep_id: str) -> None:
    editing.remove_department(workspace(ctx), CLI_USER, dep_id)
    click.echo(f"Usunięto z listy: {dep_id} (dotychczasowe odpowiedzi zostają).")


# --- forms ---------------------------------------------------------------------------------------

@main.group()
def forms() -> None:
    """Formularze: lista, wydruk PDF, geometria."""


@forms.command("list")
@click.pass_context
@handled
def forms_list(ctx: click.Context) -> None:
    """Formularze w folderze forms/ i ich opublikowane wersje."""
    ws = workspace(ctx)
    published: dict[str, list[str]] = {}
    for r in store.list_form_versions(ws.db):
        published.setdefault(r["form"], []).append(f"v{r['version']} ({r['published_at'][:10]})")
    for path in sorted(ws.forms_dir.glob("*.y*ml")):
        versions = published.pop(path.stem, [])
        click.echo(f"{path.stem:<20} {', '.join(versions) if versions else 'nieopublikowany'}")
    for form, versions in published.items():
        click.echo(f"{form:<20} {', '.join(versions)} (brak pliku układu)")


@forms.command("pdf")
@click.argument("form")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Plik PDF (domyślnie printed/).")
@click.option("--copies", type=click.IntRange(1, 10_000), default=None,
              help="Liczba ponumerowanych arkuszy; bez tej opcji: wzór do kserowania (bez numeru).")
@click.pass_context
@handled
def forms_pdf(ctx: click.Context, form: str, output: Path | None, copies: int | None) -> None:
    """Wydrukuj formularz do PDF (A4)."""
    ws = workspace(ctx)
    pdf, version, serials = form_pdf(ws, form, copies, CLI_USER)
    if output is None:
        suffix = f"-{serials[0]}-{serials[-1]}" if serials else "-wzor"
        output = ws.folder("printed") / f"{version.form}-v{version.version}{suffix}.pdf"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(pdf)
    what = f"{sheets_pl(len(serials))} nr {serials[0]}–{serials[-1]}" if serials else "wzór do kserowania"
    click.echo(f"Zapisano {output} ({version.form}, wersja {version.version}, {what}).")


@forms.command("layout")
@click.argument("form")
@click.option("--version", "version", type=int, default=None, help="Numer wersji (domyślnie najnowsza).")
@click.pass_context
@handled
def forms_layout(ctx: click.Context, form: str, version: int | None) -> None:
    """Wypisz zamrożoną geometrię wersji formularza jako JSON (interfejs publiczny, README)."""
    ws = workspace(ctx)
    fv = store.get_form_version(ws.db, form, version) if version or store.latest_form_version(ws.db, form) \
        else publish_form(ws, form, CLI_USER)
    click.echo(json.dumps(geometry_to_dict(fv.geometry), ensure_ascii=False, indent=1))


@forms.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@handled
def forms_check(files: tuple[Path, ...]) -> None:
    """Sprawdź pliki układu (YAML) ze schematem."""
    for f in files:
        lay = load_layout(f)
        click.echo(f"{f}: poprawny ({len(lay.questions)} pytań).")


# --- ingest and export -----------------------------------------------------------------------------

def _progress_printer() -> Callable[[batch.Progress], None]:
    """A bar on a terminal; plain timestamped lines under cron/systemd (no terminal)."""
    tty = sys.stderr.isatty()

    def show(p: batch.Progress) -> None:
        if tty:
            width = 30
            done = int(width * p.files_done / p.files_total) if p.files_total else width
            click.echo(f"\r[{'#' * done}{'.' * (width - done)}] plik {p.files_done}/{p.files_total}, "
                       f"stron {p.pages_done} {p.current[:30]:<30}", nl=not p.current, err=True)
        elif p.current:
            click.echo(f"{datetime.now().isoformat(timespec='seconds')} plik {p.files_done + 1}/{p.files_total}: {p.current}",
                       err=True)

    return show


def summary_lines(s: batch.BatchSummary) -> list[str]:
    lines = [f"Partia {s.batch_id}{' (' + s.label + ')' if s.label else ''}: {polish.count(s.files, polish.PLIK)}, "
             f"{polish.count(s.pages, polish.STRONA)}, {sheets_pl(s.sheets)}, do przeglądu: "
             f"{polish.count(s.review_items, polish.POZYCJA)}, w kwarantannie: {len(s.quarantined)}, czas {s.seconds:.1f} s."]
    if s.rejected_pages:
        lines.append("Strony nieprzeczytane jako ankiety: " + ", ".join(f"{k}: {v}" for k, v in sorted(s.rejected_pages.items())))
    for where, why in s.quarantined:
        lines.append(f"  kwarantanna: {where}: {why}")
    if s.duplicates:
        lines.append(f"Pominięte (już wczytane wcześniej albo już odrzucone do kwarantanny): {', '.join(s.duplicates)}")
    for name, why in s.skipped:
        lines.append(f"  pominięty: {name}: {why}")
    if s.waiting:
        lines.append(f"Jeszcze niegotowe (zapisywane?), zostają na następny przebieg: {', '.join(s.waiting)}")
    if s.texts_drafted:
        lines.append(f"Odczytano wstępnie pól tekstowych: {s.texts_drafted}")
    return lines


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--batch", "label", default="", help="Oznaczenie partii papieru, np. \"urna 2, 2026-11\".")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Liczba procesów (domyślnie: wszystkie rdzenie).")
@click.option("--received", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Dzień wyjęcia ankiet z urny (RRRR-MM-DD); decyduje o okresie raportu. Domyślnie: dziś.")
@click.option("--watch", is_flag=True,
              help="Pracuj ciągle: sprawdzaj inbox/ co --interval sekund (bezpieczne na udziałach sieciowych).")
@click.option("--interval", type=click.IntRange(5, 3600), default=60, show_default=True)
@click.pass_context
@handled
def ingest(ctx: click.Context, paths: tuple[Path, ...], label: str, workers: int | None, received: datetime | None,
           watch: bool, interval: int) -> None:
    """Wczytaj skany (pliki, foldery; bez argumentów: folder inbox/)."""
    ws = workspace(ctx)
    if watch:
        if paths:
            fail("--watch obserwuje folder inbox/; nie podawaj plików.", ExitCode.USAGE)
        # Polling, not inotify: inotify does not see files another machine writes onto a network share.
        click.echo(f"Obserwuję {ws.folder('inbox')} co {interval} s (Ctrl+C kończy).", err=True)
        while True:
            try:
                summary = batch.ingest(ws, None, label=label, workers=workers)
            except (Locked, DatabaseBusy) as exc:       # another run, or the database busy past the bound: next look
                click.echo(f"{datetime.now().isoformat(timespec='seconds')} {exc.message}", err=True)
            else:
                if summary.files or summary.quarantined or summary.duplicates:
                    _report_summary(ws, summary)
            time.sleep(interval)
    summary = batch.ingest(ws, list(paths) or None, label=label, workers=workers, progress=_progress_printer(),
                           received=received.date() if received else None)
    _report_summary(ws, summary)
    if not summary.exit_ok:
        sys.exit(ExitCode.QUARANTINED)


def _report_summary(ws: Workspace, summary: batch.BatchSummary) -> None:
    """Print the summary and append it to logs/ingest.log (the morning's record of the night)."""
    lines = summary_lines(summary)
    log = ws.folder("logs") / "ingest.log"
    with log.open("a", encoding="utf-8") as fh:
        for line in lines:
            fh.write(f"{datetime.now().isoformat(timespec='seconds')} {line}\n")
    for line in lines:
        click.echo(line)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Od dnia (RRRR-MM-DD).")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Do dnia włącznie.")
@click.option("--machine", is_flag=True, help="Odczyt maszynowy sprzed decyzji człowieka.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Plik (domyślnie: ekran).")
@click.pass_context
@handled
def export(ctx: click.Context, fmt: str, date_from: datetime | None, date_to: datetime | None, machine: bool,
           output: Path | None) -> None:
    """Eksportuj odpowiedzi: jeden obiekt (wiersz) na arkusz."""
    ws = workspace(ctx)
    f = date_from.date() if date_from else None
    t = date_to.date() if date_to else None
    text = exporting.export_json(ws, f, t, machine) if fmt == "json" else exporting.export_csv(ws, f, t, machine)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text, "utf-8", newline="")
        click.echo(f"Zapisano {output}.")


# --- quarantine ------------------------------------------------------------------------------------

@main.group("quarantine")
def quarantine_group() -> None:
    """Kwarantanna: pliki i strony, których nie przeczytano."""


@quarantine_group.command("list")
@click.pass_context
@handled
def quarantine_list(ctx: click.Context) -> None:
    rows = quarantine.list_open(workspace(ctx))
    if not rows:
        click.echo("Kwarantanna jest pusta.")
    for r in rows:
        where = r["file_name"] + (f", strona {r['page_index'] + 1}" if r["page_index"] is not None else "")
        click.echo(f"{r['id']:>5}  {r['created_at'][:10]}  {where}: {r['message']}")


@quarantine_group.command("retry")
@click.argument("item_id", type=int)
@click.pass_context
@handled
def quarantine_retry(ctx: click.Context, item_id: int) -> None:
    """Ponów wczytanie pozycji (np. po opublikowaniu formularza albo poprawieniu pliku)."""
    click.echo(quarantine.retry(workspace(ctx), item_id, CLI_USER))


@quarantine_group.command("discard")
@click.argument("item_id", type=int)
@click.pass_context
@handled
def quarantine_discard(ctx: click.Context, item_id: int) -> None:
    """Odrzuć pozycję (plik z kwarantanny zostaje usunięty)."""
    click.echo(quarantine.discard(workspace(ctx), item_id, CLI_USER))


# --- report ------------------------------------------------------------------------------------------

@main.group("report", invoke_without_command=True)
@click.option("--half", default=None, help="Półrocze, np. 2026H2 (porównanie z 2026H1).")
@click.option("--year", default=None, help="Rok, np. 2026 (porównanie z 2025).")
@click.option("--quarter", default=None, help="Kwartał, np. 2026Q3 (porównanie z 2026Q2).")
@click.option("--month", default=None, help="Miesiąc, np. 2026-11 (porównanie z poprzednim miesiącem).")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Od dnia (RRRR-MM-DD).")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Do dnia włącznie.")
@click.option("--compare-to", "compare_to", default=None,
              help="Okres porównawczy zamiast poprzedniego, np. 2025H2, 2025, 2025Q4, 2025-11, "
                   "2025-07-01..2025-12-31; 'brak' — bez porównania.")
@click.option("--format", "fmt", type=click.Choice(["pdf", "xlsx", "csv", "json"]), default=None,
              help="Format (domyślnie z rozszerzenia pliku -o, inaczej pdf).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Plik raportu (kopia zawsze trafia do reports/ w przestrzeni roboczej).")
@click.option("--by", "author", default=None,
              help="Kto sporządza protokół (imię i nazwisko, do nagłówka i podpisu); bez tej opcji pole zostaje "
                   "do wypełnienia ręcznie.")
@click.pass_context
@handled
def report_group(ctx: click.Context, half: str | None, year: str | None, quarter: str | None, month: str | None,
                 date_from: datetime | None, date_to: datetime | None, compare_to: str | None, fmt: str | None,
                 output: Path | None, author: str | None) -> None:
    """Protokół z badania zadowolenia Klienta za okres (PDF, XLSX, CSV, JSON); 'report list' – archiwum."""
    if ctx.invoked_subcommand is not None:
        return
    # imported on use: reportlab and openpyxl stay out of every other command's start-up
    from pipeline.runs import reporting

    ws = workspace(ctx)
    period = reporting.period_of(date_from.date() if date_from else None, date_to.date() if date_to else None, half,
                                 year=year, quarter=quarter, month=month)
    compare = reporting.comparison_of(period, compare_to)
    if fmt is None:
        suffix = output.suffix.lower().lstrip(".") if output else ""
        fmt = suffix if suffix in reporting.FORMATS else "pdf"
    # the protocol names a person only when one is given: a system login is not the author
    g = reporting.generate(ws, period, fmt, output, author or CLI_USER, author=author or "", compare=compare)
    against = f"porównanie: {compare.name}" if compare else "bez porównania"
    click.echo(f"Zapisano {g.path} (raport nr {g.report_id}, {period.describe()}, {against}, {sheets_pl(g.sheets)}, "
               f"{g.seconds:.1f} s).")
    click.echo(f"Archiwum: {g.archived.relative_to(ws.home)}, sha256 {g.sha256}")


@report_group.command("list")
@click.pass_context
@handled
def report_list(ctx: click.Context) -> None:
    """Raporty wygenerowane dotąd (archiwum w reports/, z sumą kontrolną)."""
    from pipeline.runs import reporting

    rows = reporting.list_reports(workspace(ctx))
    if not rows:
        click.echo("Nie wygenerowano jeszcze żadnego raportu (ankieta report --half 2026H2 -o raport.pdf).")
    for r in rows:
        click.echo(f"{r['id']:>4}  {r['created_at'][:16].replace('T', ' ')}  {r['period_from']} – {r['period_to']}  "
                   f"{r['format']:<4}  {sheets_pl(r['sheets']):<13}  {r['user']:<12}  {r['path']}  {r['sha256'][:16]}…")


# --- web: serve, users ---------------------------------------------------------------------------------

@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Adres nasłuchu (0.0.0.0: cała sieć urzędu).")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=C.SERVE_THREADS, show_default=True, help="Wątki serwera.")
@click.option("--secure-cookies", is_flag=True, envvar="ANKIETA_SECURE_COOKIES",
              help="Ciasteczko sesji tylko przez HTTPS (włącz, gdy przed aplikacją stoi serwer z TLS).")
@click.option("--trusted-proxy", default=None, metavar="ADRES",
              help="Adres serwera pośredniczącego (np. nginx z TLS): wtedy adres mieszkańca bierze się z nagłówka "
                   "X-Forwarded-For, a limit wysłań ankiety liczy mieszkańców, nie serwer pośredniczący.")
@click.pass_context
@handled
def serve(ctx: click.Context, host: str, port: int, threads: int, secure_cookies: bool, trusted_proxy: str | None) -> None:
    """Uruchom aplikację WWW (ankieta internetowa, przegląd, panel administratora) na serwerze waitress."""
    from waitress import serve as waitress_serve

    from pipeline.web import create_app

    ws = workspace(ctx)
    if not store.list_users(ws.db):
        click.echo("Uwaga: nie ma jeszcze kont. Dodaj: ankieta users add NAZWA --role admin", err=True)
    click.echo(f"Aplikacja działa pod adresem http://{host}:{port}/ (Ctrl+C kończy).", err=True)
    proxy: dict[str, Any] = {"trusted_proxy": trusted_proxy, "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"},
                             "clear_untrusted_proxy_headers": True} if trusted_proxy else {}
    waitress_serve(create_app(ws.home, secure_cookies=secure_cookies), host=host, port=port, threads=threads, **proxy)


@main.group()
def users() -> None:
    """Konta aplikacji WWW."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "reviewer"]), required=True,
              help="admin: wszystko; reviewer: przegląd arkuszy.")
@click.pass_context
@handled
def users_add(ctx: click.Context, name: str, role: str) -> None:
    """Dodaj konto NAME (albo ustaw mu nowe hasło i rolę; jego otwarte sesje się kończą). Hasło: pytanie w terminalu
    (dwa razy), zmienna ANKIETA_PASSWORD albo jeden wiersz na standardowym wejściu (echo ... | ankieta users add)."""
    import os

    from pipeline.runs import accounts

    ws = workspace(ctx)
    password = os.environ.get("ANKIETA_PASSWORD") or _password_from_user()
    acc = accounts.set_user(ws.db, CLI_USER, name, role, password)
    click.echo(f"Zapisano konto {acc.name} ({accounts.ROLE_LABELS[acc.role]}).")


def _password_from_user() -> str:
    """Asked twice on a terminal; from a pipe or a file, the first line (no confirmation to read there)."""
    if sys.stdin.isatty():
        return str(click.prompt("Hasło", hide_input=True, confirmation_prompt="Powtórz hasło"))
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        fail("nie podano hasła: wpisz je w terminalu, podaj w zmiennej ANKIETA_PASSWORD albo jako jeden wiersz na "
             "standardowym wejściu.", ExitCode.USAGE)
    return line


@users.command("list")
@click.pass_context
@handled
def users_list(ctx: click.Context) -> None:
    for u in store.list_users(workspace(ctx).db):
        click.echo(f"{u['name']:<20} {u['role']:<9} {'aktywne' if u['active'] else 'nieaktywne'}")


# --- "Oceń Urząd": the poster for the service desks and the banner for the office's site ------------------

def _invitation(ws: Workspace, form: str | None, url: str | None) -> tuple[str, str]:
    """The form to invite to (default: the main one) and the server's base address (--url or the office's)."""
    chosen = poster.choose_form(poster.published_forms(store.list_form_versions(ws.db)), form)
    if chosen is None:
        raise NotFound("Nie opublikowano jeszcze żadnej ankiety. Ankieta jest publikowana przy pierwszym wydruku: "
                       "ankieta forms pdf FORMULARZ.")
    base = url or store.get_office(ws.db).public_url
    if not base:
        raise InvalidInput("Nie wiadomo, pod jakim adresem mieszkańcy otworzą ankietę. Ustaw go: "
                           "ankieta office set --public-url https://ankieta.example.pl (albo podaj --url).")
    return chosen.form, base


@main.command("poster")
@click.option("--form", default=None, help="Ankieta (domyślnie: pierwsza opublikowana).")
@click.option("--url", default=None, help="Adres serwera ankiety (domyślnie: ustawiony w danych urzędu).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Plik PDF (domyślnie printed/).")
@click.pass_context
@handled
def poster_cmd(ctx: click.Context, form: str | None, url: str | None, output: Path | None) -> None:
    """Plakat A4 „Oceń Urząd” z kodem QR do ankiety internetowej (do stanowisk obsługi)."""
    ws = workspace(ctx)
    form, base = _invitation(ws, form, url)
    link = poster.survey_url(base, form)
    output = output or ws.folder("printed") / poster.poster_filename(form)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(poster.poster_pdf(store.get_office(ws.db), link))
    click.echo(f"Zapisano {output} (kod QR i adres: {link}).")


@main.command("banner")
@click.option("--form", default=None, help="Ankieta (domyślnie: pierwsza opublikowana).")
@click.option("--url", default=None, help="Adres serwera ankiety (domyślnie: ustawiony w danych urzędu).")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="Folder na pliki banera.")
@click.pass_context
@handled
def banner_cmd(ctx: click.Context, form: str | None, url: str | None, output: Path) -> None:
    """Baner „Oceń Urząd” (SVG i PNG) i kod HTML do wklejenia na stronę urzędu.

    Pliki nie zależą od danych urzędu, więc powstają także bez przestrzeni roboczej (tak odświeża się
    pipeline/web/static/); kod HTML wymaga opublikowanej ankiety i adresu serwera (--url albo dane urzędu)."""
    output.mkdir(parents=True, exist_ok=True)
    for name, data in poster.banner_files():
        (output / name).write_bytes(data)
        click.echo(f"Zapisano {output / name}")
    try:
        ws = workspace(ctx)
        form, base = _invitation(ws, form, url)
    except (WorkspaceMissing, NotFound, InvalidInput) as exc:
        if form or url:             # the snippet was asked for: say why there is none, with the exit code
            raise
        click.echo(f"Bez kodu HTML: {exc.message}")
        return
    click.echo("Kod HTML banera (obraz jest też na serwerze ankiety, pod /static/):")
    click.echo(poster.banner_snippet(store.get_office(ws.db), base, form))


if __name__ == "__main__":
    main()
