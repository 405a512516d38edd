"""The ingest run (run layer): scan files in, sheets, readings and review items out.

Guarantees (README "Wczytywanie nocne"):
- one run at a time, and only files that are complete (inbox);
- a bad file or page is quarantined with a Polish reason and never stops the batch (filing, collate);
- exactly once: each file's results are committed in one transaction *before* the original is moved to
  archive/; a file whose sha256 is already stored is never read again; a crash at any moment leaves
  either nothing or everything of a file in the database, and the next run finishes the job.
A file goes: inbox.ready_files → filing.admit → pages read in the pool (readers) → collate.commit_file →
filing.judge and filing.file_away. Results are small and written by this (main) process only.
"""


from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from pipeline import store
from pipeline.base import config as C
from pipeline.base.errors import StorageFailed, os_reason
from pipeline.runs.ingest import filing
from pipeline.runs.ingest.collate import FileResult, commit_file
from pipeline.runs.ingest.inbox import list_inputs, ready_files, special_files, workspace_lock
from pipeline.runs.ingest.readers import PageOutcome, draft_pending_texts, init_reader, pool_context, read_task
from pipeline.runs.workspace import Workspace


@dataclass(frozen=True)
class Progress:
    files_done: int
    files_total: int
    pages_done: int
    current: str


@dataclass(frozen=True)
class BatchSummary:
    batch_id: int
    label: str
    files: int
    pages: int
    sheets: int
    review_items: int
    quarantined: tuple[tuple[str, str], ...]        # (file or file#page, Polish reason)
    duplicates: tuple[str, ...]                      # files already ingested earlier (same sha256)
    waiting: tuple[str, ...]                         # files not ready yet (still being written)
    rejected_pages: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    texts_drafted: int = 0
    skipped: tuple[tuple[str, str], ...] = ()        # (name, Polish reason): not a regular file (FIFO, dangling link)

    @property
    def exit_ok(self) -> bool:
        return not self.quarantined and not self.skipped


# --- the run -------------------------------------------------------------------------------------

def ingest(ws: Workspace, paths: Sequence[Path] | None = None, label: str = "", workers: int | None = None,
           min_age_s: float | None = None, settle_s: float | None = None,
           progress: Callable[[Progress], None] | None = None, draft_texts: bool = True,
           received: date | None = None) -> BatchSummary:
    """Read scan files (default: the inbox) into the workspace. See the module docstring for guarantees.
    `received`: the day the paper was taken out of the collection box (default: today). A full disk or another
    refusal of the operating system stops the run with errors.StorageFailed (see `_stopped`)."""
    run: dict[str, int] = {}
    try:
        return _ingest(ws, paths, label, workers, min_age_s, settle_s, progress, draft_texts, received, run)
    except (OSError, StorageFailed) as exc:
        raise _stopped(ws, run, exc) from exc


def _stopped(ws: Workspace, run: dict[str, int], exc: BaseException) -> StorageFailed:
    """The clean end of a run the operating system stopped. Each file's results are committed in one transaction
    before the file moves, so the database holds whole files only and the rest waits where it was: a rerun after
    the fix finishes the job (nothing lost, nothing counted twice). The batch row is marked failed if the disk
    still takes that."""
    what = exc.reason if isinstance(exc, StorageFailed) else os_reason(exc)
    done, total = run.get("files_done", 0), run.get("files_total", 0)
    message = (f"Wczytywanie przerwane: {what}. Zakończono {done} z {total} plików; ich wyniki są zapisane, a baza "
               "danych jest spójna. Pozostałe pliki czekają tam, gdzie były. Usuń przyczynę (np. zwolnij miejsce na "
               "dysku) i uruchom wczytywanie ponownie: dokończy pracę bez strat i bez podwójnego liczenia.")
    if run.get("batch_id"):
        try:
            with ws.db.atomic():
                store.fail_batch(ws.db, run["batch_id"], message)
        except (OSError, StorageFailed):
            pass        # the disk refuses even that: the row stays "running"; the message below still tells
    return StorageFailed(message)


