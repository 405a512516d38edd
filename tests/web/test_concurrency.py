"""Three processes on one database (issue 18): a real `ankieta ingest` of >= 40 pages while 3 reviewers post decisions
and 10 citizens post survey responses to a real waitress server. Nothing may fail, nothing may be lost or doubled.
The same run, with latencies, is `python -m samples.concurrency` (BENCHMARKS.md)."""

from __future__ import annotations

from pathlib import Path

from samples import concurrency


def test_ingest_reviewers_and_citizens_at_once_lose_nothing(tmp_path: Path) -> None:
    r = concurrency.run(pages=40, reviewers=3, respondents=10, min_requests=10, max_requests=200, work=tmp_path)
    assert r.pages_expected >= 40
    # the ingest: a clean exit, every page of every file stored (exactly once: pages are unique per file and index)
    assert r.ingest_rc == 0, r.ingest_stderr[-2000:]
    assert "Traceback" not in r.ingest_stderr
    assert (r.pages_stored, r.files_stored) == (r.pages_expected, r.files_expected)
    # the clients really overlapped the ingest, and every request was answered as it should be
    assert len(r.of("decision", during=True)) >= 3 * 5 and len(r.of("survey", during=True)) >= 10 * 3
    assert r.failed == [], r.failed[:5]
    assert len(r.of("decision")) >= 3 * 10 and len(r.of("survey")) >= 10 * 10
    # stored exactly once: each transcription by its unique text, box decisions by count, responses with their answers
    assert r.decisions_stored_once == len(r.of("decision-text", ok=True)) and r.decisions_extra == 0
    assert r.box_decisions_stored == len(r.of("decision-box", ok=True))
    assert r.responses_stored_once == len(r.of("survey", ok=True)) and r.responses_extra == 0
    assert r.lossless
