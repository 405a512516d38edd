"""Stage: fit the transform from the frozen page geometry (PDF points) to pixels of the upright scan.

Every corner of every detected marker is matched to the same corner of the marker's frozen square: 16 point
pairs with four markers, 12 with three. Four markers give a homography (it absorbs the small trapezoid a
feeder or a lifted sheet adds); three give an affine transform, because three clusters of points cannot pin
down perspective and would extrapolate wildly into the missing corner. Single corners far off the fit (a fold
or smudge biting into a marker) are dropped. The fit is then checked: RMS residual in points over the corners
kept, and whether the implied scale, skew and perspective are physically plausible for a flat sheet.

Known limit: four markers are four clusters, and a homography can map any four clusters anywhere, so a whole
marker displaced by a crease is absorbed rather than detected (only the perspective check bounds it).

Pixel coordinates follow OpenCV (pixel centres at integers), like identify's marker corners.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.base import config as C
from pipeline.base.errors import PageRejected
from pipeline.records.form_geometry import MarkerGeom, PageGeometry
from pipeline.records.reading import Identification, Registration

Matrix = NDArray[np.float64]     # 3x3, points -> pixels

MSG_TOO_FEW = (
    "Znaleziono tylko {found} z 4 znaczników narożnych, a do dokładnego ustalenia położenia kratek potrzebne "
    "są co najmniej 3. Sprawdź, czy rogi kartki nie są zagięte, zabrudzone ani obcięte (np. przy kserowaniu), "
    "rozprostuj kartkę i zeskanuj ją ponownie."
)
MSG_RESIDUAL = (
    "Znaczniki narożne nie układają się tak jak na wydrukowanym wzorze (błąd dopasowania {residual:.1f} mm, "
    "dopuszczalne {limit:.1f} mm). Kartka mogła być pognieciona, zagięta albo źle pociągnięta przez podajnik. "
    "Rozprostuj ją i zeskanuj ponownie."
)
MSG_IMPLAUSIBLE = (
    "Obraz strony jest zniekształcony ({what}), więc położenia kratek nie da się wiarygodnie wyznaczyć. "
    "Zeskanuj kartkę ponownie na płasko, w skali 100 %; jeśli to kserokopia, skopiuj ją bez pomniejszania."
)


@dataclass(frozen=True)
class _Fit:
    matrix: Matrix
    residual_pt: float
    markers: int


def _point_pairs(
    ident: Identification, markers: tuple[MarkerGeom, ...]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Frozen corners (points), detected corners (pixels) and which marker each pair belongs to."""
    frozen = {m.id: m for m in markers}
    src: list[tuple[float, float]] = []
    dst: list[tuple[float, float]] = []
    owner: list[int] = []
    for hit in ident.markers:
        geom = frozen.get(hit.id)
        if geom is None or len(hit.corners) != 4:
            continue
        src += [(p.x, p.y) for p in geom.rect.corners()]
        dst += [(float(x), float(y)) for x, y in hit.corners]
        owner += [hit.id] * 4
    return (np.array(src, dtype=np.float64).reshape(-1, 2), np.array(dst, dtype=np.float64).reshape(-1, 2),
            np.array(owner, dtype=np.int64))


def _affine(src: NDArray[np.float64], dst: NDArray[np.float64]) -> Matrix:
    """Plain least squares (no RANSAC: few trusted points, and the result must be repeatable)."""
    a = np.column_stack([src, np.ones(len(src))])
    sol, *_ = np.linalg.lstsq(a, dst, rcond=None)
    m = np.eye(3)
    m[:2, :] = sol.T
    return m


def _homography(src: NDArray[np.float64], dst: NDArray[np.float64]) -> Matrix | None:
    h, _ = cv2.findHomography(src, dst, 0)
    if h is None or not np.all(np.isfinite(h)) or abs(h[2, 2]) < 1e-12:
        return None
    return np.asarray(h, dtype=np.float64) / h[2, 2]


def _project(m: Matrix, pts: NDArray[np.float64]) -> NDArray[np.float64]:
    p = np.column_stack([pts, np.ones(len(pts))]) @ m.T
    return p[:, :2] / p[:, 2:3]


