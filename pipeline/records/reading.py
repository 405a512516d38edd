"""The frozen dataclasses that flow between the reader's stages: a decoded page, its identification and
registration, box and text readings, and a page that was not read (with its reason)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pipeline.base.geometry import Point
from pipeline.records.page_code import PageIdentity

BoxState = Literal["marked", "empty", "uncertain"]


@dataclass(frozen=True)
class MarkerHit:
    """A detected fiducial in the upright page image: its id and 4 corner pixels (TL, TR, BR, BL of the
    marker as printed)."""

    id: int
    corners: tuple[tuple[float, float], ...]

@dataclass(frozen=True)
class SourcePage:
    """One page of a scan file, decoded to 8-bit greyscale pixels, with where it came from."""

    file_name: str
    file_sha256: str
    index: int                  # 0-based page index inside the file
    dpi: float                  # from the file; estimated from the markers when the file does not say
    image: Any = field(repr=False, compare=False)   # numpy uint8 array (H, W)
    dpi_from_file: bool = True
    # The page's embedded JPEG exactly as the scanner wrote it, when a browser shows it pixel for pixel as
    # `image` (same size and orientation, no EXIF turn) and it is not finer than REVIEW_ORIGINAL_MAX_DPI:
    # it then serves as the review picture as is (page_image). Empty otherwise.
    original_jpeg: bytes = field(default=b"", repr=False, compare=False)


@dataclass(frozen=True)
class Identification:
    """A page recognised as ours: who it is, the upright image (rotated 180° if it was scanned upside
    down) and the markers found on it."""

    identity: PageIdentity
    image: Any = field(repr=False, compare=False)   # numpy uint8 (H, W), upright
    markers: tuple[MarkerHit, ...] = ()
    rotated_180: bool = False
    dpi: float = 300.0


@dataclass(frozen=True)
class Registration:
    """Transform from frozen geometry (points) to pixels of the upright page image."""

    matrix: tuple[tuple[float, ...], ...]    # 3x3 homography, points -> pixels
    residual_pt: float                       # RMS marker fit error
    markers_found: int
    rotated_180: bool
    scale_px_per_pt: float

    def to_px(self, p: Point) -> tuple[float, float]:
        m = self.matrix
        w = m[2][0] * p.x + m[2][1] * p.y + m[2][2]
        return ((m[0][0] * p.x + m[0][1] * p.y + m[0][2]) / w, (m[1][0] * p.x + m[1][1] * p.y + m[1][2]) / w)


@dataclass(frozen=True)
class BoxReading:
    """The machine's reading of one box: state, confidence 0..1 and the raw evidence."""

    box_id: str
    state: BoxState
    confidence: float
    metrics: Mapping[str, float] = field(default_factory=dict)
    reason: str = ""


@dataclass(frozen=True)
class TextReading:
    """A free-text area: whether it has ink, the crop kept for the reviewer and tesseract's draft."""

    area_id: str
    has_ink: bool
    ink_ratio: float
    draft: str = ""
    confidence: float = 0.0
    crop_png: bytes = field(default=b"", repr=False, compare=False)


@dataclass(frozen=True)
class PageReading:
    """Everything the reader learnt from one page that is one of our forms."""

    source: SourcePage
    identity: PageIdentity
    registration: Registration
    boxes: tuple[BoxReading, ...]
    texts: tuple[TextReading, ...]
    normalised_png: bytes = field(default=b"", repr=False, compare=False)
    issues: tuple[str, ...] = ()            # question-level review reasons, e.g. "q1: dwa zaznaczenia"


@dataclass(frozen=True)
class RejectedPage:
    """A page that is not read as a sheet, with a stable reason code and a Polish explanation."""

    file_name: str
    file_sha256: str
    index: int
    reason: str            # "blank", "foreign", "unregistered", "unknown-form", "damaged"
    message: str
