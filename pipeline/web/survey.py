"""Public survey pages (no login): /ankieta/<form> as an accessible HTML form, submission, thanks page."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("survey", __name__)