def _errors_pt(m: Matrix, src: NDArray[np.float64], dst: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per pair: distance in points on paper between the frozen corner and the detected one mapped back."""
    try:
        inv = np.asarray(np.linalg.inv(m), dtype=np.float64)
    except np.linalg.LinAlgError:
        return np.full(len(src), np.inf)
    return np.asarray(np.linalg.norm(_project(inv, dst) - src, axis=1), dtype=np.float64)


def _robust_fit(src: NDArray[np.float64], dst: NDArray[np.float64], owner: NDArray[np.int64]) -> _Fit | None:
    """Least squares, then drop the worst corner while it is clearly off and refit.

    A fold or smudge touching a marker moves one or two of its corners by a millimetre or so, and a single
    such corner drags a 16-point fit by ~0.2 mm everywhere. Dropping one point at a time (not RANSAC) keeps
    the result deterministic. With four markers a homography is fitted; with three, an affine map.
    """
    keep = np.ones(len(src), dtype=bool)
    outlier_pt = C.REGISTER_CORNER_OUTLIER_MM * C.PT_PER_MM
    max_drop = C.REGISTER_MAX_DROPPED_CORNERS if len(set(owner.tolist())) >= 4 else C.REGISTER_MAX_DROPPED_CORNERS // 2
    while True:
        markers = len(set(owner[keep].tolist()))
        if markers < 3:
            return None
        m = _homography(src[keep], dst[keep]) if markers >= 4 else _affine(src[keep], dst[keep])
        if m is None:
            return None
        err = _errors_pt(m, src[keep], dst[keep])
        worst = int(np.argmax(err))
        if err[worst] <= outlier_pt or int((~keep).sum()) >= max_drop:
            return _Fit(m, float(np.sqrt(np.mean(err ** 2))), markers)
        keep[np.flatnonzero(keep)[worst]] = False


def _jacobian(m: Matrix, x: float, y: float) -> NDArray[np.float64]:
    """d(pixel)/d(point) of the projective map at (x, y)."""
    w = m[2, 0] * x + m[2, 1] * y + m[2, 2]
    u = m[0, 0] * x + m[0, 1] * y + m[0, 2]
    v = m[1, 0] * x + m[1, 1] * y + m[1, 2]
    return np.array([
        [(m[0, 0] * w - u * m[2, 0]) / w ** 2, (m[0, 1] * w - u * m[2, 1]) / w ** 2],
        [(m[1, 0] * w - v * m[2, 0]) / w ** 2, (m[1, 1] * w - v * m[2, 1]) / w ** 2],
    ])


def _implausible(m: Matrix, page: PageGeometry, dpi: float) -> tuple[str | None, float]:
    """A Polish description of what is physically wrong with the fit (None if nothing), and the mean scale."""
    j = _jacobian(m, page.width_pt / 2, page.height_pt / 2)
    sx, sy = float(np.linalg.norm(j[:, 0])), float(np.linalg.norm(j[:, 1]))
    scale = (sx + sy) / 2
    if not (sx > 0 and sy > 0 and np.linalg.det(j) > 0):
        return "obraz odbity lustrzanie", scale
    expected = dpi / 72.0
    if abs(scale / expected - 1.0) > C.REGISTER_MAX_SCALE_DEVIATION_RATIO:
        return f"skala {100 * scale / expected:.0f} % zamiast 100 %", scale
    if abs(sx / sy - 1.0) > C.REGISTER_MAX_ANISOTROPY_RATIO:
        return f"kartka rozciągnięta w jednym kierunku o {100 * abs(sx / sy - 1.0):.1f} %", scale
    cos_axes = float(j[:, 0] @ j[:, 1]) / (sx * sy)
    shear = abs(90.0 - math.degrees(math.acos(max(-1.0, min(1.0, cos_axes)))))
    if shear > C.REGISTER_MAX_SHEAR_DEG:
        return f"pochylenie osi o {shear:.1f}°", scale
    rotation = math.degrees(math.atan2(j[1, 0], j[0, 0]))
    if abs(rotation) > C.REGISTER_MAX_ROTATION_DEG:
        return f"obrót o {rotation:.1f}°", scale
    local = [
        math.sqrt(abs(np.linalg.det(_jacobian(m, x, y))))
        for x in (0.0, page.width_pt) for y in (0.0, page.height_pt)
    ]
    if max(local) / min(local) - 1.0 > C.REGISTER_MAX_PERSPECTIVE_RATIO:
        return "zniekształcenie perspektywiczne (kartka nie leżała płasko)", scale
    return None, scale


def register(ident: Identification, page: PageGeometry) -> Registration:
    """Fit points -> pixels for `page` from the markers `ident` found; raise PageRejected("unregistered")."""
    src, dst, owner = _point_pairs(ident, page.markers)
    found = len(set(owner.tolist()))
    if found < 3:
        raise PageRejected("unregistered", MSG_TOO_FEW.format(found=found))
    fit = _robust_fit(src, dst, owner)
    limit_pt = C.REGISTER_MAX_RESIDUAL_MM * C.PT_PER_MM
    if fit is None or fit.residual_pt > limit_pt:
        residual_mm = fit.residual_pt / C.PT_PER_MM if fit is not None else math.inf
        raise PageRejected("unregistered", MSG_RESIDUAL.format(residual=residual_mm, limit=C.REGISTER_MAX_RESIDUAL_MM))
    problem, scale = _implausible(fit.matrix, page, ident.dpi)
    if problem is not None:
        raise PageRejected("unregistered", MSG_IMPLAUSIBLE.format(what=problem))
    return Registration(
        matrix=tuple(tuple(float(v) for v in row) for row in fit.matrix),
        residual_pt=fit.residual_pt,
        markers_found=fit.markers,
        rotated_180=ident.rotated_180,
        scale_px_per_pt=scale,
    )
