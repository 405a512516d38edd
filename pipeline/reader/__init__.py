"""Stage `reader`: one scanned page in, one `PageReading` (or a `RejectedPage` with its reason) out.

In the order a page goes through it: `decode` (PDF/TIFF/JPEG/PNG → 8-bit grey `SourcePage`, strict about
damaged data) → `identify` (ArUco markers, orientation, QR page code → `Identification`) → `register`
(frozen geometry → pixels: `Registration`) → `detect` (every box's state with its evidence, every text
area's ink) → `page_image` (the picture the reviewer sees, with its placement). `ocr` drafts free text from
the crops afterwards. Pure functions of their inputs: no database, no files but the scan itself.
"""