def _ingest(ws: Workspace, paths: Sequence[Path] | None, label: str, workers: int | None, min_age_s: float | None,
            settle_s: float | None, progress: Callable[[Progress], None] | None, draft_texts: bool,
            received: date | None, run: dict[str, int]) -> BatchSummary:
    started = time.monotonic()
    from_inbox = not paths
    candidates = list_inputs([ws.folder("inbox")] if from_inbox else list(paths or []))
    skipped = tuple((p.name, why) for p, why in special_files([ws.folder("inbox")] if from_inbox else list(paths or [])))
    with workspace_lock(ws):
        if from_inbox:
            ready, waiting = ready_files(candidates, C.INBOX_MIN_AGE_S if min_age_s is None else min_age_s,
                                         C.INBOX_SETTLE_S if settle_s is None else settle_s)
        else:
            ready, waiting = ready_files(candidates, min_age_s or 0.0, settle_s or 0.0)
        if not ready:
            # nothing to do (e.g. --watch on an empty inbox): no batch row, no worker pool
            return BatchSummary(0, label, 0, 0, 0, 0, (), (), tuple(p.name for p in waiting),
                                seconds=round(time.monotonic() - started, 2), skipped=skipped)
        with ws.db.atomic():
            batch_id = int(store.insert_batch(ws.db, label))
        run.update(batch_id=batch_id, files_total=len(ready))
        forms = store.form_versions_by_key(ws.db)
        folders = {n: ws.folder(n) for n in ("pages", "crops")}
        n_workers = workers if workers is not None else (os.cpu_count() or 1)
        results: list[FileResult] = []
        quarantined: list[tuple[str, str]] = []
        duplicates: list[str] = []
        pages_done = 0
        executor = (ProcessPoolExecutor(n_workers, mp_context=pool_context(), initializer=init_reader,
                                        initargs=(forms, folders)) if n_workers > 1 else None)
        if executor is None:
            init_reader(forms, folders)
        # Files overlap: the oldest file is collected and committed only once the files after it have queued
        # ~4 pages per worker, so the workers keep reading during its commit (and during the next file's hash
        # and page count), whether files hold one page (a JPEG per sheet) or a hundred. Before, a multi-page
        # file's commit left both cores idle: ~12 % of the run. Memory stays bounded: the oldest file's results
        # plus a few pages.
        inflight: deque[_InFlight] = deque()
        seen: set[str] = set()
        done_files = 0

        def finish_oldest() -> None:
            nonlocal pages_done, done_files
            fl = inflight.popleft()
            if progress:
                progress(Progress(done_files, len(ready), pages_done, fl.path.name))
            res = _finish_file(ws, fl, batch_id, label, from_inbox, received.isoformat() if received else "")
            results.append(res)
            pages_done += res.pages
            quarantined.extend(res.quarantined)
            done_files += 1
            run["files_done"] = done_files

        try:
            for path in ready:
                started_file = _start_file(ws, path, batch_id, executor, from_inbox, seen)
                if started_file is None:
                    duplicates.append(path.name)
                    done_files += 1
                elif isinstance(started_file, FileResult):
                    results.append(started_file)
                    quarantined.extend(started_file.quarantined)
                    done_files += 1
                else:
                    inflight.append(started_file)
                run["files_done"] = done_files
                while inflight and (executor is None or queued_after_oldest(inflight) >= C.QUEUED_PAGES_PER_WORKER * n_workers):
                    finish_oldest()
            while inflight:
                finish_oldest()
        finally:
            if executor is not None:
                executor.shutdown(cancel_futures=True)
        drafted = 0
        if draft_texts:
            drafted = draft_pending_texts(ws, n_workers)
        rejected: dict[str, int] = {}
        for r in results:
            for reason, count in r.rejected.items():
                rejected[reason] = rejected.get(reason, 0) + count
        summary = BatchSummary(
            batch_id=batch_id, label=label, files=len(results), pages=pages_done,
            sheets=len({s for r in results for s in r.sheets}),
            review_items=store.count_open_review_items(ws.db, batch_id),
            quarantined=tuple(quarantined), duplicates=tuple(duplicates), waiting=tuple(p.name for p in waiting),
            rejected_pages=rejected, seconds=round(time.monotonic() - started, 2), texts_drafted=drafted,
            skipped=skipped,
        )
        with ws.db.atomic():
            store.finish_batch(ws.db, batch_id, summary_fields(summary))
        if progress:
            progress(Progress(len(ready), len(ready), pages_done, ""))
        return summary


def summary_fields(s: BatchSummary) -> dict[str, Any]:
    return {"files": s.files, "pages": s.pages, "sheets": s.sheets, "review_items": s.review_items,
            "quarantined": len(s.quarantined), "seconds": s.seconds,
            "summary_json": json.dumps({"quarantined": s.quarantined, "duplicates": s.duplicates, "waiting": s.waiting,
                                        "rejected_pages": s.rejected_pages, "texts_drafted": s.texts_drafted,
                                        "skipped": s.skipped},
                                       ensure_ascii=False)}


@dataclass
class _InFlight:
    """A file whose pages are being read by the pool (futures) or will be read in-process (tasks)."""

    path: Path
    sha: str
    tasks: list[tuple[str, int, str, str]]
    futures: list[Future[PageOutcome]]


def queued_after_oldest(inflight: deque[_InFlight]) -> int:
    """Pages handed to the pool by the files after the oldest in flight (work for the cores while it commits)."""
    return sum(len(f.tasks) for f in islice(inflight, 1, None))


def _start_file(ws: Workspace, path: Path, batch_id: int, executor: ProcessPoolExecutor | None, from_inbox: bool,
                seen: set[str]) -> _InFlight | FileResult | None:
    """Admit the file and hand its pages to the pool; a refused file is filed away at once (None: a duplicate)."""
    admitted = filing.admit(ws, path, seen)
    if not isinstance(admitted, filing.Admitted):
        sha, verdict = admitted
        filing.file_away(ws, path, sha, verdict, batch_id, from_inbox)
        if verdict.fate is filing.Fate.DUPLICATE:
            return None
        return FileResult(path.name, 0, quarantined=((path.name, verdict.message),))
    tasks = [(str(path), i, admitted.sha, path.name) for i in range(admitted.pages)]
    futures = [executor.submit(read_task, t) for t in tasks] if executor is not None else []
    return _InFlight(path, admitted.sha, tasks, futures)


def _finish_file(ws: Workspace, fl: _InFlight, batch_id: int, label: str, from_inbox: bool, received: str) -> FileResult:
    """Collect a file's pages, commit them in one transaction, then (only then) file the original away."""
    outcomes = [f.result() for f in fl.futures] if fl.futures else [read_task(t) for t in fl.tasks]
    verdict = filing.judge(outcomes)
    quarantined_whole = verdict.fate is filing.Fate.QUARANTINED
    result = commit_file(ws, fl.path, fl.sha, batch_id, label, outcomes, received=received,
                         quarantined_whole=quarantined_whole)
    filing.file_away(ws, fl.path, fl.sha, verdict, batch_id, from_inbox)
    if quarantined_whole:
        return FileResult(result.name, result.pages, result.sheets, ((fl.path.name, verdict.message),), result.rejected)
    return result
