"""Reading a registered page: every checkbox's state with its evidence (`boxes`, through `sampling` →
`outline` → `measure` → `classify` → the question rules) and every free-text area's ink (`text`).

Everything is measured on patches resampled upright at a fixed resolution, so thresholds are in
millimetres whatever the scanner did.
"""

from pipeline.reader.detect.boxes import read_boxes
from pipeline.reader.detect.text import read_text_areas

__all__ = ["read_boxes", "read_text_areas"]
