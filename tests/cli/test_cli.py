"""The `ankieta` command: messages in Polish and documented exit codes, run as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pipeline.base.errors import ExitCode


def ankieta(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", "--home", str(home), *args],
                          capture_output=True, text=True, timeout=120)


def test_missing_workspace_exit_code_and_advice(tmp_path: Path) -> None:
    r = ankieta(tmp_path / "brak", "office", "show")
    assert r.returncode == ExitCode.NO_WORKSPACE
    assert "ankieta --home" in r.stderr and "init" in r.stderr
    assert "Traceback" not in r.stderr


def test_office_and_forms_flow(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    assert ankieta(home, "init").returncode == 0
    assert ankieta(home, "office", "set", "--name", "Urząd Gminy Bliżyn", "--address", "ul. Kościelna 79").returncode == 0
    r = ankieta(home, "forms", "pdf", "lesko-f1")
    assert r.returncode == ExitCode.INVALID_INPUT and "office departments add" in r.stderr
    assert ankieta(home, "office", "departments", "add", "usc", "Urząd Stanu Cywilnego").returncode == 0
    shown = json.loads(ankieta(home, "office", "show", "--json").stdout)
    assert shown["name"] == "Urząd Gminy Bliżyn" and shown["departments"] == [{"id": "usc", "name": "Urząd Stanu Cywilnego"}]
    out = tmp_path / "f1.pdf"
    r = ankieta(home, "forms", "pdf", "lesko-f1", "-o", str(out), "--copies", "3")
    assert r.returncode == 0 and "3 arkusze nr 000001–000003" in r.stdout
    assert out.read_bytes().startswith(b"%PDF")
    geometry = json.loads(ankieta(home, "forms", "layout", "lesko-f1").stdout)
    assert geometry["form"] == "lesko-f1" and geometry["version"] == 1
    box = geometry["pages"][1]["boxes"][10]
    assert set(box) >= {"id", "question", "value", "x", "y", "w", "h"}
    grid = [b for p in geometry["pages"] for b in p["boxes"] if b["question"] == "q8"]
    assert len(grid) == 25 and grid[0]["id"] == "q8.uprzejmosc.1" and grid[0]["row"] == "uprzejmosc"
    areas = {a["id"] for p in geometry["pages"] for a in p["text_areas"]}
    assert {"q5.inna.text", "q7.inne.text", "q8.uwagi.text", "uwagi.text"} <= areas
    listing = ankieta(home, "forms", "list").stdout
    assert "lesko-f1" in listing and "v1" in listing and "satysfakcja-5" in listing
    r = ankieta(home, "forms", "layout", "lesko-f1", "--version", "4")
    assert r.returncode == ExitCode.INVALID_INPUT and "Dostępne wersje: 1" in r.stderr


def test_forms_check_reports_schema_errors(tmp_path: Path) -> None:
    bad = tmp_path / "zly.yaml"
    bad.write_text("form: zly\ntitle: T\nitems:\n  - {id: q1, type: single, text: P, options: [{id: a}]}\n", "utf-8")
    r = ankieta(tmp_path, "forms", "check", str(bad))
    assert r.returncode == ExitCode.INVALID_INPUT
    assert "zly.yaml" in r.stderr and "'q1'" in r.stderr and "'label'" in r.stderr


def test_poster_and_banner_commands(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    assert ankieta(home, "init").returncode == 0
    r = ankieta(home, "poster")
    assert r.returncode == ExitCode.INVALID_INPUT and "ankieta forms pdf" in r.stderr      # nothing published yet
    assert ankieta(home, "office", "departments", "add", "usc", "Urząd Stanu Cywilnego").returncode == 0
    assert ankieta(home, "forms", "pdf", "satysfakcja-5", "-o", str(tmp_path / "f.pdf")).returncode == 0
    r = ankieta(home, "poster")
    assert r.returncode == ExitCode.INVALID_INPUT and "--public-url" in r.stderr            # no address to print
    r = ankieta(home, "poster", "--url", "https://ankieta.lesko.pl", "-o", str(tmp_path / "plakat.pdf"))
    assert r.returncode == 0 and "https://ankieta.lesko.pl/ankieta/satysfakcja-5" in r.stdout
    assert (tmp_path / "plakat.pdf").read_bytes().startswith(b"%PDF")
    assert ankieta(home, "poster", "--url", "https://ankieta.lesko.pl", "--form", "lesko-f1").returncode == ExitCode.INVALID_INPUT
    r = ankieta(home, "banner", "-o", str(tmp_path / "baner"), "--url", "https://ankieta.lesko.pl")
    assert r.returncode == 0 and {p.name for p in (tmp_path / "baner").iterdir()} == {"ocen-urzad.svg", "ocen-urzad.png"}
    assert ('<a href="https://ankieta.lesko.pl/ankieta/satysfakcja-5">'
            '<img src="https://ankieta.lesko.pl/static/ocen-urzad.png"') in r.stdout
    # the image files need no workspace (that is how pipeline/web/static/ is refreshed)
    r = ankieta(tmp_path / "brak", "banner", "-o", str(tmp_path / "pliki"))
    assert r.returncode == 0 and (tmp_path / "pliki" / "ocen-urzad.png").exists() and "Bez kodu HTML" in r.stdout
