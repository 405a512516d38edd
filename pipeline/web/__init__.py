"""The web application (Flask): the reviewer's queue and sheet pages, the public survey, hand entry and the admin panel.

Server-rendered HTML that works without JavaScript; `static/keys.js` only adds keyboard shortcuts and `static/scans.js`
the live progress of an upload.
Security: Flask-Login sessions kept on the server (the cookie's token names a `web_sessions` row that logout and a
new password delete; HttpOnly, SameSite=Lax, optional Secure), Flask-WTF CSRF on every POST, a role check on every
non-public route, logins throttled per address, account and known browser (runs/accounts.py), integer ids bounded
to SQLite's range (404, not 500), a busy database answered with 503 and nothing stored, a strict Content-Security-Policy, and
Jinja autoescaping for everything users or OCR wrote. Served by waitress (`ankieta serve`), one database
connection per request (SQLite WAL keeps readers unblocked during the night's ingest).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response

from pipeline import store
from pipeline.base import config as C
from pipeline.base import polish
from pipeline.base.errors import AnkietaError, DatabaseBusy, StorageFailed
from pipeline.runs import accounts
from pipeline.runs.workspace import Workspace, open_workspace

F = TypeVar("F", bound=Callable[..., Any])
SESSION_HOURS = C.WEB_SESSION_HOURS
DEVICE_COOKIE = "ankieta_urzadzenie"


class User(UserMixin):
    """The logged-in account; its Flask-Login id is the session's token (runs/accounts.py), not the user name, so
    ending the session on the server (logout, a new password) ends it for every copy of the cookie."""

    def __init__(self, account: accounts.Account, token: str) -> None:
        self.account = account
        self.token = token

    def get_id(self) -> str:
        return self.token

    @property
    def name(self) -> str:
        return self.account.name

    @property
    def role(self) -> str:
        return self.account.role


def ws() -> Workspace:
    """The request's workspace (its own SQLite connection, closed at teardown)."""
    if "ws" not in g:
        g.ws = open_workspace(current_app.config["ANKIETA_HOME"])
    return g.ws


def requires(*roles: str) -> Callable[[F], F]:
    """Logged in and holding one of `roles`; otherwise the login page (401) or 403."""

    def deco(func: F) -> F:
        @wraps(func)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return deco


DB_INT_MAX = 2**63 - 1      # SQLite's INTEGER; a larger id in a URL would be a 500 (OverflowError), not a 404


class DbIntConverter(IntegerConverter):
    """`<int:...>` in every route: an id outside SQLite's range matches no route (404) instead of failing later."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(map, *args, **kwargs)


def db_int(text: str) -> int:
    """`type=` for request.args/form.get: an integer SQLite can hold; anything else counts as not given."""
    value = int(text)
    if not -DB_INT_MAX - 1 <= value <= DB_INT_MAX:
        raise ValueError(text)
    return value


def _safe_next(target: str | None) -> str:
    """Only a local path may follow the login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("review.queue_page")


