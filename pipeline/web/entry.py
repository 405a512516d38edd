"""Hand entry of paper surveys by an administrator (channel paper-manual)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("entry", __name__)
