"""Public pages besides the survey: the accessibility statement, the "Oceń Urząd" banner and poster."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from pipeline import store
from pipeline.web import ws

bp = Blueprint("public", __name__)


@bp.route("/deklaracja-dostepnosci")
def declaration() -> ResponseReturnValue:
    return render_template("declaration.html", office=store.get_office(ws().db))
