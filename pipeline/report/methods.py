"""The statistical methods of the report in words (Polish), for the PDF's annex, the XLSX summary and the JSON.

One text per method, with the settings that apply (minimum n, resamples, seed, the family's error rate), so a
reader of the protocol can check every figure by hand or with any statistics package.
"""

from __future__ import annotations

from pipeline.report.model import ReportSettings


def annex(s: ReportSettings) -> tuple[tuple[str, str], ...]:
    """(title, text) per method, in the order the annex prints them."""
    return (
        ("Przedział ufności 95 %",
         "Przy każdej wartości porównywanej lub ocenianej podano przedział ufności 95 %: zakres, w którym z dużym "
         "prawdopodobieństwem leży wartość dla wszystkich klientów urzędu, gdyby ankietę wypełnili wszyscy. Im mniej "
         "odpowiedzi, tym przedział szerszy."),
        ("Odsetki (udział odpowiedzi, udział ocen najwyższych, udział skarg)",
         "Przedział Wilsona (score interval) — dokładny także przy małej liczbie odpowiedzi i przy odsetkach bliskich "
         "0 % lub 100 %. Zmiana odsetka między okresami: przedział Newcombe’a (metoda hybrydowa score, „method 10”), "
         "zbudowany z przedziałów Wilsona obu okresów."),
        ("Średnie ocen i indeks satysfakcji",
         f"Bootstrap po respondentach: odpowiedzi z okresu losuje się ze zwracaniem całymi ankietami "
         f"({s.resamples} losowań, stałe ziarno {s.seed} — ten sam zbiór danych daje zawsze ten sam raport). "
         "Losowanie całych ankiet uwzględnia to, że oceny jednej osoby nie są od siebie niezależne. Przedział: "
         "wartość ± 1,96 × błąd standardowy z bootstrapu. Zmiana między okresami (próby niezależne): błąd standardowy "
         "√(SE₁² + SE₂²). Komórka na tle pozostałej części urzędu: różnica liczona w każdym losowaniu."),
        ("Zmiana istotna i w granicach błędu",
         "Zmianę nazwano istotną, gdy jej przedział 95 % nie obejmuje zera; tylko taka zmiana ma strzałkę ▲ lub ▼. "
         "Zmiana, której przedział obejmuje zero, jest „w granicach błędu”: mogła wyniknąć z tego, kto akurat wypełnił "
         "ankietę."),
        ("Obszary wymagające działań (poprawka Holma)",
         "Raport sprawdza jednocześnie wiele rzeczy (każdą pozycję pytań, każdą komórkę, indeks). Przy 40 porównaniach "
         "około dwóch wypadłoby „istotnie” przez przypadek. Dlatego ustalenia wymagają istotności po poprawce Holma "
         f"(procedura krokowa Holma–Bonferroniego): szansa, że raport wskaże cokolwiek, gdy nic się nie zmieniło, "
         f"wynosi najwyżej {round(s.family_alpha * 100)} %. Progi: średnia poniżej {str(s.mean_below).replace('.', ',')} "
         f"w skali 1–5 (inne skale proporcjonalnie) albo udział ocen najwyższych poniżej "
         f"{str(round(s.top2_below_pct)).replace('.', ',')} % — w obu przypadkach istotnie poniżej progu; spadek "
         "względem okresu porównawczego; komórka istotnie niżej niż pozostała część urzędu. Skargi wymagają "
         "rozpatrzenia zawsze, bez względu na statystykę."),
        ("Mała liczba odpowiedzi",
         f"Przy mniej niż {s.min_n} odpowiedziach nie podaje się odsetków ani średnich, tylko liczby (np. „3 z 5”): "
         f"jedna osoba zmienia wtedy wynik o 10 i więcej punktów procentowych. Wyniki z mniej niż {s.warn_n} odpowiedzi "
         "oznaczono znakiem † — są orientacyjne, przedziały są szerokie."),
        ("Ochrona małych grup (RODO)",
         f"Kategorie profilu respondentów i komórki wskazane przez mniej niż {s.min_cell} osób łączy się w grupę "
         "„pozostałe”; zestawień opartych na mniej niż "
         f"{s.min_cell} odpowiedziach nie pokazuje się."),
    )
