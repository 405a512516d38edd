"""Polish number agreement: the one helper every text of the product uses to print a count with its noun.

Polish nouns take one of three forms after a number: "1 ankieta", "2–4 ankiety" (also 22–24, 32–34, …, but not
12–14), "5 ankiet" (0, 5–21, 25–31, …). `count(24, ANKIETA)` gives "24 ankiety". The report, the CLI summaries
and the web templates (a Jinja filter) all call it, so no text says "24 ankiet" or "1 arkuszy".
"""

from __future__ import annotations

# (singular, plural after 2-4, plural after 5+): nouns the product counts
ANKIETA = ("ankieta", "ankiety", "ankiet")
ARKUSZ = ("arkusz", "arkusze", "arkuszy")
ODPOWIEDZ = ("odpowiedź", "odpowiedzi", "odpowiedzi")
OCENA = ("ocena", "oceny", "ocen")
OSOBA = ("osoba", "osoby", "osób")
SKARGA = ("skarga", "skargi", "skarg")
UWAGA = ("uwaga", "uwagi", "uwag")
PLIK = ("plik", "pliki", "plików")
STRONA = ("strona", "strony", "stron")
POZYCJA = ("pozycja", "pozycje", "pozycji")
KOMORKA = ("komórka", "komórki", "komórek")
RAZ = ("raz", "razy", "razy")

NOUNS: dict[str, tuple[str, str, str]] = {forms[0]: forms for forms in (
    ANKIETA, ARKUSZ, ODPOWIEDZ, OCENA, OSOBA, SKARGA, UWAGA, PLIK, STRONA, POZYCJA, KOMORKA, RAZ)}


def plural(n: int, forms: tuple[str, str, str]) -> str:
    """The form of the noun that agrees with the integer `n`."""
    one, few, many = forms
    n = abs(n)
    if n == 1:
        return one
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return few
    return many


def count(n: int, forms: tuple[str, str, str] | str) -> str:
    """'24 ankiety', '5 ankiet', '1 ankieta'; `forms` is a triple or the singular of a noun in NOUNS."""
    triple = NOUNS[forms] if isinstance(forms, str) else forms
    return f"{n} {plural(n, triple)}"
