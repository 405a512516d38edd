"""A real server (waitress, in a thread, on a free loopback port) and a real browser (Debian's
/usr/bin/chromium through Playwright's sync API; Playwright's own browser download is never used).

The Chromium flags keep it from calling out: this machine's network is closed and background
networking would only produce refused connections and slow starts.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipeline.runs import accounts
from pipeline.runs.ingest import batch
from pipeline.runs.workspace import Workspace, init_workspace, open_workspace, publish_form
from pipeline.web import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PASSWORDS = {"ala": "ala-ma-kota-123", "admin": "admin-haslo-456"}


def make_batch(home: Path, scans: Path, sheets: int = 8, seed: int = 11) -> Workspace:
    """A reviewed-to-be batch: the office profile (uncertain boxes, double marks, free text) at 200 DPI."""
    from samples.generate import generate_set
    from samples.profiles import PROFILES
    from samples.synth import DEMO_OFFICE

    if not (scans / "truth.json").exists():
        generate_set(scans, sheets, seed=seed, profile=replace(PROFILES["office"], dpi=((200, 1.0),)), formats=("pdf",), files=2)
    ws = init_workspace(home, DEMO_OFFICE)
    for form in ("lesko-f1", "satysfakcja-5"):
        publish_form(ws, form)
    batch.ingest(ws, sorted(scans.glob("*.pdf")), label="urna 1, 2026-11", workers=1)
    accounts.add_user(ws.db, "test", "ala", "reviewer", PASSWORDS["ala"])
    accounts.add_user(ws.db, "test", "admin", "admin", PASSWORDS["admin"])
    return ws


@dataclass(frozen=True)
class Server:
    url: str
    home: Path


@contextmanager
def serve(home: Path) -> Iterator[Server]:
    from waitress import create_server

    server: Any = create_server(create_app(home), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{server.effective_port}", home)
    finally:
        server.close()
        thread.join(timeout=5)


@contextmanager
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def chromium_or_skip() -> Iterator[Any]:
    """Debian's Chromium for a module's browser tests (use as a module-scoped fixture). Missing, the tests are
    skipped, except under `make test`, which installs it and sets ANKIETA_REQUIRE_BROWSER: there it fails."""
    import pytest

    if not CHROMIUM.exists():
        if os.environ.get("ANKIETA_REQUIRE_BROWSER"):
            pytest.fail("/usr/bin/chromium is missing although `make test` should have installed it")
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium); `make test` installs it")
    with browser() as b:
        yield b


def shot(page: Any, tmp: Path, name: str) -> None:
    """A full-page screenshot into $ANKIETA_SCREENSHOTS (to look at) or the test's tmp folder."""
    folder = Path(os.environ["ANKIETA_SCREENSHOTS"]) if os.environ.get("ANKIETA_SCREENSHOTS") else tmp
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def form_token(client: Any, url: str) -> str:
    """The CSRF token of the form on `url` (a Flask test client), as a browser would send it back."""
    m = re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).text)
    assert m, url
    return m.group(1)


def signed_in(home: Path, name: str | None, password: str | None = None, throttle: accounts.Throttle | None = None) -> Any:
    """A test client of a fresh app on `home`, logged in as `name` (None: anonymous)."""
    client = create_app(home, throttle=throttle).test_client()
    if name:
        r = client.post("/logowanie", data={"name": name, "password": password or PASSWORDS[name],
                                             "csrf_token": form_token(client, "/logowanie")})
        assert r.status_code == 302, r.text
    return client


def login(page: Any, base: str, name: str) -> None:
    page.goto(f"{base}/logowanie")
    page.fill("#name", name)
    page.fill("#password", PASSWORDS[name])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/przeglad")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core (from npm, served from node_modules) on the current page: WCAG 2.0/2.1 A and AA rules.
    Without node_modules/axe-core (no `npm ci`) there is nothing to run: the caller reports that as a skip."""
    if not AXE.exists():
        return []
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
    }""")
    return list(result)


def copy_workspace(src: Path, dst: Path) -> Workspace:
    """A private copy of a prepared workspace (the database is checkpointed first so the copy is whole)."""
    import shutil

    w = open_workspace(src)
    w.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    w.db.close()
    shutil.copytree(src, dst)
    return open_workspace(dst)
