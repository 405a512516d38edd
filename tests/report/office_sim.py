"""A simulated office for the report's tests: Lesko's form F1 answered by people, not by a uniform random draw.

What a real office's data look like, and what this models: departments of very different size (the registry
office sees many more clients than civil defence); paper dominates; a person who is satisfied rates every item
high and one who is not rates every item low (ratings of one respondent are correlated, which is why the index is
bootstrapped by respondent); some rows are left blank, some sheets name no department; a few people write the same
remark in slightly different spelling; some remarks are complaints. A department's level can be moved between the
periods (`shift`, in points on the 1-5 scale) to plant a real decline; with no shift, every difference between the
periods is pure noise.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import date, timedelta

from pipeline.records.layout import FormLayout, load_layout, with_departments
from pipeline.report.model import PeriodData, ResponseRecord
from pipeline.report.periods import Period
from tests.conftest import LESKO, ROOT

# department id -> share of clients
WEIGHTS = {"fin": 0.16, "org": 0.08, "soa": 0.14, "gpn": 0.10, "pfi": 0.05, "usc": 0.18, "oc": 0.02, "gk": 0.09, "ewl": 0.18}
BASE_LEVEL = 4.2             # a typical satisfied office: index ~75, every row above the 70 % top-2 target
ROW_OFFSETS = {"uprzejmosc": 0.2, "sprawnosc": -0.1, "kompetencja": 0.1, "informacja": -0.05, "terminowosc": -0.1}
REMARKS = ["długie kolejki", "Długie kolejki.", "miła obsługa", "Brak miejsc parkingowych", "za krótkie godziny pracy",
           "Bardzo miła pani w okienku", "długie  kolejki"]


def layout() -> FormLayout:
    return with_departments(load_layout(ROOT / "form_layouts" / "lesko-f1.yaml"),
                            [(d.id, d.name) for d in LESKO.departments])


def _person(rnd: random.Random, sid: str, day: date, level: float, dept: str | None,
            lay: FormLayout) -> ResponseRecord:
    latent = level + rnd.gauss(0, 0.6)
    grid: dict[str, int | str] = {}
    for row, off in ROW_OFFSETS.items():
        if rnd.random() < 0.04:
            continue                            # left blank
        grid[row] = min(5, max(1, round(latent + off + rnd.gauss(0, 0.55))))
    answers: dict[str, object] = {
        "q1": rnd.choice(["kobieta", "mezczyzna"]),
        "q2": rnd.choices(["18-25", "26-35", "36-45", "46-55", "56-65", "66plus"], [1, 3, 3, 3, 2, 1])[0],
        "q3": rnd.choice([o.id for o in lay.question("q3").options]),
        "q5": rnd.choices(["decyzja", "zaswiadczenie", "swiadczenie", "informacja"], [3, 3, 1, 3])[0],
        "q6": rnd.choices(["tak", "nie", "w-toku"], [8, 1, 1])[0],
        "q7": ["brak-trudnosci"] if latent > 3.2 or rnd.random() < 0.5 else ["niewlasciwa-osoba", "inny-termin"],
        "q8": grid,
        "q9": rnd.choices(["tak", "nie", "brak-zdania"], [6, 1, 2])[0],
        "q10": {r: rnd.choices(["pozytywnie", "negatywnie", "brak-zdania"], [5, 1, 4])[0]
                for r in ("prasa", "internet", "tablice")},
    }
    if dept is not None:
        answers["q4"] = dept
    texts: dict[str, str] = {}
    complaints: frozenset[str] = frozenset()
    if rnd.random() < 0.12:
        texts["uwagi.text"] = rnd.choice(REMARKS)
        if latent < 3.0 and rnd.random() < 0.5:
            complaints = frozenset({"uwagi.text"})
    channel = rnd.choices(["paper", "paper-manual", "online"], [7, 1, 2])[0]
    return ResponseRecord(sid, "lesko-f1", 1, channel, "urna 1" if channel == "paper" else "", day.isoformat(), "final",
                          answers, texts, complaints)


def period_data(period: Period, n: int, seed: int, shift: Mapping[str, float] | None = None,
                lay: FormLayout | None = None, prefix: str = "S") -> PeriodData:
    """`n` responses received in `period`; `shift`: department -> change of its level (1-5 points)."""
    rnd = random.Random(seed)
    lay = lay or layout()
    depts, weights = list(WEIGHTS), list(WEIGHTS.values())
    out = []
    for i in range(n):
        dept = rnd.choices(depts, weights)[0] if rnd.random() > 0.05 else None
        level = BASE_LEVEL + (shift or {}).get(dept or "", 0.0)
        day = period.date_from + timedelta(days=rnd.randrange(period.days))
        out.append(_person(rnd, f"{prefix}{i:05d}", day, level, dept, lay))
    return PeriodData(period, tuple(out))
