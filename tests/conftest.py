"""Shared fixtures: a workspace with Lesko's office data, and the rendered forms."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.records.office import Department, Office
from pipeline.runs.workspace import Workspace, init_workspace

ROOT = Path(__file__).resolve().parent.parent

LESKO = Office(
    name="Urząd Miasta i Gminy Lesko",
    address="ul. Parkowa 1, 38-600 Lesko",
    departments=(
        Department("fin", "Referat Finansowy"),
        Department("org", "Referat Organizacyjny i Spraw Społecznych"),
        Department("soa", "Referat Spraw Obywatelskich i Administracji"),
        Department("gpn", "Referat Gospodarki Przestrzennej, Nieruchomościami i Ochrony Środowiska"),
        Department("pfi", "Referat Pozyskiwania Funduszy i Inwestycji"),
        Department("usc", "Kierownik Urzędu Stanu Cywilnego"),
        Department("oc", "Obrona Cywilna"),
        Department("gk", "Gospodarka Komunalna"),
        Department("ewl", "Ewidencja Ludności. Dowody Osobiste"),
    ),
)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return init_workspace(tmp_path / "ws", LESKO)


@pytest.fixture(scope="session")
def prepared_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ingested, reviewed-to-be batch (tests/browser/harness.make_batch) under `ws/`, its scans under
    `scans/`; made once for every module that needs it. Tests work on private copies (copy_workspace)."""
    from tests.web.harness import make_batch

    root = tmp_path_factory.mktemp("batch")
    make_batch(root / "ws", root / "scans").db.close()
    return root
