"""Hand entry of paper surveys by an administrator (channel paper-manual): /admin/wprowadz chooses the form,
/admin/wprowadz/<form> is the survey's own questions (the public survey's macro in hand-entry mode: every
question and grid row starts at "brak odpowiedzi" and offers "nieważna") plus the paper box/batch label and
the day the survey was received. After saving, a confirmation lists what was stored and "Wprowadź następną"
opens an empty form keeping the label and the day.

Keyboard: one Tab stop per question (or grid row), arrow keys choose within it, Tab to "Zapisz ankietę" and
Enter — or Alt+Z (Alt+Shift+Z in Firefox) from anywhere. Enter inside a text field does not send the form
(a disabled first submit button blocks implicit submission), so a half-typed survey is never saved by accident.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from pipeline import store
from pipeline.base import config as C
from pipeline.base.errors import NotFound
from pipeline.runs import responses
from pipeline.survey.form import FieldError, SurveyForm, default_values, describe
from pipeline.web import requires, ws

bp = Blueprint("entry", __name__)


def _version(form: str) -> store.FormVersion:
    try:
        return responses.current_version(ws(), form)
    except NotFound:
        abort(404)


def _render(sf: SurveyForm, values: object, batch: str, received: str, errors: tuple[FieldError, ...] = (),
            token: str = "", status: int = 200) -> ResponseReturnValue:
    return render_template("entry_form.html", sf=sf, values=values, errors=errors,
                           errors_by_question={e.question: e for e in errors if e.question},
                           field_errors={e.anchor: e for e in errors if not e.question}, batch=batch, received=received,
                           today=date.today().isoformat(), token=responses.token_or_new(token),
                           token_field=responses.TOKEN_FIELD, version_field=responses.VERSION_FIELD,
                           max_chars=C.SURVEY_TEXT_MAX_CHARS, max_batch=C.SURVEY_BATCH_LABEL_MAX_CHARS), status


@bp.route("/admin/wprowadz")
@requires("admin")
def choose() -> ResponseReturnValue:
    return render_template("entry_list.html", forms=responses.published_forms(ws()))


@bp.route("/admin/wprowadz/<form>", methods=["GET", "POST"])
@requires("admin")
def enter(form: str) -> ResponseReturnValue:
    fv = _version(form)
    batch = request.values.get("partia", "").strip()
    received = request.values.get("data", "").strip() or date.today().isoformat()
    if request.method == "GET":
        sf = responses.form_model(fv, manual=True)
        return _render(sf, default_values(sf), batch, received)
    outcome = responses.submit_manual(ws(), form, request.form, batch_label=batch, received=received,
                                      user=current_user.name)
    if not outcome.ok:
        return _render(outcome.form, outcome.parsed.values, batch, received, outcome.parsed.errors,
                       request.form.get(responses.TOKEN_FIELD, ""), 400)
    return redirect(url_for(".saved", form=form, sheet=outcome.sheet_id, partia=batch, data=received), 303)


@bp.route("/admin/wprowadz/<form>/zapisano/<sheet>")
@requires("admin")
def saved(form: str, sheet: str) -> ResponseReturnValue:
    row = store.get_sheet(ws().db, sheet)
    if row is None or row["channel"] != responses.MANUAL or row["form"] != form:
        abort(404)
    fv = store.get_form_version(ws().db, form, row["version"])
    sf = responses.form_model(fv, manual=True)
    rows = [(r["question"], r["row"], r["value"]) for r in store.manual_answers(ws().db, sheet)]
    return render_template("entry_saved.html", sf=sf, sheet=row, answers=describe(sf, rows),
                           next_url=url_for(".enter", form=form, partia=request.args.get("partia", row["batch_label"]),
                                            data=request.args.get("data", row["received_at"])))
