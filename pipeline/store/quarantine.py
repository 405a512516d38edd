"""Files and pages that were not read, with the reason, until retried or discarded."""

from __future__ import annotations

from typing import Any

from pipeline.store.base import DB, _t

# --- quarantine -------------------------------------------------------------------------------------

def open_quarantine(db: DB) -> list[dict[str, Any]]:
    return list(db.query("select * from quarantine where status = 'open' order by id"))


def quarantine_item(db: DB, item_id: int) -> dict[str, Any] | None:
    found = list(db.query("select * from quarantine where id = ?", [item_id]))
    return found[0] if found else None


def close_quarantine(db: DB, item_id: int, status: str) -> None:
    _t(db, "quarantine").update(item_id, {"status": status})


def archived_path(db: DB, sha: str) -> str:
    found = list(db.query("select archived_as from files where sha256 = ?", [sha]))
    return str(found[0]["archived_as"]) if found else ""


def forget_rejected_file(db: DB, sha: str) -> None:
    """Drop the record of a file none of whose pages was read, so that retrying it reads it afresh."""
    if _t(db, "files").count_where("sha256 = ? and status = 'rejected'", [sha]):
        db.execute("delete from pages where file_sha256 = ?", [sha])
        db.execute("delete from files where sha256 = ?", [sha])


def delete_rejected_page(db: DB, sha: str, index: int) -> None:
    db.execute("delete from pages where file_sha256 = ? and page_index = ? and status != 'read'", [sha, index])


def quarantined_file(db: DB, sha: str) -> dict[str, Any] | None:
    """The open (or discarded) quarantine entry of a whole file with these bytes, if any: such a file, met again
    in a folder read once more, is recognised by its sha256 like a file already read, not quarantined again."""
    if not sha:
        return None
    found = list(db.query("select id, file_name, status from quarantine where file_sha256 = ? and page_index is null "
                          "and status in ('open', 'discarded') order by id desc limit 1", [sha]))
    return found[0] if found else None
