"""The architecture is enforced, not only written down: import-linter's contracts (pyproject.toml) hold for
the code as it is, and each of them fails when a module imports against the layering."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).parent / "lint-imports"

# (module file, a line that breaks the architecture, the contract that must catch it)
WRONG_IMPORTS = [
    ("pipeline/reader/identify.py", "from pipeline.report import model as _wrong", "Layers:"),        # stage → stage
    ("pipeline/report/build.py", "from pipeline import store as _wrong", "Layers:"),                   # stage → store
    ("pipeline/base/geometry.py", "from pipeline.records import layout as _wrong", "Layers:"),         # upwards
    ("pipeline/runs/export.py", "import sqlite_utils as _wrong", "Only the store touches the database library"),
    ("pipeline/runs/review.py", "import click as _wrong", "Only the CLI touches click"),
    ("pipeline/runs/review.py", "import flask as _wrong", "Only the web app touches Flask"),
]


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    if not LINT.exists():
        pytest.fail(f"{LINT} is missing: `make test` installs import-linter with the dev extras")
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT), "--no-cache", str(root / "pyproject.toml")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_code_keeps_every_import_contract() -> None:
    r = _lint(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout


def test_each_contract_fails_on_a_wrong_import(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "pipeline", tmp_path / "pipeline", ignore=shutil.ignore_patterns("__pycache__", "static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for rel, line, _ in WRONG_IMPORTS:
        f = tmp_path / rel
        text = f.read_text("utf-8")
        head, sep, rest = text.partition("\nfrom __future__ import annotations\n")
        assert sep, rel
        f.write_text(head + sep + line + "\n" + rest, "utf-8")
    r = _lint(tmp_path)
    assert r.returncode != 0
    out = " ".join(r.stdout.split())      # the report wraps long contract names
    for contract in {c for _, _, c in WRONG_IMPORTS}:
        assert f"{contract}" in out and "BROKEN" in out.split(contract, 1)[1][:400], (contract, r.stdout)
    for rel, _, _ in WRONG_IMPORTS:       # every wrong import is named in the report
        module = rel.removesuffix(".py").replace("/", ".")
        assert module in out, (module, r.stdout)
