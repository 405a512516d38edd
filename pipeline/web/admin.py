"""The administrator's panel: dashboard, printing, uploads, reports, office and survey editing, users."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__)
