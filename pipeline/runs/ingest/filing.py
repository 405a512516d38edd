"""Where a scan file ends up: the one place that decides and carries out a file's fate.

- **read** → `archive/<day>/` (the original kept as evidence for the ISO audit trail), recorded in `files`;
- **duplicate** (the same bytes were read before, or refused before and still in quarantine) →
  `archive/<day>/duplikaty/`, never read again;
- **quarantined** (unreadable, damaged, or no page of ours in it) → `quarantine/<day>/` with a `.powod.txt`
  (what is wrong and what to do, in Polish) and a `quarantine` row.

A file is decided twice, once before its pages are read (`admit`: can it be read, is it new?) and once after
(`judge`: was anything of ours in it?); `file_away` then moves it. A file from the inbox is moved; a file the
user named elsewhere is copied and their original stays where it was; a symbolic link is archived as the file it
points to (the link itself is removed from the inbox). The file moves only after its
results are committed (collate), so a crash leaves it in the inbox to be finished by the next run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from pipeline import store
from pipeline.base.errors import InputDamaged
from pipeline.reader import decode
from pipeline.runs.ingest.readers import PageOutcome
from pipeline.runs.workspace import Workspace


class Fate(StrEnum):
    READ = "read"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"


@dataclass(frozen=True)
class Verdict:
    fate: Fate
    code: str = ""          # the quarantine reason code (README "Kody przyczyn")
    message: str = ""       # Polish: what is wrong and what to do


@dataclass(frozen=True)
class Admitted:
    """A new, readable file: its sha256 and its number of pages."""

    sha: str
    pages: int


def admit(ws: Workspace, path: Path, seen: set[str]) -> Admitted | tuple[str, Verdict]:
    """Before reading: hash the file, recognise one read before (or earlier in this run: `seen`), count its
    pages (a file whose structure is damaged is refused here). Returns the admitted file, or (sha, verdict)."""
    try:
        sha = decode.file_sha256(path)
    except OSError as exc:
        return "", Verdict(Fate.QUARANTINED, "unreadable", f"Nie można odczytać pliku: {exc}.")
    if sha in seen or store.file_known(ws.db, sha):
        return sha, Verdict(Fate.DUPLICATE)
    earlier = store.quarantined_file(ws.db, sha)
    if earlier is not None:          # refused before (a folder read again): recognised, not quarantined once more
        return sha, Verdict(Fate.DUPLICATE, "already-quarantined",
                            f"Ten sam plik był już odrzucony (kwarantanna, pozycja {earlier['id']}: {earlier['file_name']}).")
    try:
        count = decode.page_count(path)
    except InputDamaged as exc:
        return sha, Verdict(Fate.QUARANTINED, exc.code, exc.message)
    seen.add(sha)
    return Admitted(sha, count)


def judge(outcomes: Sequence[PageOutcome]) -> Verdict:
    """After reading: a file with no page of ours (a letter, another office's form) is quarantined whole;
    otherwise it is archived, and its rejected pages are quarantined one by one (collate) — blank duplex
    backs are expected and never are."""
    if any(o.reading is not None for o in outcomes):
        return Verdict(Fate.READ)
    reasons = sorted({o.rejected.message for o in outcomes if o.rejected is not None and o.rejected.reason != "blank"})
    if not reasons:
        return Verdict(Fate.READ)          # only blank pages: nothing to act on
    return Verdict(Fate.QUARANTINED, "no-sheet", "Żadna strona pliku nie jest naszą ankietą: " + " ".join(reasons))


def file_away(ws: Workspace, path: Path, sha: str, verdict: Verdict, batch_id: int, from_inbox: bool) -> Path:
    """Carry out the verdict; returns where the file now lies."""
    day = _day()
    if verdict.fate is Fate.DUPLICATE:
        return _keep(ws, path, ws.folder("archive") / day / "duplikaty", from_inbox)
    if verdict.fate is Fate.READ:
        archived = _keep(ws, path, ws.folder("archive") / day, from_inbox)
        with ws.db.atomic():
            store.set_file_archived(ws.db, sha, str(archived.relative_to(ws.home)))
        return archived
    target = _keep(ws, path, ws.folder("quarantine") / day, from_inbox)
    reason_text = (f"Plik: {path.name}\nPowód: {verdict.message}\nKod: {verdict.code}\n"
                   f"Data: {datetime.now().isoformat(timespec='seconds')}\n"
                   "Co zrobić: popraw lub zeskanuj ponownie i połóż nowy plik w folderze inbox/, albo: "
                   "ankieta quarantine retry / discard.\n")
    target.with_name(target.name + ".powod.txt").write_text(reason_text, "utf-8")
    with ws.db.atomic():
        store.add_quarantine(ws.db, file_name=path.name, file_sha256=sha, page_index=None, reason=verdict.code,
                             message=verdict.message, path=str(target.relative_to(ws.home)), batch_id=batch_id)
    return target


def _day() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def _keep(ws: Workspace, path: Path, folder: Path, from_inbox: bool) -> Path:
    """Put a scan into `folder` under a free name: moved when it came from the inbox (or already lies in the
    workspace), copied when the user named a file elsewhere (their original stays where it was)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    n = 1
    while target.exists():
        target = folder / f"{path.stem}-{n}{path.suffix}"
        n += 1
    if path.is_symlink():
        # a link in the inbox: the evidence kept is the scan it points to, never the link (which may dangle later)
        shutil.copy2(path, target)           # follows the link: the real file's bytes
        parent = path.parent.resolve()
        if from_inbox or ws.home.resolve() in (parent, *parent.parents):
            path.unlink()                    # the link goes; the file it pointed to is not ours to move
        return target
    if from_inbox or ws.home.resolve() in path.resolve().parents:
        try:
            os.replace(path, target)     # atomic within one filesystem
        except OSError:
            shutil.copy2(path, target)   # the inbox is on another filesystem (a network share)
            path.unlink()
    else:
        shutil.copy2(path, target)
    return target
