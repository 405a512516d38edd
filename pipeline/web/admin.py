"""The administrator's panel: dashboard, printing, uploads, reports, office and survey editing, users, audit log.

Thin: every decision is a run-layer call (dashboard, uploads, reporting, editing, survey_edit, accounts), the
same ones the CLI makes. Every route needs the admin role; every POST carries the CSRF token (the upload
route checks it itself, after raising the body limit for that one request, see `scans`). Files are sent only
from paths stored in the database (reports) or made in memory (printouts); no path comes from a request.
"""

from __future__ import annotations

import io
import math
from datetime import date
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import ValidationError

from pipeline import store
from pipeline.base import config as C
from pipeline.base import polish
from pipeline.base.errors import AnkietaError, InvalidInput
from pipeline.report.periods import Period, parse_period
from pipeline.runs import accounts, dashboard, editing, reporting, survey_edit
from pipeline.runs.ingest import uploads
from pipeline.web import User, db_int, requires, ws

bp = Blueprint("admin", __name__)
ENTRY_URL = "/admin/wprowadz"        # the hand-entry page (pipeline/web/entry.py); linked only when it exists
OFFICE_LABELS = {"name": "Nazwa urzędu", "address": "Adres", "contact": "Kontakt (do raportów)", "email": "Adres e-mail",
                 "phone": "Telefon", "coordinator": "Koordynator ds. dostępności",
                 "public_url": "Adres ankiety internetowej", "statement_date": "Data deklaracji dostępności"}
REPORT_TYPES = {"pdf": "application/pdf", "csv": "text/csv",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "json": "application/json"}


@bp.record_once
def _exempt_upload(state: BlueprintSetupState) -> None:
    # The global CSRF check reads the form before any view runs, under the app-wide 256 KiB body limit; the
    # upload view raises the limit for its own request first and then checks the token itself.
    state.app.extensions["csrf"].exempt(f"{__name__}.scans")


@bp.app_context_processor
def _navigation() -> dict[str, Any]:
    if not (current_user.is_authenticated and current_user.role == "admin"):
        return {"admin_nav": []}
    entry = next((url_for(r.endpoint) for r in current_app.url_map.iter_rules()
                  if r.rule == ENTRY_URL and "GET" in (r.methods or ()) and not r.arguments), "")
    items = [("Pulpit", url_for("admin.dashboard_page"), "admin.dashboard_page"),
             ("Wprowadź ankietę", entry, "entry."), ("Druk", url_for("admin.printing"), "admin.printing"),
             ("Skany", url_for("admin.scans"), "admin.scans"), ("Raporty", url_for("admin.reports"), "admin.report"),
             ("Dane urzędu", url_for("admin.office"), "admin.office"), ("Ankieta", url_for("admin.surveys"), "admin.survey"),
             ("Użytkownicy", url_for("admin.users"), "admin.user"), ("Dziennik zmian", url_for("admin.audit_log"), "admin.audit")]
    here = request.endpoint or ""
    return {"admin_nav": [(label, url, here.startswith(prefix)) for label, url, prefix in items if url]}


def _user() -> str:
    return str(current_user.name)


# --- dashboard -----------------------------------------------------------------------------------------------

@bp.route("/admin")
@requires("admin")
def dashboard_page() -> ResponseReturnValue:
    return render_template("admin_dashboard.html", d=dashboard.dashboard(ws()), channels=dashboard.CHANNEL_LABELS,
                           stamp=editing.local_stamp)


# --- printing ------------------------------------------------------------------------------------------------

@bp.route("/admin/druk", methods=["GET", "POST"])
@requires("admin")
def printing() -> ResponseReturnValue:
    forms = dashboard.forms_overview(ws())
    error = ""
    if request.method == "POST":
        f = request.form
        try:
            copies = None
            if f.get("kind") == "numbered":
                copies = _int_field(f.get("copies", ""), "Liczba arkuszy", 1, 10_000)
            out = dashboard.print_form(ws(), f.get("form", ""), copies, _user())
        except AnkietaError as exc:
            error = exc.message
        else:
            resp = send_file(io.BytesIO(out.pdf), mimetype="application/pdf", as_attachment=True,
                             download_name=out.file_name)
            resp.headers["Cache-Control"] = "no-store"
            return resp
    return render_template("admin_print.html", forms=forms, error=error, values=request.form), (400 if error else 200)


