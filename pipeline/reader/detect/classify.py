"""Step 4 of reading a box: its state, with a confidence, from its metrics alone (no question context).

Each state gets a support 0..1 from the metrics (SDAPS maps each metric to a state and a quality); the best
wins, its confidence is reduced by the runner-up's support and capped by the position quality. Anything
between the clear regions is "uncertain" with a Polish reason, because a wrong confident answer is the one
error a reviewer never sees. "filled" (a fully filled box) is an answer or a cancellation: the question
rules (boxes.py) decide from the other boxes of the question.
"""

from __future__ import annotations

from functools import lru_cache

from pipeline.base import config as C


def ramp(x: float, lo: float, hi: float) -> float:
    """0 at lo, 1 at hi, linear between (hi below lo gives a falling ramp)."""
    return min(max((x - lo) / (hi - lo), 0.0), 1.0)


def classify(m: dict[str, float]) -> tuple[str, float, str]:
    """State, confidence 0..1 and a Polish reason from one box's metrics (no question context).

    Each state gets a support 0..1 from the metrics (SDAPS maps each metric to a state and a quality); the
    best wins, its confidence is reduced by the runner-up's support and capped by the position quality.
    Below DETECT_MIN_CONFIDENCE_RATIO the box is "uncertain": a person looks at it.
    """
    return decide(m, *support(m))


def support(m: dict[str, float]) -> tuple[str, float, float]:
    """The best-supported state, its support and the runner-up's (classify's first half: not the position)."""
    return _support(m["coverage"], m["white_share"], m["solid_share"], m["extent_mm"], m["faint_extent_mm"], m["specks"],
                    m["spread_mm"])


# Most boxes hold no ink at all and have the same (default) shape metrics: they share one computation.
@lru_cache(maxsize=256)
def _support(cov: float, white: float, solid: float, extent: float, faint_extent: float, specks: float,
             spread: float) -> tuple[str, float, float]:
    empty = min(
        ramp(cov, C.DETECT_EMPTY_COVERAGE_MAX_RATIO, C.DETECT_EMPTY_COVERAGE_CLEAR_RATIO),
        ramp(extent, C.DETECT_EMPTY_EXTENT_MAX_MM, C.DETECT_EMPTY_EXTENT_CLEAR_MM),
        ramp(faint_extent, C.DETECT_FAINT_EXTENT_MAX_MM, C.DETECT_FAINT_EXTENT_CLEAR_MM),
        max(ramp(specks, C.DETECT_TRACE_SPECKS_MAX, C.DETECT_TRACE_SPECKS_CLEAR),
            ramp(spread, C.DETECT_TRACE_SPREAD_MAX_MM, C.DETECT_TRACE_SPREAD_CLEAR_MM)),
    )
    # Much ink must still look like strokes to be a cross: paper left between them, no solid core.
    strokes = min(ramp(solid, C.DETECT_CROSS_SOLID_MAX_RATIO, C.DETECT_CROSS_SOLID_CLEAR_RATIO),
                  ramp(white, C.DETECT_CROSS_WHITE_MIN_RATIO, C.DETECT_CROSS_WHITE_CLEAR_RATIO))
    mark = min(
        ramp(cov, C.DETECT_MARK_COVERAGE_MIN_RATIO, C.DETECT_MARK_COVERAGE_CLEAR_RATIO),
        ramp(extent, C.DETECT_MARK_EXTENT_MIN_MM, C.DETECT_MARK_EXTENT_CLEAR_MM),
        max(ramp(cov, C.DETECT_DENSE_COVERAGE_FULL_RATIO, C.DETECT_DENSE_COVERAGE_MIN_RATIO), strokes),
    )
    solid_fill = min(ramp(cov, C.DETECT_FILL_COVERAGE_MIN_RATIO, C.DETECT_FILL_COVERAGE_CLEAR_RATIO),
                     ramp(white, C.DETECT_FILL_WHITE_MAX_RATIO, C.DETECT_FILL_WHITE_CLEAR_RATIO),
                     ramp(solid, C.DETECT_FILL_SOLID_MIN_RATIO, C.DETECT_FILL_SOLID_CLEAR_RATIO))
    hatched = min(ramp(cov, C.DETECT_HATCH_COVERAGE_MIN_RATIO, C.DETECT_HATCH_COVERAGE_CLEAR_RATIO),
                  ramp(white, C.DETECT_HATCH_WHITE_MAX_RATIO, C.DETECT_HATCH_WHITE_CLEAR_RATIO))
    support = {"empty": empty, "marked": mark, "filled": max(solid_fill, hatched)}
    ranked = sorted(support.items(), key=lambda kv: kv[1], reverse=True)
    (state, best), (_, second) = ranked[0], ranked[1]
    return state, best, second


def decide(m: dict[str, float], state: str, best: float, second: float) -> tuple[str, float, str]:
    """classify's second half: the confidence, capped by the position quality, and the reason if uncertain."""
    cov, extent = m["coverage"], m["extent_mm"]
    position = m["position_quality"]
    conf = min(best * (1.0 - second), position)
    if conf >= C.DETECT_MIN_CONFIDENCE_RATIO:
        return state, conf, ""
    if position < C.DETECT_MIN_CONFIDENCE_RATIO and position < best * (1.0 - second):
        reason = "nie odnaleziono ramki kratki – sprawdź położenie"
    elif cov >= C.DETECT_DENSE_COVERAGE_MIN_RATIO:
        reason = "gęsto zamalowane – krzyżyk czy zamalowanie kratki?"
    elif extent < C.DETECT_MARK_EXTENT_CLEAR_MM and cov >= C.DETECT_EMPTY_COVERAGE_CLEAR_RATIO:
        reason = "mały lub niepełny znak"
    elif cov < C.DETECT_MARK_COVERAGE_MIN_RATIO and m["faint_extent_mm"] >= C.DETECT_FAINT_EXTENT_CLEAR_MM:
        reason = "bardzo słaby ślad (np. jasny ołówek)"
    elif cov < C.DETECT_MARK_COVERAGE_MIN_RATIO and m["specks"] > C.DETECT_TRACE_SPECKS_CLEAR:
        reason = "przerywany ślad (np. ołówek w skanie czarno-białym)"
    else:
        reason = "mało tuszu – znak niepewny"
    return "uncertain", max(min(conf, C.DETECT_MIN_CONFIDENCE_RATIO - 0.01), 0.0), reason
