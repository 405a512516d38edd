"""Public survey pages (no login): /ankieta lists the published forms, /ankieta/<form> is the current version
as an accessible HTML form (pipeline.survey + _questions.html), /ankieta/<form>/dziekujemy thanks.

Abuse resistance without tracking people:
- rate limit: POSTs per client address in a sliding window, in memory only (never written anywhere, gone on
  restart). Limits come from app.config SURVEY_RATE_LIMIT_POSTS / SURVEY_RATE_WINDOW_S (defaults in
  config.py; 0 posts = no limit, which the load test uses). Behind a reverse proxy every request comes
  from the proxy's address: then `ankieta serve --trusted-proxy` makes remote_addr the client's again;
- a honeypot field, visually hidden and labelled "nie wypełniaj": a form that fills it is discarded silently
  (the sender still sees the thanks page, so a bot learns nothing);
- the CSRF token (Flask-WTF). The survey checks it itself rather than in the global hook, so that a token
  that expired while someone was answering shows the filled-in form again instead of an error page.
The session cookie carries only that token; nothing from the request (address, user agent, cookie) is
stored with a response (pipeline.responses).

The public survey is the one part of the app under public load, so its requests reuse one database
connection per server thread (opened on the thread's first survey request and kept; WAL lets them read and
write beside the staff pages' per-request connections). Opening and migrating a connection per request was a
third of the CPU of a GET + POST in the load test (samples/loadtest.py, BENCHMARKS.md).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from markupsafe import Markup

from pipeline import store
from pipeline.base import config as C
from pipeline.base.errors import DatabaseBusy, NotFound
from pipeline.runs import responses
from pipeline.runs.workspace import Workspace, open_workspace
from pipeline.survey.form import FieldError, SurveyForm, default_values, parse_submission

bp = Blueprint("survey", __name__)

HONEYPOT_FIELD = "strona_www"
RATE_POSTS_KEY = "SURVEY_RATE_LIMIT_POSTS"
RATE_WINDOW_KEY = "SURVEY_RATE_WINDOW_S"
_LIMITER_KEY = "ankieta_survey_limiter"
_HTML_KEY = "ankieta_survey_html"
_HTML_CACHE_MAX = 32


class SlidingWindow:
    """Events per key (a client address) within the last `window_s` seconds; thread-safe, in memory, bounded
    to `max_keys` keys (the least recently seen is forgotten first)."""

    def __init__(self, max_keys: int = C.SURVEY_RATE_MAX_ADDRESSES) -> None:
        self.max_keys = max_keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window_s: float, now: float | None = None) -> int:
        """Record one event for `key` if fewer than `limit` happened in the window: returns 0. Otherwise
        records nothing and returns the seconds until the oldest event leaves the window. limit <= 0: no limit."""
        if limit <= 0:
            return 0
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._events.pop(key, None) or deque()
            while q and now - q[0] >= window_s:
                q.popleft()
            self._events[key] = q                   # (re)inserted last: the most recently seen
            while len(self._events) > self.max_keys:
                self._events.popitem(last=False)
            if len(q) >= limit:
                return max(1, int(window_s - (now - q[0]) + 0.999))
            q.append(now)
            return 0


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    app = state.app
    app.config.setdefault(RATE_POSTS_KEY, C.SURVEY_RATE_LIMIT_POSTS)
    app.config.setdefault(RATE_WINDOW_KEY, C.SURVEY_RATE_WINDOW_S)
    app.extensions[_LIMITER_KEY] = SlidingWindow()
    app.extensions[_HTML_KEY] = {}
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(f"{__name__}.form_page")         # checked in the view (see the module docstring)


_local = threading.local()


def _ws() -> Workspace:
    """This server thread's own workspace connection, opened once and kept (see the module docstring)."""
    home = current_app.config["ANKIETA_HOME"]
    w: Workspace | None = getattr(_local, "ws", None)
    if w is None or w.home != home:
        if w is not None:
            w.db.close()
        w = open_workspace(home)
        _local.ws = w
    return w


def _page(template: str, status: int = 200, **ctx: Any) -> ResponseReturnValue:
    return render_template(template, office=store.get_office(_ws().db), **ctx), status


