"""The online survey's load test (samples/loadtest.py): a small run against a real server stores every form
exactly once, and the BENCHMARKS.md section is replaced in place. Timing is reported, never asserted."""

from __future__ import annotations

from pathlib import Path

from samples import loadtest


def test_small_load_stores_every_form_exactly_once() -> None:
    r = loadtest.run_load(submissions=60, clients=6, threads=4)
    assert (r.failed, r.stored, r.stored_once, r.extra) == (0, 60, 60, 0) and r.lossless
    assert r.resent == 2 and len(r.post_s) == 60                  # forms 0 and 50 were sent twice, stored once
    assert r.answer_rows > 60 * 5                                  # real answers, not empty forms
    text = loadtest.markdown(r)
    assert text.startswith(loadtest.HEADING) and "**60 of 60**" in text


def test_section_is_replaced_and_the_others_kept(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\nintro\n\n## Speed\n\nfast\n\n## Report generation\n\n| a | b |\n", "utf-8")
    loadtest.update_section(out, f"{loadtest.HEADING}\n\nfirst\n")
    loadtest.update_section(out, f"{loadtest.HEADING}\n\nsecond\n")
    assert out.read_text("utf-8") == ("# Benchmarks\n\nintro\n\n## Speed\n\nfast\n\n## Report generation\n\n| a | b |\n\n"
                                      f"{loadtest.HEADING}\n\nsecond\n")
    # in the middle of the file: the sections after it stay
    out.write_text(f"# B\n\n{loadtest.HEADING}\n\nold\n\n## Later\n\nkept\n", "utf-8")
    loadtest.update_section(out, f"{loadtest.HEADING}\n\nnew\n")
    assert out.read_text("utf-8") == f"# B\n\n{loadtest.HEADING}\n\nnew\n\n## Later\n\nkept\n"
