"""Public pages besides the survey: the accessibility statement, the "Oceń Urząd" banner and poster.

No login and nothing private: the statement shows the office's published contact data, the banner page is
for the office's webmaster, the poster PDF only holds the survey address. When the office has not set its
public address (`ankieta office set --public-url`), links are built from the address of this request and the
banner page says so, because an internal host name would end up on the office's site and on paper.
"""

from __future__ import annotations

from functools import lru_cache

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from pipeline import store
from pipeline.base import config as C
from pipeline.base.errors import NotFound
from pipeline.forms import poster
from pipeline.records.office import Office
from pipeline.web import ws

bp = Blueprint("public", __name__)
POSTER_CACHE_ENTRIES = 16       # a handful of forms x addresses; bounded, as the Host header is the client's


def _base(office: Office) -> str:
    return office.public_url.rstrip("/") or request.url_root.rstrip("/")


def _published() -> list[poster.PublishedForm]:
    return poster.published_forms(store.list_form_versions(ws().db))


def _chosen_form(forms: list[poster.PublishedForm]) -> poster.PublishedForm | None:
    """?form=... when given (404 when it is not published), otherwise the office's main form."""
    try:
        return poster.choose_form(forms, request.args.get("form"))
    except NotFound:
        abort(404)


@bp.route("/deklaracja-dostepnosci")
def declaration() -> ResponseReturnValue:
    office = store.get_office(ws().db)
    dates = sorted(str(r["published_at"])[:10] for r in store.list_form_versions(ws().db))
    return render_template("declaration.html", office=office, service_url=_base(office),
                           published=dates[0] if dates else "", updated=dates[-1] if dates else "",
                           phone_href="".join(ch for ch in office.phone if ch.isdigit() or ch == "+"))


@bp.route("/baner")
def banner_page() -> ResponseReturnValue:
    office = store.get_office(ws().db)
    forms = _published()
    chosen = _chosen_form(forms)
    base = _base(office)
    return render_template(
        "banner.html", office=office, forms=forms, chosen=chosen, base=base,
        url=poster.survey_url(base, chosen.form) if chosen else "",
        snippet=poster.banner_snippet(office, base, chosen.form) if chosen else "",
        alt=poster.banner_alt(office), png=poster.BANNER_PNG, svg=poster.BANNER_SVG,
        width=C.BANNER_WIDTH_PX, height=C.BANNER_HEIGHT_PX, scale=C.BANNER_PNG_SCALE,
    )


@lru_cache(maxsize=POSTER_CACHE_ENTRIES)
def _poster(office: Office, url: str) -> bytes:
    return poster.poster_pdf(office, url)


@bp.route("/plakat.pdf")
def poster_pdf() -> ResponseReturnValue:
    office = store.get_office(ws().db)
    chosen = _chosen_form(_published())
    if chosen is None:
        abort(404)
    resp = Response(_poster(office, poster.survey_url(_base(office), chosen.form)), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="{poster.poster_filename(chosen.form)}"'
    resp.headers["Cache-Control"] = "no-cache"     # office data or the address may change: always revalidate
    return resp