def create_app(home: Path, *, secure_cookies: bool = False, throttle: accounts.Throttle | None = None) -> Flask:
    app = Flask(__name__)
    app.url_map.converters["int"] = DbIntConverter
    first = open_workspace(home)     # fails early, with the CLI's message, when there is no workspace
    app.config.update(
        SECRET_KEY=store.web_secret(first.db, lambda: secrets.token_hex(32)),
        SESSION_COOKIE_NAME="ankieta_sesja",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        WTF_CSRF_TIME_LIMIT=SESSION_HOURS * 3600,
        MAX_CONTENT_LENGTH=256 * 1024,
        ANKIETA_HOME=home,
    )
    first.db.close()
    CSRFProtect(app)
    login = LoginManager(app)
    login.login_view = "login"
    login.login_message = "Zaloguj się, aby zobaczyć tę stronę."
    login.session_protection = "strong"
    limiter = throttle if throttle is not None else accounts.Throttle()

    @login.user_loader
    def load_user(token: str) -> User | None:
        acc = accounts.session_account(ws().db, token)
        return User(acc, token) if acc else None

    devices = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="ankieta-urzadzenie")

    def known_device(name: str) -> str:
        """The id of this browser if it logged in as `name` before (signed device cookie), else ""."""
        raw = request.cookies.get(DEVICE_COOKIE, "")
        try:
            data = devices.loads(raw, max_age=C.LOGIN_DEVICE_DAYS * 86400) if raw else None
        except BadSignature:
            return ""
        ok = isinstance(data, dict) and str(data.get("u", "")).lower() == name.lower()
        return str(data.get("n", "")) if ok and isinstance(data, dict) else ""

    @app.teardown_request
    def close_db(_exc: BaseException | None) -> None:
        w = g.pop("ws", None)
        if w is not None:
            w.db.close()

    @app.after_request
    def headers(resp: Response) -> Response:
        resp.headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self'; style-src 'self'; "
                                "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Referrer-Policy"] = "same-origin"
        if resp.mimetype == "text/html":
            resp.headers["Cache-Control"] = "no-store"
        return resp

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> ResponseReturnValue:
        return render_template("error.html", code=400, title="Formularz wygasł",
                               message="Formularz nie zawierał ważnego tokenu bezpieczeństwa (CSRF) albo sesja wygasła. "
                                       "Wróć, odśwież stronę i spróbuj jeszcze raz."), 400

    @app.errorhandler(403)
    def forbidden(_exc: Exception) -> ResponseReturnValue:
        return render_template("error.html", code=403, title="Brak uprawnień",
                               message="Ta strona jest dostępna tylko dla administratora."), 403

    @app.errorhandler(404)
    def not_found(_exc: Exception) -> ResponseReturnValue:
        return render_template("error.html", code=404, title="Nie znaleziono", message="Nie ma takiej strony."), 404

    @app.errorhandler(DatabaseBusy)
    def busy(exc: DatabaseBusy) -> ResponseReturnValue:
        # another process (the ingest) held the database past the bound: nothing was stored, trying again is safe
        page = render_template("error.html", code=503, title="Baza danych chwilowo zajęta",
                               message=exc.message + " Wróć do poprzedniej strony (wpisane dane zostały w formularzu) "
                                                     "i wyślij go jeszcze raz.")
        return page, 503, {"Retry-After": "10"}

    @app.errorhandler(StorageFailed)
    def storage(exc: StorageFailed) -> ResponseReturnValue:
        return render_template("error.html", code=507, title="Błąd zapisu na dysku", message=exc.message), 507

    @app.errorhandler(AnkietaError)
    def library_error(exc: AnkietaError) -> ResponseReturnValue:
        return render_template("error.html", code=400, title="Nie można wykonać", message=exc.message), 400

    @app.route("/")
    def index() -> ResponseReturnValue:
        if current_user.is_authenticated and current_user.role == "admin":
            return redirect(url_for("admin.dashboard_page"))
        return redirect(url_for("review.queue_page"))

    @app.route("/logowanie", methods=["GET", "POST"], endpoint="login")
    def login_page() -> ResponseReturnValue:
        error = ""
        status = 200
        if request.method == "POST":
            name = request.form.get("name", "").strip()[:40]
            password = request.form.get("password", "")
            device = known_device(name)
            # the address always counts; the account counts unless this browser logged in as it before (its own key)
            keys = (accounts.address_key(request.remote_addr or "-"),
                    accounts.device_key(device) if device else accounts.account_key(name))
            wait = limiter.retry_after(*keys)
            if wait:
                when = f"{wait} s" if wait < 60 else f"{(wait + 59) // 60} min"
                error = f"Zbyt wiele nieudanych prób logowania. Spróbuj ponownie za {when}."
                status = 429
            else:
                acc = accounts.authenticate(ws().db, name, password)
                if acc is None:
                    limiter.failed(*keys)
                    error = "Nieprawidłowa nazwa użytkownika lub hasło."
                    status = 401
                else:
                    limiter.succeeded(*keys)
                    token = accounts.open_session(ws().db, acc.name, SESSION_HOURS)
                    session.clear()              # a fresh session on login: no fixation
                    session.permanent = True
                    login_user(User(acc, token))
                    store.audit(ws().db, acc.name, "web.login", {})
                    resp = redirect(_safe_next(request.args.get("next")))
                    resp.set_cookie(DEVICE_COOKIE, devices.dumps({"u": acc.name.lower(),
                                                                  "n": device or secrets.token_urlsafe(12)}),
                                    max_age=C.LOGIN_DEVICE_DAYS * 86400, path=url_for("login"), httponly=True,
                                    samesite="Lax", secure=secure_cookies)
                    return resp
        return render_template("login.html", error=error, next=request.args.get("next", "")), status

    @app.route("/wylogowanie", methods=["POST"])
    @login_required
    def logout() -> ResponseReturnValue:
        accounts.close_session(ws().db, current_user.token)     # on the server: every copy of the cookie is dead
        logout_user()
        session.clear()
        flash("Wylogowano.")
        return redirect(url_for("login"))

    @app.route("/dostepnosc")
    def accessibility() -> ResponseReturnValue:
        # the first draft statement's address: old links and the review pages' footer reach the full statement
        return redirect(url_for("public.declaration"), code=301)

    # counts with their noun in Polish agreement ("24 ankiety", "5 arkuszy"): {{ n|liczba('arkusz') }}
    app.add_template_filter(polish.count, "liczba")

    from pipeline.web import admin, entry, public, survey, views

    for module in (views, survey, entry, admin, public):
        app.register_blueprint(module.bp)
    return app
