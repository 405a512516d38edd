"""The office's own data: name, address, departments and the contact data of its public pages."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Department:
    id: str
    name: str


@dataclass(frozen=True)
class Office:
    """The office's own data, edited by the administrator and printed on forms and reports."""

    name: str = "Urząd Gminy"
    address: str = ""
    respondent: str = "klient"          # "klient" or "interesant": how the office calls the people it serves
    departments: tuple[Department, ...] = ()
    contact: str = ""                   # free-text contact line for reports ("tel. ..., e-mail ...")
    # For the public pages (accessibility statement, survey poster); none of them is printed on the form.
    email: str = ""                     # the office's e-mail for accessibility requests
    phone: str = ""
    coordinator: str = ""               # the accessibility coordinator (koordynator ds. dostępności)
    public_url: str = ""                # where citizens reach the survey server, e.g. https://ankieta.lesko.pl
    statement_date: str = ""            # YYYY-MM-DD the accessibility statement was prepared
