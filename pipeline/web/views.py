"""Review pages: the queue, one sheet with its current item, decisions, undo, and the images.

Every route needs a reviewer or an admin. Images are looked up in the database by page id (and text area
id); the request never names a file, and a stored name that is not a plain file name is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from pipeline import store
from pipeline.base.errors import AnkietaError, NotFound
from pipeline.runs import review
from pipeline.web import db_int, requires, ws

bp = Blueprint("review", __name__)
REVIEWERS = ("reviewer", "admin")
METRICS_SHOWN = (("coverage", "pokrycie"), ("white_share", "białe pola"), ("extent_mm", "znak mm"),
                 ("stroke_mm", "kreska mm"), ("darkness", "ciemność"), ("position_quality", "położenie"))


@bp.route("/przeglad")
@requires(*REVIEWERS)
def queue_page() -> ResponseReturnValue:
    rows = review.queue(ws().db)
    first = review.next_open(ws().db, rows[0].sheet_id) if rows else None
    start = url_for("review.sheet_page", sheet_id=first[0], pozycja=first[1]) if first else ""
    return render_template("queue.html", rows=rows, start=start, kinds=review.KIND_LABELS,
                           total=sum(r.open_items for r in rows))


def _item_url(target: tuple[str, int] | None) -> str:
    if target is None:
        return url_for("review.queue_page")
    return url_for("review.sheet_page", sheet_id=target[0], pozycja=target[1])


@bp.route("/arkusz/<sheet_id>")
@requires(*REVIEWERS)
def sheet_page(sheet_id: str) -> ResponseReturnValue:
    db = ws().db
    try:
        view = review.sheet_view(db, sheet_id)
    except NotFound:
        abort(404)
    item = None
    wanted = request.args.get("pozycja", type=db_int)
    if wanted is not None:
        item = next((i for i in view.items if i.id == wanted), None)
    if item is None and view.items:
        item = view.open_items[0] if view.open_items else view.items[0]
    ids = [i.id for i in view.items]
    pos = ids.index(item.id) if item else -1
    prev_url = url_for("review.sheet_page", sheet_id=sheet_id, pozycja=ids[pos - 1]) if pos > 0 else ""
    if 0 <= pos < len(ids) - 1:
        next_url = url_for("review.sheet_page", sheet_id=sheet_id, pozycja=ids[pos + 1])
    else:
        nxt = review.next_open(db, sheet_id, item.id if item else None)
        next_url = _item_url(nxt) if nxt and nxt[0] != sheet_id else ""
    upcoming = review.next_open(db, sheet_id, item.id if item else None)
    prefetch: list[str] = []
    if upcoming and upcoming[0] != sheet_id:
        # the next sheet's page images: the decision's redirect then lands on a page whose images are cached
        prefetch = [url_for("review.page_image", page_id=p["id"]) for p in store.sheet_pages(db, upcoming[0])]
    focus_box = request.args.get("kratka", "")
    boxes = [b for p in view.pages for b in p.boxes]
    left = review.queue(db)
    return render_template(
        "sheet.html", view=view, item=item, pos=pos, prev_url=prev_url, next_url=next_url, prefetch=prefetch,
        focus_box=focus_box, boxes=boxes, states=review.STATE_LABELS, kinds=review.KIND_LABELS,
        metrics_shown=METRICS_SHOWN, queue_left=sum(r.open_items for r in left), sheets_left=len(left),
        group_label=lambda key: _group_label(view, key),
    )


def _group_label(view: review.SheetView, key: str) -> str:
    qid, _, row = key.partition(".")
    try:
        q = view.layout.question(qid)
    except KeyError:
        return key
    if row:
        label = next((r.label for r in q.rows if r.id == row), row)
        return f"{q.text} — wiersz „{label}”"
    return q.text


@bp.route("/arkusz/<sheet_id>/decyzja", methods=["POST"])
@requires(*REVIEWERS)
def decide(sheet_id: str) -> ResponseReturnValue:
    db = ws().db
    f = request.form
    action, target, value = f.get("action", ""), f.get("target", ""), f.get("value", "")
    item_id = f.get("item", type=db_int)
    user = current_user.name
    stay = False
    if action == "box":
        review.decide_box(db, sheet_id, target, value, user)
        stay = f.get("stay") == "1"          # a correction of any box keeps the reviewer where they were
        flash(f"Zapisano: kratka {target} – {review.STATE_LABELS.get(value, value)}.")
    elif action == "choose":
        review.choose_answer(db, sheet_id, target, value, user)
        flash(f"Zapisano: wybrana odpowiedź {value}.")
    elif action == "invalid":
        review.declare_invalid(db, sheet_id, target, user)
        flash(f"Zapisano: {target} – odpowiedź nieważna.")
    elif action == "text":
        review.transcribe(db, sheet_id, target, f.get("text", ""), user, complaint=f.get("complaint") == "tak")
        flash("Zapisano tekst" + (" i oznaczono jako skargę." if f.get("complaint") == "tak" else "."))
    elif action == "duplicate":
        review.resolve_duplicate(db, sheet_id, value, user)
        flash("Zapisano wybór skanu.")
    elif action == "partial":
        review.accept_partial(db, sheet_id, user)
        flash("Przyjęto arkusz jako niepełny.")
    else:
        abort(400)
    if stay:
        return redirect(url_for("review.sheet_page", sheet_id=sheet_id, pozycja=item_id))
    nxt = review.next_open(db, sheet_id, item_id)
    if nxt is None:
        flash("Kolejka jest pusta: wszystko przejrzane.")
    return redirect(_item_url(nxt), 303)


@bp.route("/arkusz/<sheet_id>/cofnij", methods=["POST"])
@requires(*REVIEWERS)
def undo(sheet_id: str) -> ResponseReturnValue:
    action_id = request.form.get("action_id", type=db_int)
    try:
        review.undo(ws().db, sheet_id, current_user.name, action_id)
        flash("Cofnięto decyzję.")
    except AnkietaError as exc:
        flash(exc.message)
    return redirect(url_for("review.sheet_page", sheet_id=sheet_id, pozycja=request.form.get("item", type=db_int)), 303)


def _stored_file(folder: Path, name: Any) -> Path:
    """A file named in the database, inside `folder`; anything that is not a plain file name is refused."""
    if not isinstance(name, str) or not name or Path(name).name != name or name.startswith("."):
        abort(404)
    path = folder / name
    if path.resolve().parent != folder.resolve() or not path.is_file():
        abort(404)
    return path


@bp.route("/obraz/strona/<int:page_id>")
@requires(*REVIEWERS)
def page_image(page_id: int) -> ResponseReturnValue:
    found = store.rows(ws().db, "select image_path from pages where id = ? and status = 'read'", [page_id])
    if not found:
        abort(404)
    resp = send_file(_stored_file(ws().folder("pages"), found[0]["image_path"]), mimetype="image/jpeg", conditional=True,
                     max_age=3600)
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp


@bp.route("/obraz/tekst/<int:page_id>/<area_id>")
@requires(*REVIEWERS)
def text_image(page_id: int, area_id: str) -> ResponseReturnValue:
    found = store.rows(ws().db, "select crop_path from text_readings where page_id = ? and area_id = ?", [page_id, area_id])
    if not found:
        abort(404)
    resp = send_file(_stored_file(ws().folder("crops"), found[0]["crop_path"]), mimetype="image/png", conditional=True,
                     max_age=3600)
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp
