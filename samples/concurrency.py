"""Working at the same time: a real `ankieta ingest` process reads a stack while reviewers decide and citizens
answer the online survey on a real waitress server (its own process), all on one workspace database.

`python -m samples.concurrency [--pages 40 --reviewers 3 --respondents 10 --out BENCHMARKS.md]` (also
`python -m samples.bench --only concurrency`; tests/web/test_concurrency.py runs the same function, smaller).

- Before the clock: a workspace with both demo forms published and a first batch ingested (the sheets the
  reviewers decide on), three reviewer accounts, and a second set of scans of at least `--pages` pages.
- Then at once: `ankieta ingest SCANS --workers 1` as a child process; `reviewers` threads, each logged in as its
  own account with its own keep-alive connection, posting decisions (a transcription with a text unique to the
  request, then a box decision, in turn); `respondents` threads each filling in Lesko's F1 (GET, POST).
  Clients keep going until the ingest has ended (at least `min_requests` each, at most `max_requests`),
  with a short pause between requests (people, not a flood); the survey's rate limit is lifted, all clients
  share 127.0.0.1 (samples/loadtest.py).
- Afterwards the database is checked: the ingest exited 0 with every page of its files stored once; every
  decision answered with the redirect is stored exactly once (texts by their unique value, box decisions by
  count per reviewer) and nothing else; every survey answered with the redirect is stored once with exactly
  the answers sent. Any other HTTP status or connection error is a failure.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from pipeline import store
from pipeline.base import config as C
from pipeline.runs import accounts
from pipeline.runs.ingest import batch
from pipeline.runs.workspace import init_workspace, open_workspace, publish_form
from pipeline.survey.form import parse_submission, survey_form
from samples import loadtest

HEADING = "## Working at the same time — ingest, review and online survey on one database"
REVIEWERS = ("ala", "ola", "ela", "ewa", "iza", "jan")
PASSWORD = "rownolegle-Kasztan-2026"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Call:
    kind: str            # "decision-text", "decision-box", "survey"
    status: int          # HTTP status; 0: connection error
    seconds: float
    during_ingest: bool
    key: str = ""        # the unique text of a transcription, the survey's token
    rows: int = 0        # survey: answer rows the parser expects
    user: str = ""
    started: float = 0.0   # seconds after the ingest was started

    @property
    def ok(self) -> bool:
        # a decision answers with the next item (303) or, for a correction that keeps the reviewer in place, 302
        return self.status == 303 or (self.status == 302 and self.kind == "decision-box")


@dataclass
class Result:
    pages_expected: int
    reviewers: int
    respondents: int
    ingest_rc: int = -1
    ingest_s: float = 0.0
    ingest_stderr: str = ""
    pages_stored: int = 0
    pages_read: int = 0
    files_expected: int = 0
    files_stored: int = 0
    calls: list[Call] = field(default_factory=list)
    decisions_stored_once: int = 0
    decisions_extra: int = 0
    box_decisions_stored: int = 0
    responses_stored_once: int = 0
    responses_extra: int = 0
    wall_s: float = 0.0
    load_before: float = 0.0   # 1-minute load average when the run started (other work on a shared machine)

    def of(self, prefix: str, ok: bool | None = None, during: bool | None = None) -> list[Call]:
        return [c for c in self.calls if c.kind.startswith(prefix) and (ok is None or c.ok == ok)
                and (during is None or c.during_ingest == during)]

    @property
    def failed(self) -> list[Call]:
        return [c for c in self.calls if not c.ok]

    @property
    def ingest_ok(self) -> bool:
        return self.ingest_rc == 0 and "Traceback" not in self.ingest_stderr and self.pages_stored == self.pages_expected \
            and self.files_stored == self.files_expected

    @property
    def lossless(self) -> bool:
        texts = self.of("decision-text", ok=True)
        return (not self.failed and self.ingest_ok and self.decisions_stored_once == len(texts) and self.decisions_extra == 0
                and self.box_decisions_stored == len(self.of("decision-box", ok=True))
                and self.responses_stored_once == len(self.of("survey", ok=True)) and self.responses_extra == 0)


class _Browser:
    """One person's browser: a keep-alive connection and its cookies."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, fields: list[tuple[str, str]] | None = None) -> tuple[int, str, float]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        body = None
        if fields is not None:
            body = urlencode(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        t0 = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            return 0, "", time.perf_counter() - t0
        took = time.perf_counter() - t0
        for value in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = rest
        return resp.status, text, took


def prepare(root: Path, pages: int, reviewers: int, seed: int = 2026) -> tuple[Path, Path, int, int]:
    """The workspace (first batch read, reviewer accounts) and the scans the ingest will read during the test:
    (home, scans folder, pages in it, files in it)."""
    from samples.generate import generate_set
    from samples.profiles import PROFILES
    from samples.synth import DEMO_OFFICE

    prof = replace(PROFILES["office"], dpi=((200, 1.0),))
    first = root / "first"
    generate_set(first, 6, seed=seed, profile=prof, formats=("pdf",), files=2)
    home = root / "ws"
    ws = init_workspace(home, DEMO_OFFICE)
    for form in ("lesko-f1", "satysfakcja-5"):
        publish_form(ws, form)
    batch.ingest(ws, sorted(first.glob("*.pdf")), label="pierwsza partia", workers=1, draft_texts=False)
    for name in REVIEWERS[:reviewers]:
        accounts.add_user(ws.db, "bench", name, "reviewer", PASSWORD)
    ws.db.close()
    scans = root / "scans"
    sheets = max(4, pages * 10 // 23)
    while True:
        truth = json.loads(generate_set(scans, sheets, seed=seed + 1, profile=replace(PROFILES["clean"], dpi=((200, 1.0),)),
                                        formats=("pdf",), files=max(2, pages // 10), workers=2).read_text("utf-8"))
        n = sum(len(v) for v in truth["files"].values())
        if n >= pages:
            return home, scans, n, len(truth["files"])
        sheets += max(1, (pages - n) // 2)


def _targets(home: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    ws = open_workspace(home)
    texts = [(r["sheet_id"], r["area_id"]) for r in store.rows(ws.db, "select sheet_id, area_id from text_readings "
                                                                       "order by sheet_id, area_id")]
    boxes = [(r["sheet_id"], r["box_id"]) for r in store.rows(ws.db, "select sheet_id, box_id from box_readings "
                                                                       "order by sheet_id, box_id")]
    ws.db.close()
    return texts, boxes


def _reviewer(port: int, user: str, index: int, texts: list[tuple[str, str]], boxes: list[tuple[str, str]],
              ingest_running: threading.Event, stop: threading.Event, min_requests: int, max_requests: int,
              out: list[Call], lock: threading.Lock) -> None:
    b = _Browser(port)
    _, page, _ = b.request("GET", "/logowanie")
    m = _TOKEN.search(page)
    login = [("name", user), ("password", PASSWORD), ("csrf_token", m.group(1) if m else "")]
    status, _, _ = b.request("POST", "/logowanie", login)
    if status != 302:
        with lock:
            out.append(Call("decision-login", status, 0.0, ingest_running.is_set(), user=user))
        return
    _, page, _ = b.request("GET", f"/arkusz/{texts[0][0]}")
    m = _TOKEN.search(page)
    token = m.group(1) if m else ""
    rnd = random.Random(index)
    i = 0
    while i < max_requests and (i < min_requests or not stop.is_set()):
        during = ingest_running.is_set()
        if i % 2 == 0:
            sheet, area = texts[(index + i * 7) % len(texts)]
            value = f"równolegle {user} {i:04d}"
            fields = [("action", "text"), ("target", area), ("text", value), ("csrf_token", token)]
            kind = "decision-text"
        else:
            sheet, value = boxes[(index * 31 + i * 13) % len(boxes)]
            fields = [("action", "box"), ("target", value), ("value", rnd.choice(("marked", "empty"))), ("stay", "1"),
                      ("csrf_token", token)]
            kind = "decision-box"
        status, _, took = b.request("POST", f"/arkusz/{sheet}/decyzja", fields)
        with lock:
            out.append(Call(kind, status, took, during, key=value if kind == "decision-text" else "", user=user,
                            started=time.perf_counter() - took))
        i += 1
        time.sleep(0.05)


def _respondent(port: int, forms: list[tuple[list[tuple[str, str]], int]], ingest_running: threading.Event,
                stop: threading.Event, min_requests: int, out: list[Call], lock: threading.Lock) -> None:
    b = _Browser(port)
    for i, (pairs, rows) in enumerate(forms):
        if i >= min_requests and stop.is_set():
            break
        status, page, _ = b.request("GET", f"/ankieta/{loadtest.FORM}")
        hidden = dict(loadtest._FIELD.findall(page))
        during = ingest_running.is_set()
        status, _, took = b.request("POST", f"/ankieta/{loadtest.FORM}", [*pairs, *hidden.items()])
        with lock:
            out.append(Call("survey", status, took, during, key=hidden.get("zgloszenie", ""), rows=rows,
                            started=time.perf_counter() - took))
        time.sleep(0.1)


def run(pages: int = 40, reviewers: int = 3, respondents: int = 10, min_requests: int = 10, max_requests: int = 400,
        threads: int = C.SERVE_THREADS, work: Path | None = None) -> Result:
    tmp = Path(tempfile.mkdtemp(prefix="ankieta-together-", dir=work))
    try:
        home, scans, n_pages, n_files = prepare(tmp, pages, reviewers)
        result = Result(n_pages, reviewers, respondents, files_expected=n_files)
        texts, boxes = _targets(home)
        ws = open_workspace(home)
        fv = store.get_form_version(ws.db, loadtest.FORM)
        ws.db.close()
        sf = survey_form(fv.layout, fv.version)
        rnd = random.Random(7)
        forms = []
        for _ in range(respondents * max_requests):
            pairs = loadtest.answers(sf, rnd)
            expected = parse_submission(sf, MultiDict(pairs))
            forms.append((pairs, len(expected.rows) if expected.ok else -1))
        ctx = multiprocessing.get_context("spawn")
        recv, send = ctx.Pipe(duplex=False)
        server = ctx.Process(target=loadtest._serve, args=(str(home), threads, send), daemon=True)
        server.start()
        port = int(recv.recv())
        calls: list[Call] = []
        lock = threading.Lock()
        ingest_running, stop = threading.Event(), threading.Event()
        clients = [threading.Thread(target=_reviewer, args=(port, REVIEWERS[r], r, texts, boxes, ingest_running, stop,
                                                             min_requests, max_requests, calls, lock))
                   for r in range(reviewers)]
        clients += [threading.Thread(target=_respondent, args=(port, forms[r * max_requests:(r + 1) * max_requests],
                                                               ingest_running, stop, min_requests, calls, lock))
                    for r in range(respondents)]
        result.load_before = os.getloadavg()[0]
        t0 = time.perf_counter()
        ingest_running.set()
        files = [str(p) for p in sorted(scans.glob("*.pdf"))]
        proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "--home", str(home), "ingest", *files,
                                 "--batch", "równolegle", "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
        for c in clients:
            c.start()
        _, err = proc.communicate(timeout=1800)
        result.ingest_s = time.perf_counter() - t0
        ingest_running.clear()
        stop.set()
        for c in clients:
            c.join(timeout=600)
        result.wall_s = time.perf_counter() - t0
        server.terminate()
        server.join(10)
        for call in calls:
            call.started -= t0
        result.ingest_rc, result.ingest_stderr, result.calls = proc.returncode, err, calls
        _verify(home, result)
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _verify(home: Path, r: Result) -> None:
    ws = open_workspace(home)
    db = ws.db
    found = store.rows(db, "select count(*) as n, sum(p.status = 'read') as rd from pages p join files f "
                           "on f.sha256 = p.file_sha256 where f.batch_id = (select max(id) from batches)")[0]
    r.pages_stored, r.pages_read = int(found["n"] or 0), int(found["rd"] or 0)
    r.files_stored = int(store.rows(db, "select count(*) as n from files where batch_id = (select max(id) from batches)")[0]["n"])
    sent = {c.key for c in r.of("decision-text", ok=True)}
    stored = [x["value"] for x in store.rows(db, "select value from decisions where kind = 'text' and value like 'równolegle %'")]
    counts: dict[str, int] = {}
    for v in stored:
        counts[v] = counts.get(v, 0) + 1
    r.decisions_stored_once = sum(1 for k in sent if counts.get(k) == 1)
    r.decisions_extra = sum(n if k not in sent else n - 1 for k, n in counts.items())
    r.box_decisions_stored = int(store.rows(db, "select count(*) as n from decisions where kind = 'box' and user in ("
                                             + ", ".join("?" * r.reviewers) + ")", REVIEWERS[:r.reviewers])[0]["n"])
    answer_rows = {x["sheet_id"]: int(x["n"]) for x in store.rows(db, "select sheet_id, count(*) as n from answers group by 1")}
    sheets = {x["id"]: int(x["n"])
              for x in store.rows(db, "select id, count(*) as n from sheets where channel = 'online' group by id")}
    expected = {f"W-{c.key}": c.rows for c in r.of("survey", ok=True)}
    r.responses_stored_once = sum(1 for sid, rows in expected.items() if sheets.get(sid) == 1 and answer_rows.get(sid, 0) == rows)
    r.responses_extra = sum(1 for sid in sheets if sid not in expected)
    db.close()


def _ms(values: list[float], q: float) -> str:
    if not values:
        return "-"
    data = sorted(values)
    return f"{data[min(len(data) - 1, round(q * (len(data) - 1)))] * 1000:.0f}"


def markdown(r: Result) -> str:
    def row(label: str, calls: list[Call]) -> str:
        s = [c.seconds for c in calls]
        return (f"| {label} | {len(calls)} | {sum(1 for c in calls if c.during_ingest)} | "
                f"{statistics.median(s) * 1000 if s else 0:.0f} / {_ms(s, 0.95)} / {_ms(s, 1.0)} ms |")

    failed = r.failed
    statuses: dict[int, int] = {}
    for c in failed:
        statuses[c.status] = statuses.get(c.status, 0) + 1
    return "\n".join([
        HEADING,
        "",
        f"`python -m samples.concurrency --pages {r.pages_expected} --reviewers {r.reviewers} --respondents "
        f"{r.respondents}` on {datetime.now().strftime('%Y-%m-%d')} ({os.cpu_count()} cores): a real `ankieta ingest` "
        f"process (1 reader worker) reads {r.files_expected} files / {r.pages_expected} pages while {r.reviewers} "
        f"reviewers (each logged in, own connection) post decisions and {r.respondents} citizens post Lesko's F1 to a "
        f"waitress server ({C.SERVE_THREADS} threads) in its own process — three processes writing one SQLite "
        "database. Clients pause 50 ms (reviewers) / 100 ms (citizens) between requests and go on until the ingest ends. "
        f"Load average when the run started: {r.load_before:.1f} (latencies scale with it on this shared 2-core VM).",
        "",
        "| requests | sent | while the ingest ran | latency p50 / p95 / max |",
        "|---|---|---|---|",
        row("review decisions (transcription or box)", r.of("decision")),
        row("survey responses (POST)", r.of("survey")),
        "",
        "| check | result |",
        "|---|---|",
        f"| ingest: exit code, time | {r.ingest_rc}, {r.ingest_s:.1f} s"
        f"{' (traceback on stderr!)' if 'Traceback' in r.ingest_stderr else ''} |",
        f"| ingest: pages stored / expected (files) | {r.pages_stored} / {r.pages_expected} "
        f"({r.files_stored} / {r.files_expected} files) |",
        f"| failed requests (not the redirect) | **{len(failed)}**{' ' + str(statuses) if statuses else ''} |",
        f"| transcriptions stored exactly once / answered | {r.decisions_stored_once} / {len(r.of('decision-text', ok=True))}"
        f" (extra or doubled: {r.decisions_extra}) |",
        f"| box decisions stored / answered | {r.box_decisions_stored} / {len(r.of('decision-box', ok=True))} |",
        f"| survey responses stored exactly once with their answers / answered | {r.responses_stored_once} / "
        f"{len(r.of('survey', ok=True))} (stored but never sent: {r.responses_extra}) |",
        "",
        f"Target: 0 failed requests, 0 ingest failures, every page, decision and response stored exactly once — "
        f"{'met' if r.lossless else 'NOT met'}.",
        "",
        "The same script on the code before issue 18 (commit a4cfde4: deferred `BEGIN`, a write lock only inside the "
        "web process), 2026-12-02, two runs: the ingest crashed both times with `sqlite3.OperationalError: database is "
        "locked` after 2 of 4 files (exit 1, 18 of 42 pages stored), and 4 and 6 of the first 30 decisions got HTTP 500.",
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m samples.concurrency")
    ap.add_argument("--pages", type=int, default=40)
    ap.add_argument("--reviewers", type=int, default=3, choices=range(1, len(REVIEWERS) + 1))
    ap.add_argument("--respondents", type=int, default=10)
    ap.add_argument("--out", type=Path, default=None, help="write the section into this markdown file (BENCHMARKS.md)")
    a = ap.parse_args(argv)
    result = run(a.pages, a.reviewers, a.respondents)
    section = markdown(result)
    print(section)
    for c in result.failed[:10]:
        print(f"failed: {c}", file=sys.stderr)
    for c in sorted(result.calls, key=lambda c: -c.seconds)[:5]:
        print(f"slowest: {c}", file=sys.stderr)
    if result.ingest_stderr.strip() and not result.ingest_ok:
        print(result.ingest_stderr[-3000:], file=sys.stderr)
    if a.out is not None:
        loadtest.update_section(a.out, section)
    return 0 if result.lossless else 1


if __name__ == "__main__":
    raise SystemExit(main())
