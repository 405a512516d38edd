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
# Every database connection waits this long for another writer (PRAGMA busy_timeout, and the in-process queue
# in front of it) before the action is refused with a Polish "try again" message (errors.DatabaseBusy). The
# longest writer is the ingest committing one file (~0.1 s for a 40-page file); 30 s covers a slow disk.
DB_BUSY_TIMEOUT_S = 30.0
WORKSPACE_DIRS = ("inbox", "archive", "quarantine", "pages", "crops", "reports", "printed", "logs")


def home_from_env(explicit: str | os.PathLike[str] | None) -> Path:
    """The workspace folder: --home, else $ANKIETA_HOME, else ./ankieta-data."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(HOME_ENV)
    return Path(env) if env else DEFAULT_HOME


# --- layout files (pipeline/records/layout.py) ----------------------------------------------------------------
# A layout is a few KB and a few hundred YAML nodes (lesko-f1: 385, satysfakcja-5: 475 with aliases expanded). The
# caps refuse a hostile file at once: an alias bomb ("billion laughs") is tiny on disk but expands to millions of
# nodes that validation would walk (44 s and 3.2 GB before the caps; now refused in milliseconds).
LAYOUT_MAX_BYTES = 512 * 1024
LAYOUT_MAX_NODES = 20_000


# --- printed page -------------------------------------------------------------------------------
PAGE_WIDTH_PT = 595.2756       # A4
PAGE_HEIGHT_PT = 841.8898
PAGE_MARGIN_MM = 14.0          # printers leave ~4-5 mm unprintable; markers sit inside this margin
MARKER_SIZE_MM = 12.0          # 4x4 ArUco, found on 100 % of degraded pages at 150-300 DPI (NOTES.md)
MARKER_INSET_MM = 8.0          # marker's outer edge from the paper edge
MARKER_DICTIONARY = "DICT_4X4_50"
MARKER_IDS = (0, 1, 2, 3)      # top-left, top-right, bottom-right, bottom-left: orientation is unambiguous
QR_SIZE_MM = 30.0              # incl. quiet zone; ~0.9 mm modules read at 150 DPI with blur (NOTES.md)
QR_PREFIX = "ANK1"             # payload "ANK1/<form>/<version>/<page>/<serial or ->/<fingerprint>"
# The fingerprint is the start of the version's content hash (wording, positions, office header): a page printed in
# another workspace, or before the office data changed, must not be read against this workspace's geometry.
# 8 hex digits = 32 bits: two different versions of one form colliding is a one-in-four-billion event.
QR_FINGERPRINT_CHARS = 8

BOX_SIZE_MM = 5.0              # >= 4 mm so a pen mark fits with room
BOX_LINE_WIDTH_PT = 1.0        # thicker than a hairline so photocopies keep the outline
BOX_GAP_MM = 5.0               # box spacing; rows use 1 mm less (4 mm clear): a sloppy X does not reach the neighbour
TEXT_LINE_PITCH_MM = 8.0       # handwriting line height in free-text areas

FONT_SIZE_TITLE_PT = 13.0
FONT_SIZE_QUESTION_PT = 9.6
FONT_SIZE_OPTION_PT = 9.0
FONT_SIZE_SMALL_PT = 7.5
LINE_GAP_RATIO = 1.25          # leading as a multiple of font size

# --- batch: the overnight run (pipeline/runs/ingest/batch.py) ---------------------------------------------------
INBOX_MIN_AGE_S = 120.0        # a file younger than this may still be arriving over the network share
INBOX_SETTLE_S = 2.0           # size+mtime must be unchanged across two looks this far apart
TEMP_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".filepart", ".!ut", ".swp")
SCAN_SUFFIXES = (".pdf", ".tif", ".tiff", ".jpg", ".jpeg", ".png")
QUEUED_PAGES_PER_WORKER = 4    # pages queued ahead per worker across files: cores stay busy, memory stays bounded
BATCH_WORKER_MALLOC_MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024   # glibc's maximum: a 300 DPI page's arrays stay in the heap
BATCH_WORKER_MALLOC_TRIM_THRESHOLD_BYTES = 512 * 1024 * 1024  # freed heap kept for the next page, not returned

# --- page_image: the picture kept for the reviewer (pipeline/reader/page_image.py) ---------------------------
REVIEW_IMAGE_DPI = 150         # the scan is block-averaged by the integer factor that comes closest to this
REVIEW_IMAGE_JPEG_QUALITY = 85
REVIEW_IMAGE_MARGIN_MM = 4.0   # scan kept around the sheet's edges (a skewed sheet's corners stay in the picture)
REVIEW_AFFINE_MAX_ERROR_PT = 0.5   # the browser's affine placement may be off by this much at most (1 px at 150 DPI)
REVIEW_ORIGINAL_MAX_DPI = 320.0  # a scanner's own JPEG up to this fine is kept as the review picture, as is
REVIEW_ORIGINAL_HEADER_BYTES = 65_536  # where an EXIF header (orientation tag) would be in a JPEG stream
REVIEW_AFFINE_GRID = 5         # the affine fit is checked on a grid this many points a side over the page

# --- ingest: decoding scan files (pipeline/reader/decode/) ---------------------------------------------
MAX_IMAGE_PIXELS = 12_000 * 12_000   # larger images are refused as a decompression bomb
PDF_RENDER_DPI = 300           # PDF pages that are not one embedded scan image are rendered at this resolution
ASSUMED_PAGE_WIDTH_IN = 8.27   # A4 width: the DPI guess when a file does not say (identify re-measures from markers)
FILE_DPI_MIN = 72.0            # a stated DPI outside this range is a writer default, not a measurement
FILE_DPI_MAX = 1200.0
FILE_PAGE_WIDTH_MIN_IN = 5.0   # stated DPI implying a page narrower/wider than this is ignored (JFIF 72/96 defaults)
FILE_PAGE_WIDTH_MAX_IN = 12.5  # A3 portrait is 11.7 in; a 150 DPI A4 scan labelled 96 DPI would be 12.9
PDF_IMAGE_COVER_RATIO = 0.95   # an embedded image covering at least this share of the page is the scan itself
FILE_TAIL_SCAN_BYTES = 4096    # a PDF without %%EOF this close to its end is cut short (still being copied)
# (ingest constants end)

# --- identify + register (pipeline/reader/identify.py, pipeline/reader/register.py) -----------------------------
REGISTER_MAX_RESIDUAL_MM = 1.5  # marker fit worse than this: the page is not trusted
IDENTIFY_WORK_DPI = 150        # markers are searched on a copy at this resolution (19 vs 43 ms at 300, NOTES.md)
IDENTIFY_CORNER_WINDOW_MM = 0.5  # half-size of the sub-pixel corner refinement window at full resolution
IDENTIFY_CORNER_MAX_SHIFT_MM = 0.4  # a refinement moving a corner further than this has locked onto something else
IDENTIFY_MARKER_OUTLIER_MM = 5.0  # a marker this far from where the others put it is a false detection
IDENTIFY_CODE_MARGIN_MM = 6.0  # the QR crop is the printed code square grown by this (skew, print offset)
IDENTIFY_DPI_AGREEMENT_RATIO = 0.15  # a file DPI further than this from the marker spacing is a header default
IDENTIFY_QR_SHARPEN_DPI = 450.0  # a code crop that failed is enlarged to this resolution and sharpened
IDENTIFY_SHARPEN_SIGMA_MM = 0.4  # unsharp-mask radius for blurred scans (markers not found, code not read)
INK_SHEET_DPI = 50             # the sheet outline (inside a dark scanner-lid border) is found at this resolution
INK_SHEET_BRIGHT_RATIO = 0.75  # the sheet is the largest region at least this bright relative to the paper level
INK_MIN_PAPER_GREY = 60        # a page whose brightest 5 % is darker than this has no paper in view: not blank
INK_EDGE_MARGIN_MM = 18.0      # ink is counted only this far inside the sheet edge (lid shadow, punch holes at 9-15 mm)
INK_DARK_RATIO = 0.6           # a pixel darker than this share of the paper level is ink (show-through is lighter)
INK_MIN_SPOT_MM2 = 0.12        # dark spots smaller than this are scanner speckle / dust, not ink
INK_STREAK_MIN_LENGTH_MM = 20.0  # a mark at least this long and at most INK_STREAK_MAX_WIDTH_MM thick is a scanner
INK_STREAK_MAX_WIDTH_MM = 1.0   # streak (dirty feeder glass), not writing
BLANK_MAX_INK_RATIO = 0.00008  # ~4 mm² of ink on A4: one short handwritten word (~30 mm²) is not blank, dust is
REGISTER_CORNER_OUTLIER_MM = 0.35  # a marker corner this far off the fit is damaged (fold, smudge); clean corners are < 0.1
REGISTER_MAX_DROPPED_CORNERS = 4  # at most one marker's worth of corners may be discarded
REGISTER_MAX_SCALE_DEVIATION_RATIO = 0.15  # px/pt vs the page DPI: covers "fit to page" printing (~94 %)
REGISTER_MAX_ANISOTROPY_RATIO = 0.04  # x vs y scale: feeder slip stays below this
REGISTER_MAX_SHEAR_DEG = 2.0   # axes of a flat sheet stay perpendicular
REGISTER_MAX_ROTATION_DEG = 8.0  # after identify turned the page upright only feeder skew (±5°) remains
REGISTER_MAX_PERSPECTIVE_RATIO = 0.04  # local scale spread across the page: more means a folded or lifted sheet
IDENTIFY_CORNER_REGION_RATIO = 0.2  # share of width/height searched first at each corner (markers lie within ~20 mm of the
#   sheet edge; 0.2 of the scan leaves room for a 15 mm lid border and skew; a miss falls back to the whole page)
# ArUco's adaptive threshold uses one window of this size on the 150 DPI work copy (markers ~70 px, cells ~12 px).
# OpenCV's default tries 3, 13 and 23 px; the 3 px pass only thresholds paper texture and print edges. Measured on
# the 666-page mixed bench set (150-600 DPI, blur, low contrast, bilevel): the same 650 pages identified and 16
# blank/foreign pages rejected, in 20 instead of 34 ms a page.
IDENTIFY_ARUCO_WINDOW_PX = 23
IDENTIFY_INTEGER_FACTOR_TOLERANCE_RATIO = 0.02  # a scale within 2 % of 1/n is taken as exactly 1/n (e.g. 300 -> 150 DPI)
IDENTIFY_MARKER_MIN_SIZE_RATIO = 0.5  # first searches skip outlines under half a marker's size (the stated DPI may be 2x off)
# (identify/register constants end)

# --- detect: box and text-area reading (pipeline/reader/detect/) ---------------------------------------
DETECT_RES_PX_PER_MM = 10.0    # every box is resampled upright at this resolution (254 DPI): one set of px thresholds
DETECT_PREDOWNSAMPLE_RATIO = 2.0  # scans this many x finer than the patch are block-averaged first by the integer
#                                  factor floor(ratio) (600 DPI: no aliasing of thin strokes and JPEG noise)
DETECT_SEARCH_BOX_RATIO = 0.5  # the outline is searched ±½ box around its registered place (SDAPS) ...
DETECT_NEAR_SEARCH_MM = 1.0    # ... but first only this far (registration is within 0.2 mm on the bench pages)
DETECT_OUTLINE_SLACK_MM = 0.1  # outline band = printed line width + this each side (blur, sub-pixel offset)
DETECT_RING_GAP_MM = 0.15      # the "must be paper" ring starts this far outside the outline band
DETECT_RING_WIDTH_MM = 0.6
DETECT_OUTLINE_COARSE_STEP_PX = 2  # the outline search tries every 2nd shift first (patch px; the band is ~6 px wide) ...
DETECT_OUTLINE_FINE_RADIUS_PX = 3  # ... then every shift within this of the best coarse one
DETECT_SHIFT_PENALTY_PER_MM = 0.01  # tie-break towards the registered position (outline contrast per mm of shift)
DETECT_OUTLINE_CONTRAST_MIN_RATIO = 0.15  # outline band minus ring darkness: below this no outline was found
DETECT_OUTLINE_CONTRAST_GOOD_RATIO = 0.35  # ... and from this the position is fully trusted
DETECT_EDGE_QUALITY_RATIO = 0.4  # best fit at the edge of the search window: the outline may lie beyond it (< 0.5: review)
DETECT_PAPER_PERCENTILE = 80.0  # paper level = this percentile of the patch (paper is most of it)
DETECT_MIN_PAPER_GREY_LEVEL = 60.0  # grey; darker "paper" means no paper at all (a black border), avoid dividing by ~0
DETECT_OUTLINE_PERCENTILE = 90.0  # the outline's darkness (ink reference) = this percentile of its band
DETECT_MIN_INK_REFERENCE_RATIO = 0.5  # never amplify marks more than 2x, even on a very pale print
DETECT_INNER_INSET_LINES = 1.5  # measure inside the box shrunk by this many line widths (SDAPS)
DETECT_INK_RATIO = 0.2         # normalised darkness from which a pixel is ink (light pencil ~0.3)
DETECT_STRONG_INK_RATIO = 0.5  # ... and from which it is firm ink (pen, marker, dark pencil)
DETECT_FAINT_INK_RATIO = 0.1   # ... and from which a faint trace (only ever makes a box uncertain, never marked)
DETECT_NOISE_FLOOR_RATIO = 0.08  # darkness below this is paper noise in the mean-darkness metric
DETECT_SPECK_MAX_MM = 0.5      # ink blobs no larger than this are dust / toner specks, not marks
DETECT_STROKE_GAP_MM = 0.2     # ink closer than this is one structure (broken pencil / bilevel strokes)
DETECT_BORDER_FRINGE_MM = 0.3   # a blurred outline leaves a fringe this deep inside the measured square: ink staying
#                                there is ignored, and faint traces are only sought further in
DETECT_STROKE_MIN_MM = 0.25    # stroke width used to erase lines, clamped to this range
DETECT_STROKE_MAX_MM = 1.2     # (a wider "stroke" is a filled area; erasing it as a line would hide a fill)
DETECT_LINE_ANGLES = 24        # 7.5° steps in the line-erasing Radon transform (the erased band absorbs ±3.75°)
DETECT_LINES_ERASED = 3        # SDAPS erases the strongest line three times
DETECT_LINE_ERASE_SLACK_MM = 0.15  # erased band = stroke width + this each side (ragged, slightly curved strokes)
DETECT_LINE_MIN_LENGTH_MM = 1.0  # a "line" with fewer votes than this length x width is not erased
DETECT_WHITE_RADIUS_MM = 0.35  # white_share counts paper at least this far from any ink
DETECT_SOLID_RADIUS_MM = 0.5   # solid_share counts ink at least this far from any paper
DETECT_MIN_CONFIDENCE_RATIO = 0.5    # below this a box is "uncertain" and shown to a person (SDAPS uses 0.5 too)
# Each pair below is a ramp: the support for a state grows from 0 at the first value to 1 at the second.
DETECT_EMPTY_COVERAGE_MAX_RATIO = 0.025   # empty: ink share of the inside (after dropping specks) ...
DETECT_EMPTY_COVERAGE_CLEAR_RATIO = 0.01
DETECT_EMPTY_EXTENT_MAX_MM = 1.2    # ... and the size of its largest structure (a 1 mm cross is not dust)
DETECT_EMPTY_EXTENT_CLEAR_MM = 0.7
DETECT_FAINT_EXTENT_MAX_MM = 2.0    # ... and of faint traces (a pale pencil cross is not "empty")
DETECT_FAINT_EXTENT_CLEAR_MM = 1.2
DETECT_TRACE_SPECKS_MAX = 4         # ... and not many specks spread over the box: a grainy pencil stroke in a
DETECT_TRACE_SPECKS_CLEAR = 2       #     bilevel scan breaks into a dotted line (dust is one to a few specks)
DETECT_TRACE_SPREAD_MAX_MM = 2.2
DETECT_TRACE_SPREAD_CLEAR_MM = 1.5
DETECT_MARK_COVERAGE_MIN_RATIO = 0.03     # marked: a 1 px pen cross covers ~0.10, a tick ~0.14
DETECT_MARK_COVERAGE_CLEAR_RATIO = 0.07
DETECT_MARK_EXTENT_MIN_MM = 2.2     # ... one structure spanning this much of the ~4 mm inside (the smallest
DETECT_MARK_EXTENT_CLEAR_MM = 2.8   #     deliberate crosses span 3 mm; a 2 mm stroke may be a slip of the pen)
DETECT_DENSE_COVERAGE_MIN_RATIO = 0.45    # from this coverage a cross must also look like strokes (fully from _FULL):
DETECT_DENSE_COVERAGE_FULL_RATIO = 0.6    #     heavy-marker crosses cover 0.5-0.8, a fill ~1
DETECT_CROSS_SOLID_MAX_RATIO = 0.62       # ... no solid core (heavy crosses <= 0.5, a box filled 80 % ~0.75) ...
DETECT_CROSS_SOLID_CLEAR_RATIO = 0.52
DETECT_CROSS_WHITE_MIN_RATIO = 0.02       # ... and paper left between the strokes (heavy crosses >= 0.056, fills ~0)
DETECT_CROSS_WHITE_CLEAR_RATIO = 0.05
DETECT_FILL_COVERAGE_MIN_RATIO = 0.85     # filled solid: coverage ...
DETECT_FILL_COVERAGE_CLEAR_RATIO = 0.93
DETECT_FILL_WHITE_MAX_RATIO = 0.012       # ... no paper far from ink (a blurred 1.2 mm marker cross keeps 0.016) ...
DETECT_FILL_WHITE_CLEAR_RATIO = 0.003
DETECT_FILL_SOLID_MIN_RATIO = 0.65        # ... and a solid core
DETECT_FILL_SOLID_CLEAR_RATIO = 0.8
DETECT_HATCH_COVERAGE_MIN_RATIO = 0.85    # filled by hatching: thin strokes, but dense and leaving no paper
DETECT_HATCH_COVERAGE_CLEAR_RATIO = 0.95
DETECT_HATCH_WHITE_MAX_RATIO = 0.01
DETECT_HATCH_WHITE_CLEAR_RATIO = 0.002
DETECT_TEXT_RES_PX_PER_MM = 8.0   # free-text areas are measured at this resolution (203 DPI)
DETECT_TEXT_TOP_SKIP_MM = 0.3   # the label above an area ends ~1 mm over it; skip a little of the top for registration slack
DETECT_TEXT_BELOW_MM = 0.8      # ... and measure this far below the last guide line (descenders)
DETECT_TEXT_INK_RATIO = 0.18    # normalised darkness from which a pixel is handwriting (light pencil 0.15-0.35, pen > 0.6;
#                                 paper noise sigma ~0.03, so 6 sigma)
DETECT_GUIDE_SEARCH_MM = 2.0    # a guide line is looked for this far either side of where registration puts it
#                                 (registration is trusted to 1.5 mm); their offset re-aligns the area
DETECT_GUIDE_BAND_MM = 0.35     # ... and masked this far either side of the row where it was found
DETECT_GUIDE_MIN_DARKNESS_RATIO = 0.1  # a row median below this is not a guide line (lost in a bilevel scan)
DETECT_TEXT_SPECK_MAX_MM = 0.6  # ink structures no larger than this are dust, not writing
DETECT_TEXT_MIN_INK_MM2 = 1.0   # an area holds writing from this much ink (one short word is ~3 mm²) ...
DETECT_TEXT_MIN_EXTENT_MM = 2.0  # ... with at least one structure this large (a letter)
DETECT_CROP_DPI = 200.0         # text crops kept for the reviewer and OCR: at most this resolution
DETECT_CROP_MARGIN_MM = 2.0     # ... with this much around the area
# (detect constants end)

# --- ocr (pipeline/reader/ocr.py) ---------------------------------------------------------------------
OCR_LANG = "pol"               # keeps ą ę ł ń ó ś ź ż; "eng" loses them (NOTES.md)
OCR_PSM_SINGLE_LINE = 7        # tesseract page segmentation: one text line (a one-line "inne – jakie?" field) ...
OCR_PSM_BLOCK = 6              # ... or one uniform block (a few handwritten lines)
OCR_TIMEOUT_S = 20.0           # a crop takes ~0.5 s; far longer means tesseract is stuck, give up the draft
OCR_GUIDE_DARKNESS_RATIO = 0.08  # darker than paper by this share of the paper level: maybe a guide line (grey, thin,
#                                 faint after resampling to 200 DPI; only long horizontal runs of it count)
OCR_INK_DARKNESS_RATIO = 0.3   # darker than paper by this share of the paper level: ink (to find print at the crop's edge)
OCR_GUIDE_MIN_SPAN_RATIO = 0.3  # a horizontal run this share of the crop's width is a printed guide line
OCR_UPSCALE_RATIO = 2.0        # 200-DPI crops enlarged so handwriting x-height reaches the ~30 px tesseract likes
OCR_BORDER_PX = 20             # white border added around the crop (tesseract misses text touching the edge)
# (ocr constants end)

# --- report: the "Protokół z badania zadowolenia Klienta" (pipeline/report/) ----------------------
REPORT_MIN_CELL_COUNT = 5      # RODO: a cell or breakdown with fewer responses is merged or suppressed (NOTES.md)
REPORT_MIN_N_RESPONSES = 10    # below this many answers a share is only counted ("3 z 5") and no mean or % is given:
#                                at n = 10 one person moves a share by 10 pp and the 95 % interval spans ~50 pp
REPORT_WARN_N_BELOW_RESPONSES = 30  # values from fewer answers are shown with a small-sample warning
REPORT_ACTION_MEAN_BELOW = 3.5  # "needs action": mean significantly below this on a 1-5 scale (others proportionally) ...
REPORT_ACTION_TOP2_BELOW_PCT = 70.0  # ... or share of the top two scale values significantly below this
REPORT_FINDINGS_FAMILY_ALPHA = 0.05  # findings: chance of any pure-noise finding in a report (Holm over all its tests)
REPORT_BOOTSTRAP_RESAMPLES = 2000  # resamples of respondents for the intervals of means and the index (SE within ~2 %)
REPORT_BOOTSTRAP_SEED = 20260701  # fixed: the same data give the same report, byte for byte
REPORT_TREND_PERIODS = 6       # comparable periods in the trend, the report's own included
REPORT_AUTHOR_MAX_CHARS = 120  # the author's name and position typed in the admin panel's report form
# Respondent-profile questions per form: role -> question id (stable ids; every version of the form shares them).
REPORT_PROFILE_QUESTIONS: dict[str, dict[str, str]] = {
    "lesko-f1": {"gender": "q1", "age": "q2", "frequency": "q3"},
    "satysfakcja-5": {"gender": "plec", "age": "wiek", "frequency": "czestotliwosc"},
}
# (report constants end)

# --- online survey and hand entry (pipeline/survey/form.py, pipeline/runs/responses.py, pipeline/web/survey.py) ------
SURVEY_TEXT_MAX_CHARS = 2000   # one free-text answer; a paper line holds ~80, a long complaint fits, a paste bomb does not
SURVEY_BATCH_LABEL_MAX_CHARS = 80  # the paper box/batch label typed at hand entry ("urna 2, 2026-11")
SURVEY_RATE_LIMIT_POSTS = 30   # survey submissions per client address in the window below; an office kiosk or a
SURVEY_RATE_WINDOW_S = 600.0   # household behind one NAT stays far below, a flood does not. 0 posts = no limit
# waitress worker threads for `ankieta serve`. Python runs one thread at a time, so more threads mostly fight
# over the interpreter lock: under 20 survey clients, p95 of a POST was 85-118 ms with 1 thread, 135-174 ms
# with 2, 161-226 ms with 4 and 192-236 ms with 8 (BENCHMARKS.md, several runs). 2, not 1: the survey keeps
# answering while one staff request (an upload being read, a report) takes seconds.
SERVE_THREADS = 2
SURVEY_RATE_MAX_ADDRESSES = 10_000  # addresses remembered at once (memory bound under a spoofed-address flood)
# (survey constants end)

# --- "Oceń Urząd": A4 poster and web banner (pipeline/forms/poster.py) ---------------------------------------
POSTER_MARGIN_MM = 18.0        # office printers leave ~5 mm unprinted; 18 mm also survives a frame or a sleeve
POSTER_QR_SIZE_MM = 80.0       # the code with its 4-module quiet zone; rule of thumb: read from ~10x its size, so from
#                                ~0.8 m, across a service desk (the issue asks for at least 40 mm)
POSTER_TITLE_PT = 60.0         # "Oceń Urząd": readable from the waiting-room chairs
POSTER_OFFICE_PT = 20.0
POSTER_BODY_PT = 16.0
POSTER_URL_PT = 18.0           # the survey address for those who type it ...
POSTER_URL_MIN_PT = 11.0       # ... shrunk down to this for a long address before it is broken over lines
BANNER_WIDTH_PX = 300          # CSS pixels of the embedded banner (a sidebar tile on a typical BIP/office site)
BANNER_HEIGHT_PX = 100
BANNER_PNG_SCALE = 2           # the PNG has 2x the pixels, sharp on phones and HiDPI screens
# (poster constants end)

# --- administrator's panel (pipeline/runs/ingest/uploads.py, pipeline/runs/dashboard.py, pipeline/web/admin.py) -------------
UPLOAD_MAX_FILES = 50          # scans per browser upload: a box of sheets as one-page JPEGs fits ...
UPLOAD_MAX_BYTES = 150 * 1024 * 1024  # ... and so does a 100-page stack at 300 DPI (~1 MB a page); read synchronously in
#                                about a minute on 2 cores. Only the upload route accepts this much (app-wide: 256 KiB)
UPLOAD_INGEST_WORKERS = 2      # reader processes for an upload: the web server's other requests keep the rest
UPLOAD_NAME_MAX_CHARS = 120    # an uploaded file's name in inbox/ is cut to this
DASHBOARD_REPORTS_SHOWN = 5    # newest archived reports listed on the dashboard
DASHBOARD_HALF_YEAR_PRESETS = 4  # half-years offered by the report form (current and three before it)
ADMIN_AUDIT_PAGE_ROWS = 50     # audit log entries per page
# (admin constants end)

# --- accounts, sessions, login throttling (pipeline/runs/accounts.py, pipeline/runs/passwords.py, pipeline/web/) ------
PASSWORD_MIN_CHARS = 10        # NIST SP 800-63B asks for at least 8; offices share desks and screens
PASSWORD_MIN_ENTROPY_BITS = 36.0  # estimated (runs/passwords.py): `aaaaaaaaaa` ~8, `qwertyuiop` ~13, ten random a-z ~40-47
WEB_SESSION_HOURS = 12         # a login lasts a working day; each one is a row that logout or a new password deletes
LOGIN_FREE_FAILURES = 5        # failed logins per key (client address, account, known browser) before any wait ...
LOGIN_FIRST_DELAY_S = 2.0      # ... then a wait that doubles with each further failure, from this ...
LOGIN_ADDRESS_MAX_DELAY_S = 900.0  # ... up to 15 min for an address (an attacker's machine) ...
LOGIN_ACCOUNT_MAX_DELAY_S = 60.0   # ... and only 1 min for an account: an attacker elsewhere slows, never locks out, its
#                                    owner; a browser that logged in before (device cookie) has its own key instead
LOGIN_FORGET_S = 24 * 3600.0   # failures older than this are forgotten
LOGIN_THROTTLE_MAX_KEYS = 10_000  # keys remembered at once (least recently failed forgotten first): memory stays bounded
LOGIN_DEVICE_DAYS = 180        # how long a browser that logged in is recognised by its device cookie
# (accounts constants end)
