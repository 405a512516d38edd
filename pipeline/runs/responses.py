"""Responses without scans (run layer): the public online survey and paper surveys typed in by hand.

Both use a published form version (the one the form was rendered from, named in the submitted form; else
the current one) and `survey.parse_submission`; what they store reads back through the export and the
report exactly like a scanned sheet.

Sheet ids are random ("W-" online, "R-" hand entry, plus 22 URL-safe characters from `secrets`): they
reveal neither order nor time. The id is drawn when the form is rendered and sent back with it, so sending
the same form twice (a double click, a re-sent POST) stores one response, not two.

Privacy of online responses (anonymous by design): nothing about the respondent's connection is stored
— no IP address, user agent or cookie value. The response keeps only the day it was sent (`received_at`,
which also sets its report period) and the same day as `created_at`, and its rows get random rowids
(store.responses), so neither a timestamp nor the tables' order can pair it with a web-server log line.
A consequence: an online response recorded later on the day of a report compares as recorded before that
report in the report-first rule (it appears in the next report of its period). Hand entries keep the full
time in `created_at` and name the person who typed them in the audit log.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date

from pipeline import store
from pipeline.base import config as C
from pipeline.base.errors import NotFound
from pipeline.runs.workspace import SYSTEM_USER, Workspace
from pipeline.survey.form import FieldError, FormData, Parsed, SurveyForm, parse_submission, survey_form

ONLINE = "online"
MANUAL = "paper-manual"
TOKEN_FIELD = "zgloszenie"      # the hidden field carrying the random sheet id drawn at rendering
VERSION_FIELD = "wersja"        # the hidden field naming the form version that was rendered
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")
_PREFIX = {ONLINE: "W-", MANUAL: "R-"}
EARLIEST_RECEIVED = date(2000, 1, 1)


@dataclass(frozen=True)
class Outcome:
    form: SurveyForm
    parsed: Parsed
    sheet_id: str | None = None     # None: nothing stored (see parsed.errors)
    repeated: bool = False          # this very form was stored before (sent twice)

    @property
    def ok(self) -> bool:
        return self.sheet_id is not None


def new_token() -> str:
    """A fresh random sheet token for a form about to be rendered."""
    return secrets.token_urlsafe(16)


def token_or_new(text: str | None) -> str:
    """The submitted token when it is well-formed (a form shown again keeps its id), else a fresh one."""
    return text if text and _TOKEN.fullmatch(text) else new_token()


def published_forms(ws: Workspace) -> list[store.FormVersion]:
    """The current version of every published form, by title."""
    latest: dict[str, store.FormVersion] = {}
    for fv in store.all_form_versions(ws.db):
        latest[fv.form] = fv            # versions come in ascending order
    return sorted(latest.values(), key=lambda fv: (fv.title, fv.form))


# Published versions are frozen, so what is built from one (the parsed layout, the form model) is kept in
# memory under (workspace, form, version, layout hash): a request then costs one small query, not the parsing
# of the version's layout and geometry JSON (the load test's largest cost per request before this cache).
_CACHE_MAX = 64
_versions: dict[tuple[str, str, int, str], store.FormVersion] = {}
_models: dict[tuple[str, int, str, bool], SurveyForm] = {}


def _version(ws: Workspace, form: str, key: tuple[int, str]) -> store.FormVersion:
    ck = (str(ws.home), form, *key)
    fv = _versions.get(ck)
    if fv is None:
        fv = store.get_form_version(ws.db, form, key[0])
        if len(_versions) >= _CACHE_MAX:
            _versions.clear()
        _versions[ck] = fv
    return fv


def form_model(fv: store.FormVersion, manual: bool = False) -> SurveyForm:
    """The (cached) form model of a published version: online, or for hand entry."""
    ck = (fv.form, fv.version, fv.layout_hash, manual)
    sf = _models.get(ck)
    if sf is None:
        sf = survey_form(fv.layout, fv.version, manual)
        if len(_models) >= _CACHE_MAX:
            _models.clear()
        _models[ck] = sf
    return sf


def current_version(ws: Workspace, form: str) -> store.FormVersion:
    """The form's current published version; NotFound (a Polish message) when it was never published."""
    key = store.version_key(ws.db, form) if re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", form) else None
    if key is None:
        raise NotFound(f"Ankieta {form!r} nie jest opublikowana.")
    return _version(ws, form, key)


