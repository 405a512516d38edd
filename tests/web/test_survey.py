"""The public survey and hand entry on the web: abuse resistance and privacy with Flask's test client, then a
citizen on a phone with only a keyboard and an administrator typing in a paper survey, in a real headless
Chromium (Debian's, driven by Playwright) against waitress, checked with axe-core (WCAG 2.1 A/AA)."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from pipeline import store
from pipeline.base import config as C
from pipeline.report.periods import Period
from pipeline.runs import accounts, export, reporting, responses, workspace
from pipeline.web import create_app
from pipeline.web.survey import HONEYPOT_FIELD, RATE_POSTS_KEY, SlidingWindow
from tests.conftest import LESKO
from tests.web.harness import (
    AXE,
    PASSWORDS,
    axe_violations,
    chromium_or_skip,
    copy_workspace,
    login,
    serve,
    shot,
)

PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Lesko's office with F1 published twice: version 2 makes q6 and the q8 grid required (the office's
    choice in its layout file), so a citizen can meet a validation error."""
    root = tmp_path_factory.mktemp("survey")
    ws = workspace.init_workspace(root / "ws", LESKO)
    workspace.publish_form(ws, "lesko-f1")
    path = ws.forms_dir / "lesko-f1.yaml"
    text = path.read_text("utf-8")
    for qid in ("q6", "q8"):
        text = text.replace(f"  - id: {qid}\n", f"  - id: {qid}\n    required: true\n")
    path.write_text(text, "utf-8")
    assert workspace.publish_form(ws, "lesko-f1").version == 2
    accounts.add_user(ws.db, "test", "ala", "reviewer", PASSWORDS["ala"])
    accounts.add_user(ws.db, "test", "admin", "admin", PASSWORDS["admin"])
    ws.db.close()
    return root


@pytest.fixture
def ws(prepared: Path, tmp_path: Path) -> workspace.Workspace:
    return copy_workspace(prepared / "ws", tmp_path / "ws")


def _hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, name
    return m.group(1)


def _fresh(client: FlaskClient, url: str = "/ankieta/lesko-f1") -> dict[str, str]:
    html = client.get(url).text
    return {f: _hidden(html, f) for f in ("csrf_token", responses.TOKEN_FIELD, responses.VERSION_FIELD)}


def _csrf(client: FlaskClient, url: str = "/logowanie") -> str:
    return _hidden(client.get(url).text, "csrf_token")


def _count(ws: workspace.Workspace, channel: str = "online") -> int:
    return int(store.rows(ws.db, "select count(*) as n from sheets where channel = ?", [channel])[0]["n"])


