"""Every tuned constant in one place, each with its unit in the name.

Geometry is in PDF points (1/72 inch) unless the name says `_mm` or `_px`; ratios are 0..1.
Changing a printing constant changes what new form versions look like, never the frozen geometry of
versions already published (see store.publish_form_version).
"""

from __future__ import annotations

import os
from pathlib import Path

# --- units --------------------------------------------------------------------------------------
PT_PER_MM = 72.0 / 25.4

# --- workspace ----------------------------------------------------------------------------------
HOME_ENV = "ANKIETA_HOME"
DEFAULT_HOME = Path("ankieta-data")
DB_NAME = "ankieta.db"
WORKSPACE_DIRS = ("inbox", "archive", "quarantine", "pages", "crops", "reports", "printed", "logs")


def home_from_env(explicit: str | os.PathLike[str] | None) -> Path:
    """The workspace folder: --home, else $ANKIETA_HOME, else ./ankieta-data."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(HOME_ENV)
    return Path(env) if env else DEFAULT_HOME


# --- printed page -------------------------------------------------------------------------------
PAGE_WIDTH_PT = 595.2756       # A4
PAGE_HEIGHT_PT = 841.8898
PAGE_MARGIN_MM = 14.0          # printers leave ~4-5 mm unprintable; markers sit inside this margin
MARKER_SIZE_MM = 12.0          # 4x4 ArUco, found on 100 % of degraded pages at 150-300 DPI (NOTES.md)
MARKER_INSET_MM = 8.0          # marker's outer edge from the paper edge
MARKER_DICTIONARY = "DICT_4X4_50"
MARKER_IDS = (0, 1, 2, 3)      # top-left, top-right, bottom-right, bottom-left: orientation is unambiguous
QR_SIZE_MM = 30.0              # incl. quiet zone; ~0.9 mm modules read at 150 DPI with blur (NOTES.md)
QR_PREFIX = "ANK1"             # payload "ANK1/<form>/<version>/<page>/<serial or ->"

BOX_SIZE_MM = 5.0              # >= 4 mm so a pen mark fits with room
BOX_LINE_WIDTH_PT = 1.0        # thicker than a hairline so photocopies keep the outline
BOX_GAP_MM = 5.0              # min clear space between boxes (after the -1 mm row tightening: 4 mm): a sloppy X does not reach the neighbour
TEXT_LINE_PITCH_MM = 8.0       # handwriting line height in free-text areas

FONT_SIZE_TITLE_PT = 13.0
FONT_SIZE_QUESTION_PT = 9.6
FONT_SIZE_OPTION_PT = 9.0
FONT_SIZE_SMALL_PT = 7.5
LINE_GAP_RATIO = 1.25          # leading as a multiple of font size

# --- ingest: decoding scan files (pipeline/ingest.py) ---------------------------------------------
MAX_IMAGE_PIXELS = 12_000 * 12_000   # larger images are refused as a decompression bomb
NORMALISED_DPI = 150           # page images kept for review are resampled to this
# (ingest constants end)

# --- identify + register (pipeline/identify.py, pipeline/register.py) -----------------------------
REGISTER_MAX_RESIDUAL_MM = 1.5  # marker fit worse than this: the page is not trusted
# (identify/register constants end)

# --- detect: box and text-area reading (pipeline/detect.py) ---------------------------------------
# (detect constants end)

# --- ocr (pipeline/ocr.py) ---------------------------------------------------------------------
# (ocr constants end)