def _questions_html(sf: SurveyForm, values: Any, errors: tuple[FieldError, ...], key: Any = None) -> Markup:
    """The questions' HTML. The empty form of a frozen version (`key`: form, version, layout hash) is the same
    for every visitor: rendered once and kept (it was most of a GET's time in the load test)."""
    cache: dict[Any, Markup] = current_app.extensions[_HTML_KEY]
    if key is not None and key in cache:
        return cache[key]
    html = Markup(render_template("survey_questions.html", sf=sf, values=values,
                                  errors_by_question={e.question: e for e in errors}, max_chars=C.SURVEY_TEXT_MAX_CHARS))
    if key is not None:
        if len(cache) >= _HTML_CACHE_MAX:
            cache.clear()
        cache[key] = html
    return html


def _form_page(sf: SurveyForm, values: Any, errors: tuple[FieldError, ...] = (), token: str = "", notice: str = "",
               status: int = 200, cache_key: Any = None) -> ResponseReturnValue:
    return _page("survey_form.html", status, sf=sf, errors=errors,
                 questions_html=_questions_html(sf, values, errors, cache_key),
                 notice=notice, token=responses.token_or_new(token),
                 any_required=any(q.required for q in sf.questions), honeypot=HONEYPOT_FIELD,
                 token_field=responses.TOKEN_FIELD, version_field=responses.VERSION_FIELD)


def _missing() -> ResponseReturnValue:
    return _page("survey_missing.html", 404)


def _refused(form: str, notice: str, status: int) -> ResponseReturnValue:
    """The filled-in form again, nothing stored, with `notice` on top (rate limit, expired token)."""
    fv = responses.rendered_version(_ws(), form, request.form)
    sf = responses.form_model(fv)
    return _form_page(sf, parse_submission(sf, request.form).values, token=request.form.get(responses.TOKEN_FIELD, ""),
                      notice=notice, status=status)


@bp.route("/ankieta")
def index() -> ResponseReturnValue:
    return _page("survey_list.html", forms=responses.published_forms(_ws()))


@bp.route("/ankieta/<form>", methods=["GET", "POST"])
def form_page(form: str) -> ResponseReturnValue:
    try:
        fv = responses.current_version(_ws(), form)
    except NotFound:
        return _missing()
    if request.method == "GET":
        sf = responses.form_model(fv)
        return _form_page(sf, default_values(sf), cache_key=(fv.form, fv.version, fv.layout_hash))
    limiter: SlidingWindow = current_app.extensions[_LIMITER_KEY]
    wait = limiter.hit(request.remote_addr or "-", int(current_app.config[RATE_POSTS_KEY]),
                       float(current_app.config[RATE_WINDOW_KEY]))
    if wait:
        minutes = max(1, (wait + 59) // 60)
        return _refused(form, "Z tego połączenia wysłano w krótkim czasie zbyt wiele ankiet. Odpowiedzi nie zostały "
                              f"zapisane; spróbuj ponownie za {minutes} min.", 429)
    try:
        current_app.extensions["csrf"].protect()
    except CSRFError:
        return _refused(form, "Strona była otwarta zbyt długo albo przeglądarka nie przyjęła ciasteczka sesji. "
                              "Odpowiedzi nie zostały zapisane: sprawdź je poniżej i wyślij ankietę ponownie.", 400)
    if request.form.get(HONEYPOT_FIELD, "").strip():
        return redirect(url_for(".thanks", form=form), 303)       # a bot: discarded, and told nothing
    try:
        outcome = responses.submit_online(_ws(), form, request.form)
    except DatabaseBusy:
        # the database stayed busy past the bound (store/connection.py): nothing stored, the answers come back
        return _refused(form, "Nie udało się teraz zapisać ankiety, bo serwer jest chwilowo zajęty. Odpowiedzi nie "
                              "zostały zapisane, ale są poniżej: wyślij ankietę ponownie za chwilę.", 503)
    if outcome.ok:
        return redirect(url_for(".thanks", form=form), 303)
    return _form_page(outcome.form, outcome.parsed.values, outcome.parsed.errors,
                      token=request.form.get(responses.TOKEN_FIELD, ""), status=400)


@bp.route("/ankieta/<form>/dziekujemy")
def thanks(form: str) -> ResponseReturnValue:
    try:
        fv = responses.current_version(_ws(), form)
    except NotFound:
        return _missing()
    return _page("survey_thanks.html", title=fv.title)
