"""Ids a stranger puts into a URL (issue 18): an integer outside SQLite's range is "not found" (404), never a server
error, in every route that takes one and in every numeric query or form field."""

from __future__ import annotations

import re

import pytest

from pipeline.runs import accounts
from pipeline.runs.workspace import Workspace, publish_form
from pipeline.web import create_app
from tests.web.harness import form_token

HUGE = ("9223372036854775808", "18446744073709551616", "9" * 40)       # 2^63, 2^64, and far beyond


@pytest.fixture
def admin(workspace: Workspace) -> object:
    publish_form(workspace, "lesko-f1")
    accounts.add_user(workspace.db, "test", "admin", "admin", "admin-haslo-456")
    app = create_app(workspace.home)
    app.config["PROPAGATE_EXCEPTIONS"] = False         # a bug must show as the 500 a visitor would get
    c = app.test_client()
    r = c.post("/logowanie", data={"name": "admin", "password": "admin-haslo-456",
                                   "csrf_token": form_token(c, "/logowanie")})
    assert r.status_code == 302
    return c


def test_every_integer_route_answers_404_to_an_id_out_of_range(admin: object) -> None:
    c = admin
    rules = [r for r in c.application.url_map.iter_rules()  # type: ignore[attr-defined]
             if "GET" in (r.methods or ()) and "<int:" in r.rule]
    assert len(rules) >= 3
    for rule in rules:
        for big in HUGE:
            url = re.sub(r"<int:[^>]+>", big, rule.rule)
            url = re.sub(r"<[^>]+>", "x", url)
            r = c.get(url)  # type: ignore[attr-defined]
            assert r.status_code == 404, (url, r.status_code)
        assert c.get(re.sub(r"<[^>]+>", "1", rule.rule)).status_code in (200, 404)  # type: ignore[attr-defined]


def test_numeric_query_and_form_fields_out_of_range_are_ignored(admin: object) -> None:
    c = admin
    for big in HUGE:
        for url in (f"/admin/dziennik?strona={big}", f"/admin/raporty?nowy={big}", f"/admin/ankieta/lesko-f1?wersja={big}",
                    f"/arkusz/nie-ma?pozycja={big}"):
            assert c.get(url).status_code in (200, 404), url  # type: ignore[attr-defined]
        token = form_token(c, "/admin")
        r = c.post("/arkusz/nie-ma/cofnij", data={"action_id": big, "item": big, "csrf_token": token})  # type: ignore[attr-defined]
        assert r.status_code in (302, 303, 404)
        r = c.post("/arkusz/nie-ma/decyzja", data={"action": "box", "target": "q1.x", "value": "marked", "item": big,  # type: ignore[attr-defined]
                                                   "csrf_token": token})
        assert r.status_code in (303, 400, 404)
