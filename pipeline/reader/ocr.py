"""Drafts of handwritten free text: tesseract reads a text-area crop, a person confirms or corrects it.

The draft only saves typing; it is never taken as the answer. Tesseract runs with the Polish data
("pol": "eng" drops ą ę ł ń ó ś ź ż, NOTES.md), on the crop read_text_areas keeps (grey PNG, <= 200 DPI),
after the printed guide lines are erased — left in, tesseract reads them as rows of underscores or
letters.

Threads: tesseract uses OpenMP and by default starts a thread per core for every call. Callers that run
OCR in a process pool must set OMP_THREAD_LIMIT=1 in the workers' environment (before the first call) or
the workers fight over the cores. This module does not change the environment itself.
"""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np
import pytesseract
from PIL import Image

from pipeline.base import config as C
from pipeline.base.errors import AnkietaError


@cache
def tesseract_available() -> bool:
    """Whether the tesseract program and its Polish data are installed (checked once per process)."""
    try:
        return C.OCR_LANG in pytesseract.get_languages(config="")
    except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError, OSError):
        return False


def draft_text(crop_png: bytes) -> tuple[str, float]:
    """Tesseract's reading of a text crop and its mean word confidence 0..1; ("", 0.0) when nothing is read.

    Empty or undecodable input gives ("", 0.0) as well, and so does a tesseract failure or timeout: a
    missing draft costs the reviewer some typing, never an answer. A missing tesseract program raises
    AnkietaError; check tesseract_available() first.
    """
    if not crop_png:
        return "", 0.0
    img = cv2.imdecode(np.frombuffer(crop_png, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if img is None or img.size == 0:
        return "", 0.0
    clean, n_lines = _strip_guide_lines(np.asarray(img, dtype=np.uint8))
    if not (clean <= 255 * (1.0 - C.OCR_INK_DARKNESS_RATIO)).any():
        return "", 0.0          # nothing but paper once the lines are gone: do not let tesseract imagine text
    # one guide line: one line of writing; several, or none found (a bilevel scan may lose them): a block
    psm = C.OCR_PSM_SINGLE_LINE if n_lines == 1 else C.OCR_PSM_BLOCK
    try:
        data = pytesseract.image_to_data(
            Image.fromarray(clean), lang=C.OCR_LANG, config=f"--oem 1 --psm {psm}",
            output_type=pytesseract.Output.DICT, timeout=C.OCR_TIMEOUT_S,
        )
    except pytesseract.TesseractNotFoundError as exc:
        raise AnkietaError("Nie znaleziono programu tesseract (pakiety tesseract-ocr i tesseract-ocr-pol); "
                           "szkice odczytu tekstu są niedostępne.") from exc
    except (pytesseract.TesseractError, RuntimeError):
        return "", 0.0          # RuntimeError: pytesseract's timeout
    lines: dict[tuple[int, int, int], list[str]] = {}
    confs: list[float] = []
    for text, conf, block, par, line in zip(data["text"], data["conf"], data["block_num"], data["par_num"],
                                            data["line_num"], strict=True):
        word = str(text).strip()
        if not word or float(conf) < 0:
            continue
        lines.setdefault((int(block), int(par), int(line)), []).append(word)
        confs.append(float(conf))
    if not confs:
        return "", 0.0
    text = "\n".join(" ".join(words) for _, words in sorted(lines.items()))
    return text, round(min(max(sum(confs) / len(confs) / 100.0, 0.0), 1.0), 3)


def _strip_guide_lines(img: np.ndarray) -> tuple[np.ndarray, int]:
    """Paper stretched to white, guide lines and surrounding print erased, enlarged; also the number of lines.

    A guide line is a horizontal run of ink spanning a good part of the crop; its pixels are inpainted
    from their surroundings, so a stroke crossing the line keeps its middle and the line's own pixels
    turn to paper.
    """
    white = float(np.percentile(img, 80))
    if white < 1:
        return img, 0
    norm = np.clip(img.astype(np.float32) * (255.0 / white), 0, 255).astype(np.uint8)
    ink = ((255 - norm.astype(np.int16)) >= C.OCR_GUIDE_DARKNESS_RATIO * 255).astype(np.uint8) * 255
    run = max(int(norm.shape[1] * C.OCR_GUIDE_MIN_SPAN_RATIO), 3)
    lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (run, 1)))
    n_lines, _ = cv2.connectedComponents(lines)
    if n_lines > 1:
        mask = cv2.dilate(lines, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
        norm = cv2.inpaint(norm, mask, 3, cv2.INPAINT_TELEA)
    # Ink touching the crop's edge belongs to what surrounds the area (the label above, a box outline).
    ink = ((255 - norm.astype(np.int16)) >= C.OCR_INK_DARKNESS_RATIO * 255).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    h, w = ink.shape
    x0, y0 = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    x1, y1 = x0 + stats[:, cv2.CC_STAT_WIDTH], y0 + stats[:, cv2.CC_STAT_HEIGHT]
    edge = (x0 == 0) | (y0 == 0) | (x1 == w) | (y1 == h)
    edge[0] = False
    if count > 1 and edge.any():
        norm[cv2.dilate(edge[labels].astype(np.uint8), np.ones((3, 3), np.uint8)) > 0] = 255
    scale = C.OCR_UPSCALE_RATIO
    if scale != 1.0:
        norm = cv2.resize(norm, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    pad = C.OCR_BORDER_PX
    return cv2.copyMakeBorder(norm, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255), n_lines - 1
