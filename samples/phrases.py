"""Polish text people write on the forms, and the typed letters that get scanned by mistake.

Written with the diacritics people really use (ą ę ł ń ó ś ź ż, capitals too), so OCR and the review
screen are tested on them.
"""

from __future__ import annotations

# "inne – jakie?" next to a matter: what the person came to the office for
MATTERS = (
    "podatek od nieruchomości", "wycinka drzew na działce", "meldunek stały", "zezwolenie na sprzedaż alkoholu",
    "wypis z planu zagospodarowania", "opłata za śmieci", "zaświadczenie o niezaleganiu", "zgłoszenie psa",
    "zajęcie pasa drogowego", "podział działki", "dowód osobisty dla córki", "akt małżeństwa",
    "dofinansowanie do pieca", "ulga w podatku rolnym", "warunki zabudowy", "przyłącze wodociągowe",
    "sprawa spadkowa", "numer porządkowy budynku", "dodatek mieszkaniowy", "karta dużej rodziny",
)

# "inne trudności – jakie?"
DIFFICULTIES = (
    "długa kolejka", "za długo czekałem", "brak miejsc parkingowych", "nie było kierownika",
    "nieczynne ksero", "za dużo papierów do wypełnienia", "trudno znaleźć pokój", "brak windy",
    "pani była na urlopie", "źle oznakowane wejście", "kazano przyjść jutro", "nikt nie odbierał telefonu",
    "niezrozumiałe pismo", "formularz nieaktualny na stronie", "brak informacji o opłacie",
)

# "inne – jakie?" next to where people learn about the office
SOURCES = (
    "od sąsiadów", "od sołtysa", "ogłoszenia w kościele", "radio Bieszczady", "znajomi", "sklep w Łączkach",
    "gazetka gminna", "rodzina", "facebook sołectwa", "plakaty na przystanku", "w pracy",
)

# free remarks: UWAGI, comment areas, "Co powinniśmy poprawić?"
REMARKS = (
    "Bardzo miła obsługa, dziękuję.",
    "Proszę o dłuższe godziny pracy w czwartki.",
    "Brak windy dla osób starszych i niepełnosprawnych.",
    "Pani w okienku była bardzo pomocna.",
    "Za mało miejsc do siedzenia na korytarzu.",
    "Strona internetowa jest nieczytelna, trudno coś znaleźć.",
    "Wszystko załatwione szybko i sprawnie!",
    "Więcej informacji o terminach płatności podatków.",
    "Parking przed urzędem jest za mały.",
    "Dziękuję za życzliwość i cierpliwość.",
    "Prosimy o automat z kawą w poczekalni.",
    "Urzędnik nie znał przepisów, odsyłał mnie dalej.",
    "Czekałam ponad godzinę, to za długo.",
    "Lepsze oznakowanie pokoi na piętrze.",
    "Możliwość płatności kartą w kasie.",
    "Żadnych uwag, jestem zadowolony.",
    "Ładnie odnowiony budynek, gratuluję.",
    "Przydałby się numerek do kolejki.",
    "Pan z referatu finansowego świetnie wszystko wyjaśnił.",
    "Zbyt skomplikowane wnioski, proszę uprościć.",
    "Ciepło i czysto, obsługa bez zarzutu.",
    "Źle działające ogrzewanie w sali obsługi.",
)

# what gets scanned by mistake: a typed letter to the office
LETTER_HEAD = (
    "Jan Kowalski", "ul. Mickiewicza 14/3", "38-600 Lesko", "", "Lesko, dnia 12 marca 2024 r.", "",
    "Burmistrz Miasta i Gminy Lesko", "ul. Parkowa 1", "38-600 Lesko", "", "WNIOSEK",
)
LETTER_BODY = (
    "Zwracam się z uprzejmą prośbą o wydanie zaświadczenia o przeznaczeniu działki nr 1234/5 położonej",
    "w obrębie Huzele w miejscowym planie zagospodarowania przestrzennego. Zaświadczenie jest mi potrzebne",
    "do przedłożenia w banku w związku z ubieganiem się o kredyt hipoteczny na budowę domu jednorodzinnego.",
    "Jednocześnie proszę o informację, czy dla wskazanej działki została wydana decyzja o warunkach",
    "zabudowy oraz czy w najbliższym czasie planowane są zmiany w studium uwarunkowań i kierunków",
    "zagospodarowania przestrzennego gminy. Opłatę skarbową w wysokości 50 zł uiściłem przelewem",
    "na rachunek urzędu, potwierdzenie przelewu załączam do niniejszego wniosku.",
    "Uprzejmie proszę o odbiór osobisty zaświadczenia w sekretariacie urzędu albo przesłanie go pocztą",
    "na adres podany powyżej. W razie pytań jestem dostępny pod numerem telefonu 600 123 456.",
    "Z góry dziękuję za szybkie załatwienie sprawy.",
)
LETTER_FOOT = ("", "Z poważaniem", "Jan Kowalski", "", "Załączniki:", "1. Potwierdzenie uiszczenia opłaty skarbowej.",
               "2. Kopia mapy ewidencyjnej.")
FOREIGN_QR = (
    "https://bip.lesko.pl/sprawa/2024/0312",
    "https://epuap.gov.pl/wps/portal/strefa-klienta/katalog-spraw",
    "BCD\n002\n1\nSCT\nPKOPPLPW\nUrzad Miasta i Gminy Lesko\nPL61109010140000071219812874\nPLN50.00\n\n\nOplata skarbowa",
)
