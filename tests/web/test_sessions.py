"""Sessions and accounts (issue 18): sessions end on the server, throttling slows an attacker without locking out
the owner and stays bounded in memory, "add user" never overwrites an account, the password policy refuses the
obvious, and `ankieta users add` takes the password from one line of standard input."""

from __future__ import annotations

import os
import random
import string
import subprocess
import sys
import tracemalloc
from typing import Any

import pytest
from flask.testing import FlaskClient

from pipeline import store
from pipeline.base.errors import InvalidInput
from pipeline.runs import accounts, passwords
from pipeline.runs.workspace import Workspace
from pipeline.web import DEVICE_COOKIE, create_app
from tests.web.harness import form_token

OWNER, OWNER_PW = "admin", "admin-haslo-456"
ATTACKER_ADDR, OWNER_ADDR, OTHER_ADDR = "10.0.0.66", "10.0.0.5", "10.0.0.7"


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    accounts.add_user(workspace.db, "test", OWNER, "admin", OWNER_PW)
    accounts.add_user(workspace.db, "test", "ala", "reviewer", "ala-ma-kota-123")
    return workspace


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _login(c: FlaskClient, name: str, password: str, addr: str = OWNER_ADDR) -> Any:
    token = form_token(c, "/logowanie")
    return c.post("/logowanie", data={"name": name, "password": password, "csrf_token": token},
                  environ_base={"REMOTE_ADDR": addr})


def _get(c: FlaskClient, url: str, addr: str = OWNER_ADDR) -> Any:
    return c.get(url, environ_base={"REMOTE_ADDR": addr})


def test_a_cookie_copied_before_logout_opens_nothing_after(ws: Workspace) -> None:
    app = create_app(ws.home)
    c = app.test_client()
    assert _login(c, OWNER, OWNER_PW).status_code == 302
    assert _get(c, "/admin").status_code == 200
    cookie = c.get_cookie("ankieta_sesja")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("ankieta_sesja", cookie.value)
    assert _get(thief, "/admin").status_code == 200          # the copy works while the owner is logged in ...
    r = c.post("/wylogowanie", data={"csrf_token": form_token(c, "/admin")}, environ_base={"REMOTE_ADDR": OWNER_ADDR})
    assert r.status_code == 302
    r = _get(thief, "/admin")                                 # ... and not a moment after the owner logged out
    assert r.status_code == 302 and "/logowanie" in r.headers["Location"]
    assert store.rows(ws.db, "select count(*) as n from web_sessions where user = ?", [OWNER])[0]["n"] == 0


def test_a_new_password_ends_every_other_session(ws: Workspace) -> None:
    app = create_app(ws.home)
    here, elsewhere = app.test_client(), app.test_client()
    assert _login(here, OWNER, OWNER_PW).status_code == 302
    assert _login(elsewhere, OWNER, OWNER_PW, OTHER_ADDR).status_code == 302
    copied = here.get_cookie("ankieta_sesja")
    assert copied is not None
    r = here.post("/haslo", data={"old": OWNER_PW, "new": "Kasztanowa-aleja-77", "repeat": "Kasztanowa-aleja-77",
                                  "csrf_token": form_token(here, "/haslo")}, environ_base={"REMOTE_ADDR": OWNER_ADDR})
    assert r.status_code == 303
    assert _get(here, "/admin").status_code == 200                       # the browser that changed it goes on
    assert _get(elsewhere, "/admin", OTHER_ADDR).status_code == 302      # every other session has ended
    stale = app.test_client()
    stale.set_cookie("ankieta_sesja", copied.value)                       # a cookie copied before the change
    assert _get(stale, "/admin").status_code == 302
    assert store.rows(ws.db, "select count(*) as n from web_sessions where user = ?", [OWNER])[0]["n"] == 1


def test_disabling_an_account_ends_its_sessions(ws: Workspace) -> None:
    app = create_app(ws.home)
    ala = app.test_client()
    assert _login(ala, "ala", "ala-ma-kota-123").status_code == 302
    accounts.set_active(ws.db, OWNER, "ala", False)
    assert store.rows(ws.db, "select count(*) as n from web_sessions where user = 'ala'")[0]["n"] == 0
    assert _get(ala, "/przeglad").status_code == 302


def test_the_owner_logs_in_while_the_attackers_address_is_throttled(ws: Workspace) -> None:
    clock = Clock()
    app = create_app(ws.home, throttle=accounts.Throttle(clock=clock))
    owner = app.test_client()
    assert _login(owner, OWNER, OWNER_PW).status_code == 302             # an earlier day: this browser is known now
    assert owner.get_cookie(DEVICE_COOKIE, path="/logowanie") is not None
    owner.post("/wylogowanie", data={"csrf_token": form_token(owner, "/admin")}, environ_base={"REMOTE_ADDR": OWNER_ADDR})
    attacker = app.test_client()
    tried = refused = 0
    for _ in range(40):           # an attacker who waits out every delay and keeps guessing
        r = _login(attacker, OWNER, f"zgaduje-{tried}", ATTACKER_ADDR)
        if r.status_code == 429:
            refused += 1
            clock.now += 61       # waiting is all he can do
            continue
        assert r.status_code == 401
        tried += 1
    assert refused > 0 and tried < 20                                     # slowed: most of his time is waiting
    # the right password from the attacker's address is refused without being checked
    assert _login(attacker, OWNER, OWNER_PW, ATTACKER_ADDR).status_code == 429
    # the owner, from the known browser, gets straight in
    assert _login(owner, OWNER, OWNER_PW).status_code == 302
    # from a new browser elsewhere the account's wait applies, but it is at most a minute, never a lock-out
    fresh = app.test_client()
    for _ in range(8):
        r = _login(attacker, OWNER, "jeszcze-raz", ATTACKER_ADDR)         # he keeps the account's key hot ...
    first = _login(fresh, OWNER, OWNER_PW, OTHER_ADDR)
    if first.status_code == 429:
        assert "Spróbuj ponownie za" in first.text
        clock.now += 61
        first = _login(fresh, OWNER, OWNER_PW, OTHER_ADDR)
    assert first.status_code == 302
    assert _login(attacker, OWNER, OWNER_PW, ATTACKER_ADDR).status_code == 429   # ... while his address stays blocked