class _Labels(HTMLParser):
    """Inputs (id, type) and the ids labels point at."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[tuple[str, str]] = []
        self.labelled: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("input", "textarea") and a.get("type") not in ("hidden",):
            self.inputs.append((a.get("id") or "", a.get("type") or tag))
        if tag == "label" and a.get("for"):
            self.labelled.add(str(a["for"]))


def test_pages_and_every_input_labelled(ws: workspace.Workspace) -> None:
    c = create_app(ws.home).test_client()
    listing = c.get("/ankieta")
    assert listing.status_code == 200 and 'href="/ankieta/lesko-f1"' in listing.text and "satysfakcja-5" not in listing.text
    page = c.get("/ankieta/lesko-f1")
    html = page.text
    assert page.status_code == 200 and "Urząd Miasta i Gminy Lesko" in html and "Ankieta do badania zadowolenia klienta" in html
    assert 'name="wersja" value="2"' in html and html.count("<fieldset class=\"sq ") == 10
    assert "Referat Spraw Obywatelskich i Administracji" in html               # departments of the published version
    assert "(wymagane)" in html and "Prosimy zaznaczyć odpowiednie pole" in html and "znak „x”" not in html
    labels = _Labels()
    labels.feed(html)
    unlabelled = [i for i, _ in labels.inputs if i not in labels.labelled]
    assert len(labels.inputs) > 60 and unlabelled == []
    assert re.search(r'<input type="text" id="strona_www" name="strona_www" tabindex="-1" autocomplete="off">', html)
    other = c.get("/ankieta/satysfakcja-5")                                     # never published
    assert other.status_code == 404 and "Nie ma takiej ankiety" in other.text
    assert c.get("/ankieta/lesko-f1/dziekujemy").status_code == 200
    assert c.get("/ankieta/..%2Fankieta.db").status_code == 404


def test_honeypot_discards_silently(ws: workspace.Workspace) -> None:
    c = create_app(ws.home).test_client()
    r = c.post("/ankieta/lesko-f1", data={**_fresh(c), "q1": "kobieta", "q6": "tak", HONEYPOT_FIELD: "http://spam.example"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/ankieta/lesko-f1/dziekujemy")
    assert _count(ws) == 0
    r = c.post("/ankieta/lesko-f1", data={**_fresh(c), "q1": "kobieta", "q6": "tak", HONEYPOT_FIELD: " ",
                                          **{f"q8.{row}": "4" for row in ("uprzejmosc", "sprawnosc", "kompetencja",
                                                                          "informacja", "terminowosc")}})
    assert r.status_code == 303 and _count(ws) == 1                            # blank honeypot: a person


def _valid(c: FlaskClient) -> dict[str, str]:
    rows = ("uprzejmosc", "sprawnosc", "kompetencja", "informacja", "terminowosc")
    return {**_fresh(c), "q1": "kobieta", "q6": "nie", **{f"q8.{r}": "3" for r in rows}}


def test_rate_limit_per_address_in_memory(ws: workspace.Workspace) -> None:
    app = create_app(ws.home)
    app.config[RATE_POSTS_KEY] = 3
    c = app.test_client()
    for _ in range(3):
        assert c.post("/ankieta/lesko-f1", data=_valid(c)).status_code == 303
    r = c.post("/ankieta/lesko-f1", data={**_valid(c), "uwagi.text": "czwarta"})
    assert r.status_code == 429 and "zbyt wiele ankiet" in r.text and "spróbuj ponownie za 10 min" in r.text
    assert ">czwarta</textarea>" in r.text and 'value="kobieta" checked' in r.text    # nothing the person wrote is lost
    assert _count(ws) == 3
    other = app.test_client()                                                 # another address is not affected
    assert other.post("/ankieta/lesko-f1", data=_valid(other), environ_base={"REMOTE_ADDR": "198.51.100.9"}).status_code == 303
    app.config[RATE_POSTS_KEY] = 0                                            # lifted (the load test does this)
    assert c.post("/ankieta/lesko-f1", data=_valid(c)).status_code == 303 and _count(ws) == 5
    dump = "\n".join(ws.db.conn.iterdump())
    assert "198.51.100.9" not in dump and "127.0.0.1" not in dump            # the limiter's memory is not the database


def _post_from(port: int, forwarded_for: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/ankieta/lesko-f1", body="q1=kobieta", headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": forwarded_for})
    status = conn.getresponse().status
    conn.close()
    return status


@contextmanager
def _served(home: Path, *extra: str) -> Iterator[int]:
    """`ankieta serve` as an office runs it (a real process, the installed command) on a free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [str(Path(sys.executable).parent / "ankieta"), "--home", str(home), "serve", "--port", str(port), *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def test_behind_a_proxy_the_limit_counts_residents_not_the_proxy(ws: workspace.Workspace) -> None:
    limit = C.SURVEY_RATE_LIMIT_POSTS
    # without --trusted-proxy the header is not believed: every resident behind the proxy shares one limit
    with _served(ws.home) as port:
        assert {_post_from(port, f"203.0.113.{i % 200}") for i in range(limit)} == {400}   # counted (no CSRF token)
        assert _post_from(port, "198.51.100.7") == 429
    # with it, the limit is per forwarded address: one flooding resident is stopped, the next one is not
    with _served(ws.home, "--trusted-proxy", "127.0.0.1") as port:
        assert {_post_from(port, "203.0.113.5") for _ in range(limit)} == {400}
        assert _post_from(port, "203.0.113.5") == 429
        assert _post_from(port, "198.51.100.7") == 400
    assert _count(ws) == 0


def test_sliding_window() -> None:
    w = SlidingWindow(max_keys=2)
    assert [w.hit("a", 2, 60, now=t) for t in (0, 10, 20)] == [0, 0, 40]
    assert w.hit("a", 2, 60, now=60) == 0                                      # the first event left the window
    w.hit("b", 2, 60, now=61)
    w.hit("c", 2, 60, now=62)                                                  # "a" is forgotten: at most 2 keys
    assert [w.hit("a", 2, 60, now=63), w.hit("a", 2, 60, now=64), w.hit("a", 2, 60, now=65)] == [0, 0, 58]


def test_expired_token_keeps_the_answers(ws: workspace.Workspace) -> None:
    c = create_app(ws.home).test_client()
    data = {**_valid(c), "csrf_token": "wygasly", "q5.inna.text": "meldunek"}
    r = c.post("/ankieta/lesko-f1", data=data)
    assert r.status_code == 400 and "wyślij ankietę ponownie" in r.text and 'value="meldunek"' in r.text
    assert _hidden(r.text, "zgloszenie") == data["zgloszenie"] and _hidden(r.text, "csrf_token") != "wygasly"
    assert _count(ws) == 0


def test_sent_twice_stored_once_and_nothing_about_the_sender(ws: workspace.Workspace) -> None:
    c = create_app(ws.home).test_client()
    data = {**_valid(c), "uwagi.text": "Bardzo dobrze."}
    secrets_ = {"REMOTE_ADDR": "203.0.113.77", "HTTP_USER_AGENT": "Mozilla/5.0 (unikalny-agent-4711)"}
    for _ in range(2):
        assert c.post("/ankieta/lesko-f1", data=data, environ_base=secrets_).status_code == 303
    assert _count(ws) == 1
    cookie = c.get_cookie("ankieta_sesja")
    assert cookie is not None
    dump = "\n".join(ws.db.conn.iterdump())
    for secret in ("203.0.113.77", "unikalny-agent-4711", cookie.value, data["csrf_token"]):
        assert secret not in dump
    sheet = store.rows(ws.db, "select * from sheets where channel = 'online'")[0]
    assert sheet["created_at"] == sheet["received_at"] == date.today().isoformat()


def _admin(ws: workspace.Workspace) -> FlaskClient:
    c = create_app(ws.home).test_client()
    r = c.post("/logowanie", data={"name": "admin", "password": PASSWORDS["admin"], "csrf_token": _csrf(c)})
    assert r.status_code == 302
    return c


def test_hand_entry_needs_an_admin(ws: workspace.Workspace) -> None:
    anon = create_app(ws.home).test_client()
    assert anon.get("/admin/wprowadz/lesko-f1").status_code == 302
    reviewer = create_app(ws.home).test_client()
    reviewer.post("/logowanie", data={"name": "ala", "password": PASSWORDS["ala"],
                                      "csrf_token": _csrf(reviewer)})
    assert reviewer.get("/admin/wprowadz").status_code == 403
    c = _admin(ws)
    page = c.get("/admin/wprowadz/lesko-f1?partia=urna+4&data=2026-01-05").text
    assert 'id="partia" name="partia" value="urna 4"' in page and 'name="data" value="2026-01-05"' in page
    assert 'value="_brak" checked' in page and "(wymagane)" not in page        # paper as it is: nothing required
    assert c.get("/admin/wprowadz/nie-ma").status_code == 404
    form = {**_fresh(c, "/admin/wprowadz/lesko-f1"), "partia": "urna 4", "data": "2026-01-05", "q1": "_niewazna",
            "q8.sprawnosc": "_niewazna", "q8.uprzejmosc": "2", "q2": "_brak"}
    r = c.post("/admin/wprowadz/lesko-f1", data=form)
    assert r.status_code == 303
    saved = c.get(r.headers["Location"]).text
    assert "Pytanie 1 (Płeć)</dt><dd>nieważna" in saved and "sprawna i szybka obsługa: nieważna" in saved
    assert 'href="/admin/wprowadz/lesko-f1?partia=urna+4&amp;data=2026-01-05"' in saved
    sheet = json.loads(export.export_json(ws))["sheets"][0]
    assert (sheet["channel"], sheet["batch"], sheet["received"]) == ("paper-manual", "urna 4", "2026-01-05")
    assert sheet["answers"] == {"q1": "invalid", "q8": {"uprzejmosc": 2, "sprawnosc": "invalid"}}
    bad = c.post("/admin/wprowadz/lesko-f1", data={**_fresh(c, "/admin/wprowadz/lesko-f1"), "data": "jutro"})
    assert bad.status_code == 400 and "Data przyjęcia: data przyjęcia &#39;jutro&#39; jest niepoprawna" in bad.text


# --- in a real browser -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from chromium_or_skip()


def _shot(page: Any, tmp: Path, name: str) -> None:
    shot(page, tmp, f"{name}")


def _focused(page: Any) -> dict[str, str]:
    return dict(page.evaluate("() => { const e = document.activeElement; return {id: e.id || '', name: e.name || '', "
                              "tag: e.tagName, value: e.value || '', type: e.type || ''}; }"))


def _tab_to(page: Any, **want: str) -> None:
    """Press Tab until the focused element has the wanted attributes (it must be reachable by Tab)."""
    for _ in range(120):
        page.keyboard.press("Tab")
        f = _focused(page)
        if all(f.get(k) == v for k, v in want.items()):
            return
    raise AssertionError(f"Tab never reached {want}")


def _arrow_to(page: Any, value: str, key: str = "ArrowRight") -> None:
    """Move the selection within a radio group with the arrow key until `value` is checked."""
    for _ in range(20):
        f = _focused(page)
        if f["value"] == value and page.evaluate("() => document.activeElement.checked"):
            return
        page.keyboard.press(key)
    raise AssertionError(f"arrow keys never reached {value}")


def _check_axe(page: Any, found: dict[str, list[dict[str, Any]]], name: str) -> None:
    found[name] = axe_violations(page)


def _finish_axe(found: dict[str, list[dict[str, Any]]]) -> None:
    assert {k: v for k, v in found.items() if v} == {}
    if not AXE.exists():
        if os.environ.get("ANKIETA_REQUIRE_BROWSER"):
            pytest.fail("axe-core is missing although `make test` runs `npm ci`")
        pytest.skip("the flow passed, but axe-core is not installed (run `npm ci` in the repository root)")


def test_citizen_fills_the_survey_on_a_phone_with_the_keyboard(chromium: Any, ws: workspace.Workspace, tmp_path: Path) -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    with serve(ws.home) as srv:
        ctx = chromium.new_context(viewport=PHONE, bypass_csp=True, locale="pl-PL", is_mobile=True, has_touch=True,
                                   device_scale_factor=2)
        page = ctx.new_page()
        page.goto(f"{srv.url}/ankieta")
        _check_axe(page, found, "lista")
        _tab_to(page, tag="A")                                   # skip link first, then the survey
        _tab_to(page, tag="A", id="")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url.endswith("/ankieta/lesko-f1")
        _check_axe(page, found, "ankieta")
        _shot(page, tmp_path, "telefon-ankieta")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]   # no sideways scrolling

        _tab_to(page, name="q1")
        page.keyboard.press("Space")                                     # kobieta
        _tab_to(page, name="q2")
        _arrow_to(page, "36-45")
        _tab_to(page, name="q4")
        _arrow_to(page, "usc", "ArrowDown")
        _tab_to(page, name="q5")
        _arrow_to(page, "inna", "ArrowDown")
        _tab_to(page, name="q5.inna.text")
        page.keyboard.type("odbiór dowodu osobistego")
        # q6 (required) is skipped on purpose
        _tab_to(page, name="q7")
        page.keyboard.press("Space")                                     # brak-trudnosci
        for row, grade in (("uprzejmosc", "5"), ("sprawnosc", "4"), ("kompetencja", "5"), ("informacja", "3")):
            _tab_to(page, name=f"q8.{row}")
            _arrow_to(page, grade)
        # q8.terminowosc (required row) is skipped on purpose
        _tab_to(page, name="q8.uwagi.text")
        page.keyboard.type("Długo czekałem na decyzję.")
        _tab_to(page, name="q10.internet")
        _arrow_to(page, "negatywnie")
        _tab_to(page, name="uwagi.text")
        page.keyboard.type("Proszę o dłuższe godziny pracy w czwartki.")
        _tab_to(page, tag="BUTTON")
        with page.expect_navigation():
            page.keyboard.press("Enter")

        # the round trip: nothing stored, the error summary has the focus and names both questions
        assert _count(ws) == 0 and page.title().startswith("Błąd:")
        assert _focused(page)["id"] == "bledy"
        summary = page.inner_text("#bledy")
        assert "Pytanie 6 (Czy sprawa została załatwiona w terminie i trybie…): wybierz jedną odpowiedź" in summary
        assert "Pytanie 8 (Jak ocenia Pani/Pan jakość otrzymanej usługi?): oceń każdy wiersz tabeli; brakuje: " \
               "terminowość załatwienia spraw" in summary
        assert page.get_attribute("#pytanie-q6", "aria-invalid") == "true"
        assert "pytanie-q6-blad" in str(page.get_attribute("#pytanie-q6", "aria-describedby"))
        assert page.is_checked('[id="f-q1.kobieta"]') and page.input_value('[id="uwagi.text"], [name="uwagi.text"]') \
            == "Proszę o dłuższe godziny pracy w czwartki."
        _check_axe(page, found, "ankieta-bledy")
        _shot(page, tmp_path, "telefon-bledy")
        page.keyboard.press("Tab")                                       # the first error's link
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert _focused(page)["id"] == "f-q6.tak"                        # the link took the keyboard to the question
        page.keyboard.press("Space")
        _tab_to(page, name="q8.terminowosc")
        _arrow_to(page, "4")
        _tab_to(page, name="q8.uwagi.text")
        _tab_to(page, tag="BUTTON")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url.endswith("/ankieta/lesko-f1/dziekujemy")
        assert "Dziękujemy za wypełnienie ankiety" in page.content() and "W-" not in page.inner_text("main")
        _check_axe(page, found, "dziekujemy")
        _shot(page, tmp_path, "telefon-dziekujemy")
        ctx.close()

        desk = chromium.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True, locale="pl-PL")
        dpage = desk.new_page()
        dpage.goto(f"{srv.url}/ankieta/lesko-f1")
        _shot(dpage, tmp_path, "komputer-ankieta")
        desk.close()

    sheets = [s for s in json.loads(export.export_json(ws))["sheets"] if s["channel"] == "online"]
    assert len(sheets) == 1
    s = sheets[0]
    assert s["version"] == 2 and s["received"] == date.today().isoformat() and s["status"] == "final"
    assert s["answers"] == {
        "q1": "kobieta", "q2": "36-45", "q4": "usc", "q5": "inna", "q6": "tak", "q7": ["brak-trudnosci"],
        "q8": {"uprzejmosc": 5, "sprawnosc": 4, "kompetencja": 5, "informacja": 3, "terminowosc": 4},
        "q10": {"internet": "negatywnie"}, "uwagi": "Proszę o dłuższe godziny pracy w czwartki."}
    assert s["texts"] == {"q5.inna.text": "odbiór dowodu osobistego", "q8.uwagi.text": "Długo czekałem na decyzję.",
                          "uwagi.text": "Proszę o dłuższe godziny pracy w czwartki."}
    today = date.today()
    rep, records = reporting.build(ws, Period(today, today), "test")
    assert rep.method.included == 1 and [(c, n) for c, _, n in rep.method.by_channel] == [("online", 1)]
    assert records[0].answers["q8"]["terminowosc"] == 4 and records[0].texts["uwagi.text"].startswith("Proszę")
    _finish_axe(found)


