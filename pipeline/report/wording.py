"""Figures as the protocol prints them, in Polish (decimal comma, true minus, "3 z 5"), shared by the PDF, the
findings' reasons and the data files' text columns.

One rule everywhere: a change gets an arrow only when it is significant (its 95 % interval excludes 0); a figure
from fewer answers than the minimum is printed as a count ("3 z 5"), never as a % or a mean; a figure from fewer
answers than the warning threshold carries SMALL_MARK.
"""

from __future__ import annotations

from pipeline.report.stats import Measure

SMALL_MARK = "†"
SIGNIFICANT = "istotna"
NOISE = "w granicach błędu"
UNITS = {"share": "pp", "mean": "", "index": "pkt"}
DIGITS = {"share": 1, "mean": 2, "index": 1}


def num(x: float | None, digits: int = 1) -> str:
    if x is None:
        return "–"
    text = f"{x:.{digits}f}"
    if text.lstrip("-").strip("0.") == "":      # -0.0 is printed as 0
        text = text.lstrip("-")
    return text.replace(".", ",").replace("-", "−")


def signed(x: float, digits: int = 1) -> str:
    """'+5,0', '−2,5'; a value that rounds to zero keeps its sign ('+0,0'), 0 itself is '0,0'."""
    text = num(x, digits)
    if x < 0 and not text.startswith("−"):
        return f"−{text}"
    return text if text.startswith("−") or x == 0 else f"+{text}"


def pct(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{num(x, digits)} %"


def span(interval: tuple[float, float] | None, digits: int = 1, signs: bool = False) -> str:
    """'69,8–75,0'; with signs (a change): '−3,6…+1,6'."""
    if interval is None:
        return "–"
    lo, hi = interval
    if signs:
        return f"{signed(lo, digits)}…{signed(hi, digits)}"
    return f"{num(lo, digits)}–{num(hi, digits)}"


def _figure(kind: str, v: float | None, k: int | None, n: int) -> str:
    if v is None:
        return f"{k} z {n}" if kind == "share" and k is not None and n else "–"
    return pct(v) if kind == "share" else num(v, DIGITS[kind])


def value(m: Measure) -> str:
    """The figure alone: '58,3 %', '4,08', '72,4'; below the minimum n a share is 'k z n' and a mean '–'."""
    return _figure(m.kind, m.value, m.count, m.n) + (f" {SMALL_MARK}" if m.value is not None and m.small_sample else "")


def with_interval(m: Measure) -> str:
    """'58,3 % (49,1–67,0)'; the interval only when the value is shown."""
    if m.value is None or m.interval is None:
        return value(m)
    return f"{value(m)} ({span(m.interval, DIGITS[m.kind])})"


def previous(m: Measure) -> str:
    return _figure(m.kind, m.previous_value, m.previous_count, m.previous_n)


def change(m: Measure, interval: bool = False) -> str:
    """'▼ −12,4 pkt' (significant), '−1,0 pkt' (within the margin of error: no arrow); '–' with nothing to compare."""
    if m.change is None:
        return "–"
    digits, unit = DIGITS[m.kind], UNITS[m.kind]
    arrow = ("▲ " if m.change > 0 else "▼ ") if m.significant else ""
    text = f"{arrow}{signed(m.change, digits)} {unit}".rstrip()
    if interval and m.change_interval is not None:
        text += f" ({span(m.change_interval, digits, signs=True)})"
    return text


def verdict(m: Measure) -> str:
    """'istotna' or 'w granicach błędu' for a change; '' when there is nothing to compare."""
    if m.change is None:
        return ""
    return SIGNIFICANT if m.significant else NOISE
