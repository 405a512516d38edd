"""The office's data (name, address, departments): departments are deactivated, never deleted."""

from __future__ import annotations

import re
from datetime import date

from pipeline.base.errors import InvalidInput, NotFound
from pipeline.records.office import Department, Office
from pipeline.store.base import DB, _t, audit, now_iso

# --- office data ---------------------------------------------------------------------------------

OFFICE_FIELDS = ("name", "address", "respondent", "contact", "email", "phone", "coordinator", "public_url", "statement_date")


def get_office(db: DB) -> Office:
    # plain queries, not Table.get/rows_where: those introspect the schema on every call, and every public
    # survey page shows the office's name (a quarter of the database time of a GET + POST in the load test)
    found = list(db.query("select * from office where id = 1"))
    if not found:
        raise NotFound("Brak danych urzędu: workspace nie został zainicjowany (ankieta init).")
    row = found[0]
    deps = tuple(Department(r["id"], r["name"])
                 for r in db.query("select id, name from departments where active = 1 order by position, id"))
    return Office(departments=deps, **{f: row[f] or "" for f in OFFICE_FIELDS})


def set_office(db: DB, user: str, **fields: str) -> Office:
    unknown = set(fields) - set(OFFICE_FIELDS)
    if unknown:
        raise InvalidInput(f"Nieznane pole danych urzędu: {', '.join(sorted(unknown))}. Dozwolone: {', '.join(OFFICE_FIELDS)}.")
    if "respondent" in fields and fields["respondent"] not in ("klient", "interesant"):
        raise InvalidInput("Pole 'respondent' przyjmuje wartość 'klient' albo 'interesant'.")
    url = fields.get("public_url", "")
    if url and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
        raise InvalidInput(f"Adres ankiety internetowej {url!r} jest niepoprawny: podaj pełny adres, np. https://ankieta.lesko.pl.")
    email = fields.get("email", "")
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise InvalidInput(f"Adres e-mail {email!r} jest niepoprawny, np. sekretariat@lesko.pl.")
    when = fields.get("statement_date", "")
    if when:
        try:
            date.fromisoformat(when)
        except ValueError:
            raise InvalidInput(f"Data deklaracji dostępności {when!r} jest niepoprawna: użyj formatu RRRR-MM-DD.") from None
    with db.atomic():
        _t(db, "office").update(1, {**fields, "updated_at": now_iso()})
        audit(db, user, "office.set", dict(fields))
    return get_office(db)


def add_department(db: DB, user: str, dep_id: str, name: str) -> None:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", dep_id):
        raise InvalidInput(f"Identyfikator komórki {dep_id!r} jest niepoprawny: użyj małych liter a-z, cyfr, '-' lub '_' "
                           "(bez polskich liter i spacji), np. 'usc' albo 'finanse'.")
    if not name.strip():
        raise InvalidInput("Podaj nazwę komórki organizacyjnej.")
    table = _t(db, "departments")
    existing = {r["id"]: r for r in table.rows}
    if dep_id in existing and existing[dep_id]["active"]:
        raise InvalidInput(f"Komórka o identyfikatorze {dep_id!r} już istnieje ({existing[dep_id]['name']}).")
    position = max((r["position"] for r in existing.values()), default=0) + 1
    with db.atomic():
        table.upsert({"id": dep_id, "name": name, "position": position, "active": 1}, pk="id")
        audit(db, user, "department.add", {"id": dep_id, "name": name})


def rename_department(db: DB, user: str, dep_id: str, name: str) -> None:
    table = _t(db, "departments")
    if not table.count_where("id = ? and active = 1", [dep_id]):
        raise NotFound(f"Nie ma komórki {dep_id!r}. Listę pokaże: ankieta office departments list.")
    with db.atomic():
        table.update(dep_id, {"name": name})
        audit(db, user, "department.rename", {"id": dep_id, "name": name})


def remove_department(db: DB, user: str, dep_id: str) -> None:
    """Deactivate (not delete): old answers keep pointing at a department that still has a name."""
    table = _t(db, "departments")
    if not table.count_where("id = ? and active = 1", [dep_id]):
        raise NotFound(f"Nie ma komórki {dep_id!r}. Listę pokaże: ankieta office departments list.")
    with db.atomic():
        table.update(dep_id, {"active": 0})
        audit(db, user, "department.remove", {"id": dep_id})