def test_admin_types_in_a_paper_survey(chromium: Any, ws: workspace.Workspace, tmp_path: Path) -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    with serve(ws.home) as srv:
        ctx = chromium.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True, locale="pl-PL")
        page = ctx.new_page()
        login(page, srv.url, "admin")
        page.goto(f"{srv.url}/admin/wprowadz")
        _check_axe(page, found, "wybor")
        with page.expect_navigation():
            page.click("text=Ankieta do badania zadowolenia klienta")
        _check_axe(page, found, "wprowadz")
        _tab_to(page, id="partia")
        page.keyboard.type("urna 3, 2026-11")
        page.keyboard.press("Enter")                                     # Enter in a text field must not save
        page.wait_for_timeout(300)
        assert page.url.endswith("/admin/wprowadz/lesko-f1") and _count(ws, "paper-manual") == 0
        _tab_to(page, name="q1")
        assert _focused(page)["value"] == "_brak"                        # every question starts at "brak odpowiedzi"
        page.keyboard.press("ArrowRight")                                # kobieta
        _tab_to(page, name="q2")
        page.keyboard.press("ArrowLeft")                                 # wraps to "nieważna"
        _tab_to(page, name="q8.uprzejmosc")
        _arrow_to(page, "4")
        _tab_to(page, name="q8.sprawnosc")
        page.keyboard.press("ArrowLeft")                                 # this row: "nieważna"
        _shot(page, tmp_path, "wprowadz-formularz")
        _tab_to(page, tag="BUTTON")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "/zapisano/R-" in page.url and _focused(page)["tag"] == "A"   # "Wprowadź następną" has the focus
        assert "Pytanie 2 (Wiek)\nnieważna" in page.inner_text(".saved") or "nieważna" in page.inner_text(".saved")
        _check_axe(page, found, "zapisano")
        _shot(page, tmp_path, "wprowadz-zapisano")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.input_value("#partia") == "urna 3, 2026-11" and page.input_value("#data") == date.today().isoformat()
        ctx.close()

    sheet = next(s for s in json.loads(export.export_json(ws))["sheets"] if s["channel"] == "paper-manual")
    assert sheet["answers"] == {"q1": "kobieta", "q2": "invalid", "q8": {"uprzejmosc": 4, "sprawnosc": "invalid"}}
    assert (sheet["batch"], sheet["received"]) == ("urna 3, 2026-11", date.today().isoformat())
    _finish_axe(found)
