"""Generation profiles: how people fill the forms in and how the office scans them.

A profile is a table of rates, not code: `clean` is the best case a reader must get exactly right,
`office` is what a municipal office really sends (rates from the kinds of failures OMR users report,
NOTES.md), `hard` piles on the cases where "uncertain" is an acceptable answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColourMode = Literal["colour", "grey", "bilevel"]
MarkStyle = Literal["x", "check", "slash", "fill", "heavy", "pencil", "tiny", "overflow"]
Weighted = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Profile:
    name: str
    # --- respondents -----------------------------------------------------------------------------
    habits: Weighted                     # a person's habitual mark: x / check / slash / heavy / fill(bubble habit)
    p_pencil_person: float               # the whole sheet filled in with a pencil
    p_tiny: float                        # per mark: a 1-1.5 mm mark
    p_overflow: float                    # per mark: strokes run 1-3 mm out of the box
    p_off_habit: float                   # per mark: some other clear style than the habitual one
    p_skip_question: float
    p_skip_row: float                    # grid rows left empty
    p_double: float                      # single choice / grid row: two boxes crossed
    p_correction: float                  # wrong box filled, right box crossed
    p_forgot_cross: float                # wrong box filled, nothing crossed: ambiguous
    p_remark: float                      # writes into a free-text question / comment area
    # --- scanning ----------------------------------------------------------------------------------
    dpi: tuple[tuple[int, float], ...]   # per stack: one scan job, one resolution
    modes: tuple[tuple[ColourMode, float], ...]
    p_rotate_180: float                  # per page: sheet fed upside down
    skew_deg: float                      # max |skew|; drawn from a triangular distribution
    scale: float                         # max |relative scale error| (printer/scanner calibration)
    shift_mm: float
    noise_sigma: tuple[float, float]     # grey levels
    blur_px300: tuple[float, float]      # Gaussian sigma in pixels at 300 DPI (scaled with DPI)
    jpeg_quality: tuple[int, int]
    paper_tone: bool                     # off-white / grey / yellowish paper
    p_fold: float                        # per page: a dog-eared corner hides one marker
    p_lid_border: float                  # per stack: the dark scanner lid shows round the page
    dust: tuple[int, int]                # specks per page
    # --- stacks --------------------------------------------------------------------------------------
    stack_sheets: tuple[int, int]        # sheets per file when the number of files is not given
    p_duplex: float                      # per stack: scanned duplex, so every page has a blank back
    p_stray_blank: float                 # per page: one blank back slipped in
    p_foreign: float                     # per stack: a foreign page (typed letter, maybe with a QR code)
    p_shuffle: float                     # per stack: pages dropped and picked up in any order
    guarantee: bool                      # make sure a set shows every enabled event at least once


PROFILES: dict[str, Profile] = {
    "clean": Profile(
        name="clean",
        habits=(("x", 0.6), ("check", 0.28), ("slash", 0.12)),
        p_pencil_person=0.0, p_tiny=0.0, p_overflow=0.0, p_off_habit=0.05,
        p_skip_question=0.05, p_skip_row=0.03, p_double=0.02, p_correction=0.0, p_forgot_cross=0.0, p_remark=0.3,
        dpi=((300, 1.0),), modes=(("grey", 0.7), ("colour", 0.3)),
        p_rotate_180=0.0, skew_deg=0.3, scale=0.002, shift_mm=1.0, noise_sigma=(0.0, 1.0), blur_px300=(0.3, 0.5),
        jpeg_quality=(88, 95), paper_tone=False, p_fold=0.0, p_lid_border=0.0, dust=(0, 0),
        stack_sheets=(10, 30), p_duplex=0.0, p_stray_blank=0.0, p_foreign=0.0, p_shuffle=0.0, guarantee=False,
    ),
    "office": Profile(
        name="office",
        habits=(("x", 0.62), ("check", 0.26), ("slash", 0.05), ("heavy", 0.05), ("fill", 0.005)),
        p_pencil_person=0.02, p_tiny=0.01, p_overflow=0.04, p_off_habit=0.06,
        p_skip_question=0.06, p_skip_row=0.03, p_double=0.02, p_correction=0.01, p_forgot_cross=0.002, p_remark=0.25,
        dpi=((150, 0.1), (200, 0.3), (300, 0.5), (400, 0.07), (600, 0.03)),
        modes=(("grey", 0.5), ("colour", 0.25), ("bilevel", 0.25)),
        p_rotate_180=0.03, skew_deg=2.0, scale=0.015, shift_mm=3.0, noise_sigma=(1.0, 4.0), blur_px300=(0.4, 0.9),
        jpeg_quality=(50, 90), paper_tone=True, p_fold=0.02, p_lid_border=0.15, dust=(0, 15),
        stack_sheets=(8, 40), p_duplex=0.2, p_stray_blank=0.01, p_foreign=0.3, p_shuffle=0.1, guarantee=True,
    ),
    "hard": Profile(
        name="hard",
        habits=(("x", 0.45), ("check", 0.25), ("slash", 0.08), ("heavy", 0.12), ("fill", 0.05)),
        p_pencil_person=0.12, p_tiny=0.08, p_overflow=0.15, p_off_habit=0.12,
        p_skip_question=0.08, p_skip_row=0.05, p_double=0.05, p_correction=0.04, p_forgot_cross=0.01, p_remark=0.35,
        dpi=((150, 0.3), (200, 0.3), (300, 0.3), (600, 0.1)),
        modes=(("grey", 0.3), ("colour", 0.3), ("bilevel", 0.4)),
        p_rotate_180=0.15, skew_deg=5.0, scale=0.03, shift_mm=6.0, noise_sigma=(3.0, 10.0), blur_px300=(0.6, 1.4),
        jpeg_quality=(35, 70), paper_tone=True, p_fold=0.1, p_lid_border=0.4, dust=(10, 60),
        stack_sheets=(5, 30), p_duplex=0.4, p_stray_blank=0.05, p_foreign=0.6, p_shuffle=0.3, guarantee=True,
    ),
}