def _int_field(raw: str, label: str, low: int, high: int) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise InvalidInput(f"Pole „{label}”: podaj liczbę całkowitą od {low} do {high}.") from None
    if not low <= value <= high:
        raise InvalidInput(f"Pole „{label}”: podaj liczbę od {low} do {high} (wpisano {value}).")
    return value


# --- scans uploaded through the browser -----------------------------------------------------------------------

@bp.route("/admin/skany", methods=["GET", "POST"])
@requires("admin")
def scans() -> ResponseReturnValue:
    limits = {"files": C.UPLOAD_MAX_FILES, "mb": C.UPLOAD_MAX_BYTES // (1024 * 1024)}
    if request.method == "GET":
        return render_template("admin_scans.html", limits=limits, job=None, error="",
                               recent=uploads.recent_upload_jobs(ws()))
    # Only here, only for a logged-in admin (the decorator ran): the body may be as large as the upload limit.
    request.max_content_length = C.UPLOAD_MAX_BYTES + 64 * 1024     # plus the form's other fields
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError as exc:
        raise CSRFError(str(exc)) from None
    except RequestEntityTooLarge:
        return render_template("admin_scans.html", limits=limits, job=None, recent=[],
                               error=f"Przesłane pliki są razem większe niż {limits['mb']} MB. Wyślij je w mniejszych "
                                     "porcjach albo przez folder skanera (inbox/)."), 413
    files = [(fs.filename or "skan", fs.stream) for fs in request.files.getlist("files") if fs.filename]
    try:
        received = date.fromisoformat(request.form["received"]) if request.form.get("received") else None
    except ValueError:
        received = None
    label = request.form.get("label", "").strip()[:C.SURVEY_BATCH_LABEL_MAX_CHARS]
    try:
        # the files are written now; the reading runs in the background and this request returns at once
        job_id = uploads.start_upload(ws(), files, _user(), label=label, received=received)
    except AnkietaError as exc:
        return render_template("admin_scans.html", limits=limits, job=None, recent=[], error=exc.message), 400
    return redirect(url_for("admin.scan_job", job_id=job_id), 303)


def _job(job_id: str) -> uploads.UploadJob:
    job = uploads.upload_job(ws(), job_id)
    if job is None:
        abort(404)
    return job


@bp.route("/admin/skany/<job_id>")
@requires("admin")
def scan_job(job_id: str) -> ResponseReturnValue:
    """One upload: its progress while it is read (static/scans.js refreshes the status), then the result per file."""
    limits = {"files": C.UPLOAD_MAX_FILES, "mb": C.UPLOAD_MAX_BYTES // (1024 * 1024)}
    return render_template("admin_scans.html", limits=limits, job=_job(job_id), recent=[], error="")


@bp.route("/admin/skany/<job_id>/stan")
@requires("admin")
def scan_job_state(job_id: str) -> ResponseReturnValue:
    job = _job(job_id)
    return {"status": job.status, "label": job.label, "files_done": job.files_done, "files": len(job.files),
            "pages_done": job.pages_done}


# --- reports -------------------------------------------------------------------------------------------------

@bp.route("/admin/raporty", methods=["GET", "POST"])
@requires("admin")
def reports() -> ResponseReturnValue:
    today = date.today()
    presets = dashboard.half_year_presets(today)
    others = dashboard.period_presets(today)
    error = ""
    if request.method == "POST":
        f = request.form
        try:
            period = _period(f, dict(presets))
            compare = reporting.comparison_choice(period, f.get("compare", "previous"))
            author = f.get("author", "").strip()[:C.REPORT_AUTHOR_MAX_CHARS]
            made = reporting.generate(ws(), period, f.get("format", "pdf"), None, _user(), author=author or _user(),
                                      compare=compare)
        except AnkietaError as exc:
            error = exc.message
        else:
            return redirect(url_for("admin.reports", nowy=made.report_id), 303)
    archive = {r["id"]: r for r in reversed(store.list_reports(ws().db))}     # newest first
    new = archive.get(request.args.get("nowy", type=db_int) or -1)
    return render_template("admin_reports.html", presets=presets, others=others, rows=list(archive.values()), new=new,
                           error=error, values=request.form, formats=reporting.FORMATS, comparisons=reporting.COMPARISONS,
                           user=_user(), stamp=editing.local_stamp), (400 if error else 200)


def _period(f: Any, presets: dict[str, Period]) -> Period:
    choice = f.get("period", "")
    if choice in presets:
        return presets[choice]
    if choice == "other":
        try:
            return parse_period(f.get("other", ""))
        except ValueError:
            raise InvalidInput("Pole „Inny okres”: wybierz rok, kwartał albo miesiąc z listy.") from None
    if choice != "custom":
        raise InvalidInput("Wybierz okres raportu: półrocze, inny okres z listy albo własne daty.")
    try:
        start, end = date.fromisoformat(f.get("from", "")), date.fromisoformat(f.get("to", ""))
    except ValueError:
        raise InvalidInput("Pola „Od dnia” i „Do dnia”: podaj obie daty (RRRR-MM-DD).") from None
    return reporting.period_of(start, end, None)


@bp.route("/admin/raporty/<int:report_id>/plik")
@requires("admin")
def report_file(report_id: int) -> ResponseReturnValue:
    row = store.get_report(ws().db, report_id)
    if row is None:
        abort(404)
    folder = ws().folder("reports").resolve()
    path = (ws().home / str(row["path"])).resolve()
    if path.parent != folder or not path.is_file():       # a tampered row still cannot leave reports/
        abort(404)
    return send_file(path, mimetype=REPORT_TYPES.get(row["format"], "application/octet-stream"), as_attachment=True,
                     download_name=path.name)


def _after_report(made: reporting.Generated) -> None:
    flash(f"Wygenerowano i zarchiwizowano raport nr {made.report_id} ({polish.count(made.sheets, polish.ARKUSZ)}).")


@bp.route("/admin/raport-do-dzis", methods=["POST"])
@requires("admin")
def report_so_far() -> ResponseReturnValue:
    """The report-first rule's one-click way out; `dalej` names one of our own pages (no open redirect)."""
    _after_report(editing.report_so_far(ws(), _user()))
    target = request.form.get("dalej", "")
    pages = {"urzad": "admin.office", "ankieta": "admin.surveys", "raporty": "admin.reports"}
    return redirect(url_for(pages.get(target, "admin.dashboard_page")), 303)


# --- office data and departments ---------------------------------------------------------------------------------

@bp.route("/admin/urzad", methods=["GET", "POST"])
@requires("admin")
def office() -> ResponseReturnValue:
    error, status = "", 200
    if request.method == "POST":
        fields = {k: request.form.get(k, "") for k in store.OFFICE_FIELDS if k in request.form}
        try:
            if request.form.get("akcja") == "raport":
                _after_report(editing.report_so_far(ws(), _user()))
            _, gate = editing.set_office(ws(), _user(), **fields)
        except AnkietaError as exc:
            error, status = exc.message, (403 if exc.exit_code == 7 else 400)
        else:
            flash("Zapisano dane urzędu." if gate else "Bez zmian: dane urzędu już mają te wartości.")
            return redirect(url_for("admin.office"), 303)
    return render_template("admin_office.html", office=store.get_office(ws().db), labels=OFFICE_LABELS,
                           departments=store.all_departments(ws().db), gate=editing.report_gate(ws()), error=error,
                           values=request.form if error else {}, stamp=editing.local_stamp), status


@bp.route("/admin/urzad/komorki", methods=["POST"])
@requires("admin")
def departments() -> ResponseReturnValue:
    f = request.form
    action, dep_id, name = f.get("akcja", ""), f.get("id", "").strip(), f.get("name", "").strip()
    try:
        if action == "add":
            editing.add_department(ws(), _user(), dep_id, name)
            flash(f"Dodano komórkę {dep_id} – {name}.")
        elif action == "rename":
            editing.rename_department(ws(), _user(), dep_id, name)
            flash(f"Zmieniono nazwę komórki {dep_id} na „{name}”.")
        elif action == "remove":
            editing.remove_department(ws(), _user(), dep_id)
            flash(f"Wyłączono komórkę {dep_id} (dotychczasowe odpowiedzi zostają).")
        elif action == "restore":
            known = {d["id"]: d for d in store.all_departments(ws().db)}
            if dep_id not in known:
                abort(404)
            editing.add_department(ws(), _user(), dep_id, known[dep_id]["name"])
            flash(f"Przywrócono komórkę {dep_id}.")
        else:
            abort(400)
    except AnkietaError as exc:
        return render_template("admin_office.html", office=store.get_office(ws().db), labels=OFFICE_LABELS,
                               departments=store.all_departments(ws().db), gate=editing.report_gate(ws()),
                               error=exc.message, values={}, dep_values=f, stamp=editing.local_stamp), \
            (403 if exc.exit_code == 7 else 400)
    return redirect(url_for("admin.office") + "#komorki", 303)


# --- survey ------------------------------------------------------------------------------------------------------

@bp.route("/admin/ankieta")
@requires("admin")
def surveys() -> ResponseReturnValue:
    return render_template("admin_surveys.html", forms=dashboard.forms_overview(ws()), gate=editing.report_gate(ws()),
                           stamp=editing.local_stamp)


@bp.route("/admin/ankieta/<form>", methods=["GET", "POST"])
@requires("admin")
def survey_editor(form: str) -> ResponseReturnValue:
    if form not in {f.form for f in dashboard.forms_overview(ws())}:
        abort(404)
    ed = survey_edit.editor(ws(), form)
    error, error_field, status = "", "", 200
    if request.method == "POST":
        try:
            edit = survey_edit.edit_from_fields(ed, request.form)
            if request.form.get("akcja") == "raport":
                _after_report(editing.report_so_far(ws(), _user()))
            done = survey_edit.edit_survey(ws(), edit, _user())
        except AnkietaError as exc:
            error, status = exc.message, (403 if exc.exit_code == 7 else 400)
            error_field = exc.field if isinstance(exc, survey_edit.FieldError) else ""
        else:
            if not done.changes:
                flash("Bez zmian: ankieta już ma tę treść.")
                return redirect(url_for("admin.survey_editor", form=form), 303)
            return redirect(url_for("admin.survey_editor", form=form, wersja=done.version), 303)
    saved = request.args.get("wersja", type=db_int)
    changes = survey_edit.last_edit(ws(), form, saved) if saved else []
    return render_template("admin_survey.html", ed=ed, gate=editing.report_gate(ws()), error=error,
                           error_field=error_field, values=request.form if error else {}, saved=saved if changes else None,
                           changes=changes, field=survey_edit.field_name, kinds=survey_edit.KIND_LABELS,
                           stamp=editing.local_stamp), status


# --- users, own password, audit log --------------------------------------------------------------------------------

@bp.route("/admin/uzytkownicy", methods=["GET", "POST"])
@requires("admin")
def users() -> ResponseReturnValue:
    error = ""
    if request.method == "POST":
        try:
            acc = accounts.add_user(ws().db, _user(), request.form.get("name", "").strip(), request.form.get("role", ""),
                                    request.form.get("password", ""))
        except AnkietaError as exc:
            error = exc.message
        else:
            flash(f"Zapisano konto {acc.name} ({accounts.ROLE_LABELS[acc.role]}).")
            return redirect(url_for("admin.users"), 303)
    return render_template("admin_users.html", users=store.list_users(ws().db), roles=accounts.ROLE_LABELS, error=error,
                           me=_user(), values=request.form if error else {}), (400 if error else 200)


@bp.route("/admin/uzytkownicy/<name>/stan", methods=["POST"])
@requires("admin")
def user_state(name: str) -> ResponseReturnValue:
    active = request.form.get("active") == "1"
    try:
        accounts.set_active(ws().db, _user(), name, active)
    except AnkietaError as exc:
        flash(exc.message)
    else:
        flash(f"Konto {name} jest {'włączone' if active else 'wyłączone'}.")
    return redirect(url_for("admin.users"), 303)


@bp.route("/haslo", methods=["GET", "POST"])
@requires("admin", "reviewer")
def password() -> ResponseReturnValue:
    """Everyone changes their own password here (reviewers too); only admins see the panel around it."""
    error = ""
    if request.method == "POST":
        f = request.form
        try:
            token = accounts.change_password(ws().db, _user(), f.get("old", ""), f.get("new", ""), f.get("repeat", ""))
        except AnkietaError as exc:
            error = exc.message
        else:
            # every other session of this user has just ended; this browser continues in a fresh one
            login_user(User(current_user.account, token))
            flash("Zmieniono hasło. Pozostałe sesje tego konta (inne przeglądarki) zostały zakończone.")
            return redirect(url_for("index"), 303)
    return render_template("admin_password.html", error=error, min_chars=accounts.MIN_PASSWORD_CHARS), \
        (400 if error else 200)


@bp.route("/admin/dziennik")
@requires("admin")
def audit_log() -> ResponseReturnValue:
    per = C.ADMIN_AUDIT_PAGE_ROWS
    total = store.audit_count(ws().db)
    pages = max(1, math.ceil(total / per))
    page = min(max(1, request.args.get("strona", 1, type=db_int)), pages)
    return render_template("admin_audit.html", rows=store.audit_entries(ws().db, (page - 1) * per, per), page=page,
                           pages=pages, total=total, stamp=editing.local_stamp)

