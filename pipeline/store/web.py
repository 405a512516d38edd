"""Web accounts, the session secret, and human review decisions grouped into undoable actions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.store.base import DB, _pk, _t, audit, now_iso
from pipeline.store.readings import refresh_sheet_status

# --- users, review decisions -----------------------------------------------------------------------


def add_user(db: DB, by: str, name: str, role: str, password_hash: str) -> None:
    """Create or replace an account (replacing = resetting the password and role; it is reactivated)."""
    with db.atomic():
        existed = bool(_t(db, "users").count_where("name = ?", [name]))
        _t(db, "users").upsert({"name": name, "role": role, "password_hash": password_hash, "active": 1,
                                "created_at": now_iso()}, pk="name")
        audit(db, by, "user.change" if existed else "user.add", {"name": name, "role": role})


def create_user(db: DB, by: str, name: str, role: str, password_hash: str) -> bool:
    """Create a new account; False (nothing changed) when the name is taken (any letter case)."""
    with db.atomic():
        if db.execute("select 1 from users where lower(name) = lower(?)", [name]).fetchone():
            return False
        _t(db, "users").insert({"name": name, "role": role, "password_hash": password_hash, "active": 1,
                                "created_at": now_iso()})
        audit(db, by, "user.add", {"name": name, "role": role})
    return True


# --- login sessions (issue 18): a row per logged-in browser ------------------------------------------

def open_session(db: DB, session_id: str, user: str, expires_at: str) -> None:
    """Record a login (`session_id`: the sha256 of the cookie's token); expired rows are swept on the way."""
    now = now_iso()
    with db.atomic():
        db.execute("delete from web_sessions where expires_at < ?", [now])
        _t(db, "web_sessions").insert({"id": session_id, "user": user, "created_at": now, "expires_at": expires_at})


def session_user(db: DB, session_id: str) -> dict[str, Any] | None:
    """The active account a live session belongs to, or None (logged out, expired, replaced, disabled)."""
    found = list(db.query("select u.* from web_sessions s join users u on u.name = s.user where s.id = ? "
                          "and s.expires_at > ? and u.active = 1", [session_id, now_iso()]))
    return found[0] if found else None


def close_sessions(db: DB, *, session_id: str = "", user: str = "") -> int:
    """End one session (logout) or every session of `user` (new password, account disabled); returns how many."""
    with db.atomic():
        if session_id:
            return int(db.execute("delete from web_sessions where id = ?", [session_id]).rowcount)
        return int(db.execute("delete from web_sessions where user = ?", [user]).rowcount)


def get_user(db: DB, name: str) -> dict[str, Any] | None:
    found = list(db.query("select * from users where name = ?", [name]))
    return found[0] if found else None


def list_users(db: DB) -> list[dict[str, Any]]:
    return list(db.query("select name, role, active, created_at from users order by name"))


def web_secret(db: DB, make: Any) -> str:
    """The session-signing secret, created once (`make() -> str`) so sessions survive a restart."""
    found = list(db.query("select value from web_settings where key = 'secret'"))
    if found:
        return str(found[0]["value"])
    _t(db, "web_settings").insert({"key": "secret", "value": make()}, ignore=True)
    return str(next(iter(db.query("select value from web_settings where key = 'secret'")))["value"])


def record_action(db: DB, sheet_id: str, user: str, decisions: Sequence[tuple[str, str, str]]) -> int:
    """Several human decisions (kind, target, value) taken as one action; returns the action id (the id of
    its first decision). Call inside the caller's db.atomic()."""
    at = now_iso()
    action = 0
    for kind, target, value in decisions:
        pk = _pk(_t(db, "decisions").insert({"sheet_id": sheet_id, "kind": kind, "target": target, "value": value,
                                             "user": user, "decided_at": at, "undone_at": None}).last_pk)
        action = action or pk
        _t(db, "decisions").update(pk, {"action_id": action})
    return action


def undo_action(db: DB, sheet_id: str, action_id: int) -> int:
    """Mark an action's decisions undone (kept for the audit trail); returns how many were undone."""
    cur = db.execute("update decisions set undone_at = ? where sheet_id = ? and coalesce(action_id, id) = ? "
                     "and undone_at is null", [now_iso(), sheet_id, action_id])
    return int(cur.rowcount)


def set_review_item_status(db: DB, item_id: int, status: str) -> None:
    _t(db, "review_items").update(item_id, {"status": status})


def set_sheet_duplicate(db: DB, sheet_id: str, duplicate_of: str) -> None:
    """Mark a sheet as a duplicate of another (`duplicate_of`), or, with "", as a response again (status
    recomputed from its open review items)."""
    if duplicate_of:
        _t(db, "sheets").update(sheet_id, {"status": "duplicate", "duplicate_of": duplicate_of})
    else:
        _t(db, "sheets").update(sheet_id, {"status": "review", "duplicate_of": ""})
        refresh_sheet_status(db, sheet_id)
