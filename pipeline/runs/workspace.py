"""Orchestration: the library API the CLI and the web app call. Workspaces, forms, printing.

A workspace is a folder an office owns: `ankieta.db` plus the folders later stages use (inbox, archive,
quarantine, pages, crops, reports, printed, logs) and `forms/` with the layout files the office edits.
The scan-reading part of the API lives in `pipeline.reading` (split out to keep modules small).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipeline import store
from pipeline.base import config as C
from pipeline.base.errors import InvalidInput, LayoutError, NotFound, WorkspaceMissing
from pipeline.forms.render import compose, draw_pdf, version_hash
from pipeline.records.form_geometry import FormGeometry, geometry_to_dict
from pipeline.records.layout import FormLayout, layout_to_dict, load_layout, with_departments
from pipeline.records.office import Office
from pipeline.records.page_code import version_fingerprint

SYSTEM_USER = "system"


@dataclass(frozen=True)
class Workspace:
    home: Path
    db: store.DB

    @property
    def forms_dir(self) -> Path:
        return self.home / "forms"

    def folder(self, name: str) -> Path:
        return self.home / name


def bundled_layouts_dir() -> Path:
    """form_layouts/ of the source tree (the package is installed editable by `make`)."""
    return Path(__file__).resolve().parents[2] / "form_layouts"


def init_workspace(home: Path, office: Office | None = None) -> Workspace:
    """Create (or complete) a workspace; idempotent, never overwrites the office's edited layouts."""
    home = home.absolute()     # see open_workspace
    home.mkdir(parents=True, exist_ok=True)
    for name in (*C.WORKSPACE_DIRS, "forms"):
        (home / name).mkdir(exist_ok=True)
    for src in sorted(bundled_layouts_dir().glob("*.yaml")):
        dst = home / "forms" / src.name
        if not dst.exists():
            shutil.copyfile(src, dst)
    db = store.open_db(home / C.DB_NAME)
    ws = Workspace(home, db)
    if office is not None:
        store.set_office(db, SYSTEM_USER, name=office.name, address=office.address, respondent=office.respondent,
                         contact=office.contact)
        existing = {d.id for d in store.get_office(db).departments}
        for dep in office.departments:
            if dep.id not in existing:
                store.add_department(db, SYSTEM_USER, dep.id, dep.name)
    return ws


def open_workspace(home: Path) -> Workspace:
    # Absolute, so every ws.folder() path means the same place wherever it is used: Flask's send_file reads a
    # relative path against the package, not the working directory (`--home demo/...` lost every page image).
    home = home.absolute()
    db_path = home / C.DB_NAME
    if not db_path.exists():
        raise WorkspaceMissing(
            f"Nie ma przestrzeni roboczej w {home}. Utwórz ją poleceniem: ankieta --home {home} init "
            f"(albo wskaż istniejącą opcją --home lub zmienną {C.HOME_ENV})."
        )
    return Workspace(home, store.open_db(db_path))


# --- forms ---------------------------------------------------------------------------------------

def layout_path(ws: Workspace, form: str) -> Path:
    """A form name (looked up in the workspace's forms/) or a path to a layout file."""
    candidate = Path(form)
    if candidate.suffix in (".yaml", ".yml") and candidate.exists():
        return candidate
    for ext in (".yaml", ".yml"):
        p = ws.forms_dir / f"{form}{ext}"
        if p.exists():
            return p
    known = sorted(p.stem for p in ws.forms_dir.glob("*.y*ml"))
    raise NotFound(f"Nie znaleziono formularza {form!r} w {ws.forms_dir}. Dostępne: {', '.join(known) or 'brak'}.")


def resolve_layout(ws: Workspace, form: str) -> tuple[FormLayout, str]:
    path = layout_path(ws, form)
    layout = load_layout(path)
    if path.parent == ws.forms_dir and layout.form != path.stem:
        raise LayoutError(
            f"Błąd w pliku układu {path}: pole 'form' ({layout.form!r}) musi być równe nazwie pliku ({path.stem!r})."
        )
    office = store.get_office(ws.db)
    needs_departments = any(q.source == "departments" for q in layout.questions)
    if needs_departments and not office.departments:
        raise InvalidInput(
            f"Formularz {layout.form!r} ma pytanie o komórkę organizacyjną, a urząd nie ma jeszcze listy komórek. "
            "Dodaj je: ankieta office departments add ID \"Nazwa komórki\"."
        )
    resolved = with_departments(layout, [(d.id, d.name) for d in office.departments])
    return resolved, path.read_text("utf-8")


def publish_form(ws: Workspace, form: str, user: str = SYSTEM_USER) -> store.FormVersion:
    """Freeze the current layout (with today's office data) as a form version; unchanged content keeps
    its version, so printing twice does not multiply versions."""
    layout, source = resolve_layout(ws, form)
    office = store.get_office(ws.db)
    pages = compose(layout, office, 0).pages      # positions do not depend on the version number
    layout_json = json.dumps(layout_to_dict(layout), ensure_ascii=False, sort_keys=True)
    digest = version_hash(layout, office, pages)
    return store.publish_form_version(
        ws.db, user, layout.form, layout.title, digest, layout_json,
        lambda version: geometry_to_dict(FormGeometry(layout.form, version, layout.title, pages)), source,
    )


def form_pdf(ws: Workspace, form: str, copies: int | None = None, user: str = SYSTEM_USER) -> tuple[bytes, store.FormVersion,
                                                                                                   list[str]]:
    """The printable PDF of the form's current version: a photocopy master, or `copies` serialised sheets."""
    version = publish_form(ws, form, user)
    office = store.get_office(ws.db)
    serials: list[str | None]
    issued: list[str] = []
    if copies:
        issued = store.allocate_serials(ws.db, user, version.form, version.version, copies)
        serials = list(issued)
    else:
        serials = [None]
    comp = compose(version.layout, office, version.version)
    drawn = geometry_to_dict(FormGeometry(version.form, version.version, version.title, comp.pages))
    if drawn != geometry_to_dict(version.geometry):
        # The renderer or office data changed since this version was frozen; printing it now would put boxes
        # where the frozen geometry does not expect them. Publishing first guarantees this cannot happen.
        raise InvalidInput("Układ wydruku różni się od zamrożonej geometrii tej wersji formularza; zgłoś to administratorowi.")
    pdf = draw_pdf(comp, version.form, version.version, serials, fingerprint=version_fingerprint(version.layout_hash))
    return pdf, version, issued
