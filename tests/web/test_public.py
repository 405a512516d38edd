"""Public pages besides the survey: the accessibility statement with the office's contact data, the banner page
with its embeddable snippet, the banner files and the poster; then axe-core and phone/desktop screenshots of
both pages in real headless Chromium."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zxingcpp
from flask.testing import FlaskClient
from PIL import Image

from pipeline import store
from pipeline.forms import poster
from pipeline.runs import workspace
from pipeline.web import create_app
from tests.conftest import LESKO
from tests.web.harness import AXE, axe_violations, chromium_or_skip, copy_workspace, serve, shot

CONTACT = {"coordinator": "Anna Nowak", "email": "dostepnosc@lesko.pl", "phone": "+48 13 469 66 00",
           "statement_date": "2026-03-15", "public_url": "https://ankieta.lesko.pl"}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("public") / "ws"
    ws = workspace.init_workspace(home, LESKO)
    for form in ("satysfakcja-5", "lesko-f1"):
        workspace.publish_form(ws, form)
    # satysfakcja-5 went online first, so it is the office's main form (the same second would tie)
    ws.db.execute("update form_versions set published_at = '2026-01-05T10:00:00' where form = 'satysfakcja-5'")
    ws.db.close()
    return home


@pytest.fixture
def ws(prepared: Path, tmp_path: Path) -> workspace.Workspace:
    return copy_workspace(prepared, tmp_path / "ws")


def _client(ws: workspace.Workspace) -> FlaskClient:
    return create_app(ws.home).test_client()


def _by_id(html: str, element_id: str) -> str:
    """The text inside the element with `element_id` (tags stripped, entities decoded, spaces collapsed)."""
    m = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert m, element_id
    return " ".join(unescape(re.sub(r"<[^>]+>", "", m.group(2))).split())


def test_statement_shows_the_offices_contact_data(ws: workspace.Workspace) -> None:
    store.set_office(ws.db, "test", **CONTACT)
    r = _client(ws).get("/deklaracja-dostepnosci")
    assert r.status_code == 200
    html = r.text
    assert _by_id(html, "a11y-podmiot") == "Urząd Miasta i Gminy Lesko"
    assert 'id="a11y-url" href="https://ankieta.lesko.pl"' in html
    assert _by_id(html, "a11y-osoba") == "Anna Nowak"
    assert _by_id(html, "a11y-email") == "dostepnosc@lesko.pl" and 'href="mailto:dostepnosc@lesko.pl"' in html
    assert _by_id(html, "a11y-telefon") == "+48 13 469 66 00" and 'href="tel:+48134696600"' in html
    assert _by_id(html, "a11y-data-sporzadzenie") == "2026-03-15"
    assert _by_id(html, "a11y-data-publikacja") == "2026-01-05"        # the first form version went online
    newest = max(r["published_at"] for r in store.list_form_versions(ws.db))[:10]
    assert _by_id(html, "a11y-data-aktualizacja") == newest and re.fullmatch(r"\d{4}-\d\d-\d\d", newest)
    assert "ul. Parkowa 1, 38-600 Lesko" in _by_id(html, "a11y-architektura")
    status = _by_id(html, "a11y-status")
    assert "częściowo zgodna" in status and "4 kwietnia 2019" in status
    procedure = _by_id(html, "a11y-procedura")
    for needed in ("7 dni", "2 miesiące", "skargę", "Rzecznika Praw Obywatelskich", "alternatywnej formie"):
        assert needed in procedure, needed
    assert "samooceny" in _by_id(html, "a11y-ocena") and "axe-core" in html
    assert "(urząd nie podał" not in html
    assert 'aria-current="page">Deklaracja dostępności' in html     # the footer link says "you are here"


def test_statement_says_what_the_office_has_not_given(ws: workspace.Workspace) -> None:
    ws.db.execute("delete from form_versions")
    store.set_office(ws.db, "test", address="")
    html = _client(ws).get("/deklaracja-dostepnosci").text
    assert _by_id(html, "a11y-osoba") == "(urząd nie podał imienia i nazwiska koordynatora)"
    assert _by_id(html, "a11y-email") == "(urząd nie podał adresu e-mail)" and "mailto:" not in html
    assert _by_id(html, "a11y-telefon") == "(urząd nie podał numeru telefonu)" and "tel:" not in html
    assert _by_id(html, "a11y-data-sporzadzenie") == "(urząd nie podał daty sporządzenia deklaracji)"
    assert _by_id(html, "a11y-data-publikacja") == "(ankieta nie została jeszcze opublikowana)"
    assert "(urząd nie podał adresu)" in _by_id(html, "a11y-architektura")
    assert 'id="a11y-url" href="http://localhost"' in html     # no public address: the one this page was opened at
    assert "None" not in html and "()" not in html


def test_old_accessibility_address_leads_to_the_statement(ws: workspace.Workspace) -> None:
    r = _client(ws).get("/dostepnosc")
    assert r.status_code == 301 and r.headers["Location"] == "/deklaracja-dostepnosci"


def _snippet(html: str) -> str:
    m = re.search(r'<textarea id="kod"[^>]*>(.*?)</textarea>', html, re.S)
    assert m
    return unescape(m.group(1))


def test_banner_page_gives_the_snippet_for_the_main_form_or_the_chosen_one(ws: workspace.Workspace) -> None:
    store.set_office(ws.db, "test", public_url="https://ankieta.lesko.pl/")
    c = _client(ws)
    r = c.get("/baner")
    assert r.status_code == 200 and "nie ustawił publicznego adresu" not in r.text
    assert _snippet(r.text) == poster.banner_snippet(store.get_office(ws.db), "https://ankieta.lesko.pl", "satysfakcja-5")
    assert 'href="https://ankieta.lesko.pl/ankieta/satysfakcja-5"' in _snippet(r.text)
    assert re.findall(r'<option value="([^"]+)"', r.text) == ["satysfakcja-5", "lesko-f1"]
    assert 'src="/static/ocen-urzad.png"' in r.text and 'href="/plakat.pdf?form=satysfakcja-5"' in r.text
    chosen = c.get("/baner?form=lesko-f1")
    assert 'href="https://ankieta.lesko.pl/ankieta/lesko-f1"' in _snippet(chosen.text)
    assert '<option value="lesko-f1" selected>' in chosen.text
    assert c.get("/baner?form=nie-ma-takiej").status_code == 404


def test_banner_page_without_a_public_address_uses_this_one_and_says_so(ws: workspace.Workspace) -> None:
    html = _client(ws).get("/baner").text
    assert "nie ustawił publicznego adresu" in html and "ankieta office set --public-url" in html
    assert 'href="http://localhost/ankieta/satysfakcja-5"' in _snippet(html)
    assert 'src="http://localhost/static/ocen-urzad.png"' in _snippet(html)


def test_banner_page_before_any_form_is_published(ws: workspace.Workspace) -> None:
    ws.db.execute("delete from form_versions")
    c = _client(ws)
    r = c.get("/baner")
    assert r.status_code == 200 and "Nie opublikowano jeszcze żadnej ankiety" in r.text and 'id="kod"' not in r.text
    assert c.get("/plakat.pdf").status_code == 404


def test_banner_files_are_served(ws: workspace.Workspace) -> None:
    c = _client(ws)
    png = c.get("/static/ocen-urzad.png")
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data.startswith(b"\x89PNG")
    svg = c.get("/static/ocen-urzad.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and "Oceń Urząd" in svg.text


def test_poster_is_served_with_the_qr_code_of_the_chosen_survey(ws: workspace.Workspace, tmp_path: Path) -> None:
    store.set_office(ws.db, "test", public_url="https://ankieta.lesko.pl")
    r = _client(ws).get("/plakat.pdf?form=lesko-f1")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert 'filename="plakat-ocen-urzad-lesko-f1.pdf"' in r.headers["Content-Disposition"]
    (tmp_path / "p.pdf").write_bytes(r.data)
    subprocess.run(["pdftoppm", "-r", "100", "-gray", "-png", str(tmp_path / "p.pdf"), str(tmp_path / "p")], check=True)
    image = np.asarray(Image.open(next(tmp_path.glob("p-*.png"))).convert("L"))
    assert [c.text for c in zxingcpp.read_barcodes(image)] == ["https://ankieta.lesko.pl/ankieta/lesko-f1"]
    assert _client(ws).get("/plakat.pdf?form=nie-ma-takiej").status_code == 404


# --- in a real browser -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from chromium_or_skip()


@pytest.mark.parametrize("contact", [True, False], ids=["with-contact-data", "placeholders"])
def test_public_pages_pass_axe_on_phone_and_desktop(chromium: Any, ws: workspace.Workspace, contact: bool,
                                                    tmp_path: Path) -> None:
    if contact:
        store.set_office(ws.db, "test", **CONTACT)
    violations: dict[str, Any] = {}
    with serve(ws.home) as server:
        for width, height, device in ((360, 740, "telefon"), (1280, 900, "komputer")):
            # bypass_csp only so that axe-core can be injected; the pages themselves run under the strict CSP
            ctx = chromium.new_context(viewport={"width": width, "height": height}, bypass_csp=True, locale="pl-PL")
            page = ctx.new_page()
            for path, name in (("/deklaracja-dostepnosci", "deklaracja"), ("/baner", "baner")):
                page.goto(server.url + path)
                assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name}: scrolls sideways"
                shot(page, tmp_path, f"{name}-{device}-{'dane' if contact else 'puste'}")
                page.keyboard.press("Tab")
                assert page.evaluate("document.activeElement.textContent") == "Przejdź do treści"
                violations[f"{name}-{device}"] = axe_violations(page)
            assert page.evaluate("document.querySelector('.banner-preview img').naturalWidth") == 600   # the PNG loaded
            ctx.close()
    assert {k: v for k, v in violations.items() if v} == {}
    if not AXE.exists():
        if os.environ.get("ANKIETA_REQUIRE_BROWSER"):
            pytest.fail("axe-core is missing although `make test` runs `npm ci`")
        pytest.skip("the pages rendered, but axe-core is not installed (run `npm ci` in the repository root)")
