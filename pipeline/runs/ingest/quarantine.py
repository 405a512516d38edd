"""The quarantine (run layer): list what was not read, retry it, or discard it.

A whole file in quarantine (damaged, encrypted, not ours) is retried by reading it again as a new file.
A single page (foreign, unregistered, unreadable code) stays with its file in the archive; retrying it
re-reads just that page and attaches it to its sheet, so nothing is counted twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline import store
from pipeline.base.errors import InvalidInput, NotFound
from pipeline.runs.ingest import batch, readers
from pipeline.runs.ingest.collate import commit_file
from pipeline.runs.workspace import Workspace


def list_open(ws: Workspace) -> list[dict[str, Any]]:
    return store.open_quarantine(ws.db)


def _item(ws: Workspace, item_id: int) -> dict[str, Any]:
    row = store.quarantine_item(ws.db, item_id)
    if row is None or row["status"] != "open":
        raise NotFound(f"Nie ma otwartej pozycji kwarantanny nr {item_id}. Listę pokaże: ankieta quarantine list.")
    return row


def retry(ws: Workspace, item_id: int, user: str, workers: int = 1) -> str:
    """Try again; returns a Polish one-line result."""
    row = _item(ws, item_id)
    if row["page_index"] is None:
        path = ws.home / row["path"]
        if not path.exists():
            raise NotFound(f"Pliku {path} już nie ma w kwarantannie; pozycję można tylko odrzucić (discard).")
        with ws.db.atomic():
            store.close_quarantine(ws.db, item_id, "retried")
            store.forget_rejected_file(ws.db, row["file_sha256"])   # a file none of whose pages was read
            store.audit(ws.db, user, "quarantine.retry", {"id": item_id, "file": row["file_name"]})
        path.with_name(path.name + ".powod.txt").unlink(missing_ok=True)
        summary = batch.ingest(ws, [path], label="ponowienie z kwarantanny", workers=workers, min_age_s=0, settle_s=0)
        if summary.quarantined:
            return f"Plik {row['file_name']} nadal nie daje się przeczytać: {summary.quarantined[0][1]}"
        return f"Wczytano {row['file_name']}: stron {summary.pages}, arkuszy {summary.sheets}."
    archived = store.archived_path(ws.db, row["file_sha256"])
    if not archived or not (ws.home / archived).exists():
        raise NotFound(f"Oryginał pliku {row['file_name']} nie jest w archiwum; nie można ponowić strony.")
    path = ws.home / archived
    readers.init_reader(store.form_versions_by_key(ws.db), {n: ws.folder(n) for n in ("pages", "crops")})
    outcome = readers.read_task((str(path), int(row["page_index"]), row["file_sha256"], row["file_name"]))
    if outcome.reading is None:
        assert outcome.rejected is not None
        with ws.db.atomic():
            store.audit(ws.db, user, "quarantine.retry", {"id": item_id, "result": outcome.rejected.reason})
        return f"Strona {int(row['page_index']) + 1} pliku {row['file_name']} nadal nieczytelna: {outcome.rejected.message}"
    with ws.db.atomic():
        store.delete_rejected_page(ws.db, row["file_sha256"], int(row["page_index"]))
        result = commit_file(ws, path, row["file_sha256"], int(row["batch_id"] or 0), "", [outcome], record=False)
        store.close_quarantine(ws.db, item_id, "retried")
        store.audit(ws.db, user, "quarantine.retry", {"id": item_id, "sheets": list(result.sheets)})
    return f"Wczytano stronę {int(row['page_index']) + 1} pliku {row['file_name']} (arkusz {', '.join(result.sheets)})."


def discard(ws: Workspace, item_id: int, user: str) -> str:
    row = _item(ws, item_id)
    if row["page_index"] is None and row["path"]:
        path = ws.home / row["path"]
        if path.parent.resolve() != (ws.home / Path(row["path"]).parent).resolve():
            raise InvalidInput("Nieprawidłowa ścieżka pozycji kwarantanny.")
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".powod.txt").unlink(missing_ok=True)
    with ws.db.atomic():
        store.close_quarantine(ws.db, item_id, "discarded")
        store.audit(ws.db, user, "quarantine.discard", {"id": item_id, "file": row["file_name"], "page": row["page_index"]})
    return f"Odrzucono pozycję {item_id} ({row['file_name']})."