def rendered_version(ws: Workspace, form: str, submission: FormData) -> store.FormVersion:
    """The version the submitted form was rendered from, when it exists; otherwise the current one. A form
    opened just before an administrator published a new version is stored against the version it showed."""
    current = current_version(ws, form)
    named = (submission.getlist(VERSION_FIELD) or [""])[0]
    if named.isdigit() and 0 < int(named) < current.version:
        key = store.version_key(ws.db, form, int(named))
        if key is not None:
            return _version(ws, form, key)
    return current


def _sheet_id(channel: str, submission: FormData) -> str:
    return _PREFIX[channel] + token_or_new((submission.getlist(TOKEN_FIELD) or [""])[0])


def _store(ws: Workspace, sf: SurveyForm, parsed: Parsed, sheet: dict[str, object], user: str = "") -> Outcome:
    sid = str(sheet["id"])
    details = {"form": sf.layout.form, "version": sf.version, "batch": sheet.get("batch_label", ""),
               "received": sheet["received_at"]} if user else None
    stored = store.insert_response(ws.db, {"form": sf.layout.form, "version": sf.version, **sheet}, parsed.rows,
                                   user=user, audit_details=details)
    return Outcome(sf, parsed, sid, repeated=not stored)


def submit_online(ws: Workspace, form: str, submission: FormData, *, today: date | None = None) -> Outcome:
    """Validate and store one online response (channel "online", only the day kept; see the module doc)."""
    fv = rendered_version(ws, form, submission)
    sf = form_model(fv)
    parsed = parse_submission(sf, submission)
    if not parsed.ok:
        return Outcome(sf, parsed)
    day = str(today or date.today())
    return _store(ws, sf, parsed, {"id": _sheet_id(ONLINE, submission), "channel": ONLINE, "received_at": day,
                                   "created_at": day})


def parse_received(value: date | str, today: date | None = None) -> tuple[date | None, str]:
    """The day a paper survey was received (taken out of the box): a date or "RRRR-MM-DD"; (None, message)
    when it is missing, malformed, in the future or implausibly old."""
    today = today or date.today()
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None, "podaj datę przyjęcia ankiety (RRRR-MM-DD)"
        try:
            value = date.fromisoformat(text)
        except ValueError:
            return None, f"data przyjęcia {text!r} jest niepoprawna; wpisz ją jako RRRR-MM-DD, np. {today.isoformat()}"
    if value > today:
        return None, f"data przyjęcia ({value.isoformat()}) jest późniejsza niż dzisiejsza"
    if value < EARLIEST_RECEIVED:
        return None, f"data przyjęcia ({value.isoformat()}) jest zbyt odległa; sprawdź rok"
    return value, ""


def submit_manual(ws: Workspace, form: str, submission: FormData, *, batch_label: str, received: date | str,
                  user: str = SYSTEM_USER, today: date | None = None) -> Outcome:
    """Store one paper survey typed in by hand (channel "paper-manual"): the paper box/batch label, the day it
    was received, and who typed it in (audit log). "Brak odpowiedzi" and "nieważna" are explicit choices."""
    fv = rendered_version(ws, form, submission)
    sf = form_model(fv, manual=True)
    parsed = parse_submission(sf, submission)
    day, problem = parse_received(received, today)
    label = " ".join(batch_label.split())
    extra: list[FieldError] = []
    if problem:
        extra.append(FieldError("", "data", f"Data przyjęcia: {problem}", problem))
    if len(label) > C.SURVEY_BATCH_LABEL_MAX_CHARS:
        short = f"oznaczenie jest za długie; najwyżej {C.SURVEY_BATCH_LABEL_MAX_CHARS} znaków"
        extra.append(FieldError("", "partia", f"Partia (pudełko): {short}", short))
    if extra or not parsed.ok:
        return Outcome(sf, Parsed(parsed.rows, (*extra, *parsed.errors), parsed.values))
    assert day is not None
    return _store(ws, sf, parsed, {"id": _sheet_id(MANUAL, submission), "channel": MANUAL, "batch_label": label,
                                   "received_at": day.isoformat(), "created_at": store.now_iso()}, user=user)
