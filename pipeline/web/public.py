"""Public pages besides the survey: the accessibility statement, the "Oceń Urząd" banner and poster."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__)
