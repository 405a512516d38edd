"""Form versions (frozen layout and geometry per version) and the serials issued by print runs."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.base.errors import InvalidInput, NotFound
from pipeline.records.form_geometry import FormGeometry, geometry_from_dict
from pipeline.records.layout import FormLayout, layout_from_dict
from pipeline.store.base import DB, _t, audit, now_iso

# --- forms ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FormVersion:
    form: str
    version: int
    title: str
    layout: FormLayout
    geometry: FormGeometry
    layout_hash: str
    published_at: str


def _version_from_row(row: Mapping[str, Any]) -> FormVersion:
    return FormVersion(row["form"], row["version"], row["title"], layout_from_dict(json.loads(row["layout_json"])),
                       geometry_from_dict(json.loads(row["geometry_json"])), row["layout_hash"], row["published_at"])


def publish_form_version(db: DB, user: str, form: str, title: str, layout_hash: str, layout_json: str,
                         geometry_for_version: Any, source_text: str) -> FormVersion:
    """Freeze a form version. The same content as the latest version returns it unchanged; new content
    gets the next version number. `geometry_for_version(version) -> dict` builds the geometry JSON."""
    latest = latest_form_version(db, form)
    if latest is not None and latest.layout_hash == layout_hash:
        return latest
    version = 1 if latest is None else latest.version + 1
    with db.atomic():
        _t(db, "form_versions").insert({
            "form": form, "version": version, "title": title, "layout_hash": layout_hash, "layout_json": layout_json,
            "geometry_json": json.dumps(geometry_for_version(version), ensure_ascii=False), "source_text": source_text,
            "published_at": now_iso(),
        })
        audit(db, user, "form.publish", {"form": form, "version": version})
    found = get_form_version(db, form, version)
    return found


def latest_form_version(db: DB, form: str) -> FormVersion | None:
    rows = list(_t(db, "form_versions").rows_where("form = ?", [form], order_by="version desc", limit=1))
    return _version_from_row(rows[0]) if rows else None


def get_form_version(db: DB, form: str, version: int | None = None) -> FormVersion:
    if version is None:
        latest = latest_form_version(db, form)
        if latest is None:
            raise NotFound(f"Formularz {form!r} nie został jeszcze opublikowany. Wydrukuj go: ankieta forms pdf {form}.")
        return latest
    rows = list(_t(db, "form_versions").rows_where("form = ? and version = ?", [form, version]))
    if not rows:
        known = [str(r["version"]) for r in _t(db, "form_versions").rows_where("form = ?", [form])]
        raise NotFound(f"Nie ma wersji {version} formularza {form!r}."
                       + (f" Dostępne wersje: {', '.join(known)}." if known else " Formularz nie był publikowany."))
    return _version_from_row(rows[0])


def list_form_versions(db: DB) -> list[dict[str, Any]]:
    return list(_t(db, "form_versions").rows_where(select="form, version, title, published_at", order_by="form, version"))


def all_form_versions(db: DB) -> Iterator[FormVersion]:
    for row in _t(db, "form_versions").rows_where(order_by="form, version"):
        yield _version_from_row(row)


def allocate_serials(db: DB, user: str, form: str, version: int, copies: int) -> list[str]:
    """Reserve `copies` new sheet serials, unique across every print run of the workspace."""
    if copies < 1 or copies > 10_000:
        raise InvalidInput("Liczba kopii musi być od 1 do 10000.")
    with db.atomic():
        row = next(iter(db.query("select max(cast(serial as integer)) as m from serials")), {"m": None})
        start = int(row["m"] or 0) + 1
        serials = [f"{n:06d}" for n in range(start, start + copies)]
        job = _t(db, "print_jobs").insert({"form": form, "version": version, "copies": copies, "first_serial": serials[0],
                                           "last_serial": serials[-1], "created_at": now_iso()}).last_pk
        _t(db, "serials").insert_all({"serial": s, "form": form, "version": version, "print_job": job} for s in serials)
        audit(db, user, "form.print", {"form": form, "version": version, "copies": copies,
                                       "serials": f"{serials[0]}-{serials[-1]}"})
    return serials



def form_versions_by_key(db: DB) -> dict[tuple[str, int], FormVersion]:
    return {(fv.form, fv.version): fv for fv in all_form_versions(db)}