def test_backoff_doubles_and_is_capped_per_kind_of_key() -> None:
    clock = Clock()
    t = accounts.Throttle(free_failures=5, first_delay_s=2, address_max_delay_s=900, account_max_delay_s=60, clock=clock)
    waits = []
    for _ in range(16):
        t.failed("addr:1.2.3.4", "user:ala")
        waits.append((t.retry_after("addr:1.2.3.4"), t.retry_after("user:ala")))
    assert waits[:4] == [(0, 0)] * 4
    assert [a for a, _ in waits[4:9]] == [2, 4, 8, 16, 32]
    assert max(a for a, _ in waits) == 900 and max(u for _, u in waits) == 60
    t.succeeded("user:ala")
    assert t.retry_after("user:ala") == 0 and t.retry_after("addr:1.2.3.4") == 900
    clock.now += 25 * 3600                                                 # a day later everything is forgotten
    assert t.retry_after("addr:1.2.3.4") == 0


def test_limiter_memory_is_bounded_whatever_the_number_of_names() -> None:
    t = accounts.Throttle(max_keys=10_000)
    rnd = random.Random(1)
    names = ["".join(rnd.choices(string.ascii_lowercase, k=12)) for _ in range(160_000)]
    tracemalloc.start()
    for name in names[:10_000]:
        t.failed(f"addr:10.{rnd.randrange(256)}.{rnd.randrange(256)}.1", accounts.account_key(name))
    after_10k = tracemalloc.get_traced_memory()[0]
    for name in names[10_000:]:
        t.failed(f"addr:10.{rnd.randrange(256)}.{rnd.randrange(256)}.1", accounts.account_key(name))
    after_160k = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(t) <= 10_000
    assert after_160k - after_10k < 1_000_000        # 150,000 more names tried: memory did not grow with them
    assert after_160k < 8_000_000


def test_add_user_refuses_an_existing_name(ws: Workspace) -> None:
    c = create_app(ws.home).test_client()
    assert _login(c, OWNER, OWNER_PW).status_code == 302
    for name, role in ((OWNER, "reviewer"), ("ala", "admin"), ("ALA", "admin")):
        r = c.post("/admin/uzytkownicy", data={"name": name, "role": role, "password": "Nowe-mocne-haslo-5",
                                               "csrf_token": form_token(c, "/admin/uzytkownicy")},
                   environ_base={"REMOTE_ADDR": OWNER_ADDR})
        assert r.status_code == 400 and "już istnieje" in r.text
    assert store.get_user(ws.db, OWNER)["role"] == "admin"  # type: ignore[index]   # no self-demotion
    assert store.get_user(ws.db, "ALA") is None
    assert accounts.authenticate(ws.db, "ala", "ala-ma-kota-123") is not None     # nobody else's password reset
    assert accounts.authenticate(ws.db, "ala", "Nowe-mocne-haslo-5") is None


@pytest.mark.parametrize("password", ["aaaaaaaaaa", "1234567890", "qwertyuiop", "Password123!", "p@ssw0rd2024",
                                      "haslohaslo", "kochanie1234", "zaq12wsx!!", "abcdefghijkl", "ola-ola-2026"])
def test_the_password_policy_refuses_the_obvious(ws: Workspace, password: str) -> None:
    with pytest.raises(InvalidInput):
        accounts.add_user(ws.db, "test", "ola", "reviewer", password)
    assert store.get_user(ws.db, "ola") is None


def test_the_password_policy_accepts_real_passwords(ws: Workspace) -> None:
    for i, password in enumerate(("Kasztanowa-aleja-77", "zielony korytarz przy oknie", "kfjqpzmxbvtr", "Żółta-łódź-9")):
        accounts.add_user(ws.db, "test", f"osoba{i}", "reviewer", password)
    assert passwords.entropy_bits("aaaaaaaaaa") < 10 < passwords.entropy_bits("Kasztanowa-aleja-77")
    assert len(passwords.common_passwords()) > 19_000


def test_users_add_takes_the_password_from_one_line_of_stdin(ws: Workspace) -> None:
    r = subprocess.run([sys.executable, "-m", "pipeline.cli", "--home", str(ws.home), "users", "add", "ola", "--role",
                        "reviewer"], input="Kasztanowa-aleja-77\n", capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items() if k != "ANKIETA_PASSWORD"})
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert accounts.authenticate(ws.db, "ola", "Kasztanowa-aleja-77") is not None
    r = subprocess.run([sys.executable, "-m", "pipeline.cli", "--home", str(ws.home), "users", "add", "ola", "--role",
                        "reviewer"], input="aaaaaaaaaa\n", capture_output=True, text=True)
    assert r.returncode == 6 and "Traceback" not in r.stderr and "Błąd:" in r.stderr
