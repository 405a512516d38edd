"""The scan generator (samples/): deterministic, truth that agrees with the frozen geometry and with the
pixels, files that decode to what truth.json declares, and scanner effects that do what they claim."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pikepdf
import pytest
from PIL import Image

from samples.generate import generate_set, main
from samples.profiles import PROFILES
from samples.scanner import ScanSettings, plan_fold, scan
from samples.synth import DEMO_DEPARTMENTS, DEMO_OFFICE, SourceForm, demo_forms, page_truth, render_page, respond

# small and fast: 150 DPI keeps a page under ~50 ms
OFFICE_150 = replace(PROFILES["office"], dpi=((150, 1.0),))


@pytest.fixture(scope="module")
def forms() -> tuple[SourceForm, ...]:
    return demo_forms()


@pytest.fixture(scope="module")
def office_set(forms: tuple[SourceForm, ...], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("office")
    path = generate_set(out, 5, seed=21, profile=OFFICE_150, formats=("pdf", "tiff", "jpeg", "png"), forms=forms, files=4)
    return out, json.loads(path.read_text("utf-8"))


def _pages(truth: dict[str, Any]) -> list[tuple[str, int, dict[str, Any]]]:
    return [(f, i, p) for f, pages in truth["files"].items() for i, p in enumerate(pages)]


def _load(path: Path) -> list[Image.Image]:
    """Every page of a scan file as Pillow decodes it (PDF: the page's embedded image)."""
    if path.suffix == ".pdf":
        with pikepdf.open(path) as pdf:
            out = []
            for page in pdf.pages:
                images = list(page.get_images().values())
                assert len(images) == 1, "one embedded image per page"
                im = pikepdf.PdfImage(images[0]).as_pil_image()
                width_pt = float(page.mediabox[2]) - float(page.mediabox[0])
                im.info["dpi"] = (im.width * 72 / width_pt,) * 2
                out.append(im)
            return out
    im = Image.open(path)
    frames = []
    for i in range(getattr(im, "n_frames", 1)):
        im.seek(i)
        frame = im.copy()
        frame.info = dict(im.info)
        frames.append(frame)
    return frames


def test_demo_office_matches_its_departments(forms: tuple[SourceForm, ...]) -> None:
    assert DEMO_OFFICE.name == "Urząd Miasta i Gminy Lesko"
    assert [(d.id, d.name) for d in DEMO_OFFICE.departments] == list(DEMO_DEPARTMENTS)
    assert len(DEMO_DEPARTMENTS) == 9
    assert [f.key for f in forms] == ["lesko-f1@1", "satysfakcja-5@1"]
    f1 = forms[0].geometry
    assert {b.value for p in f1.pages for b in p.boxes if b.question == "q4"} == {i for i, _ in DEMO_DEPARTMENTS}


def test_same_seed_same_bytes(forms: tuple[SourceForm, ...], tmp_path: Path) -> None:
    def run(out: Path, seed: int) -> tuple[dict[str, Any], dict[str, str]]:
        path = generate_set(out, 2, seed=seed, profile=OFFICE_150, formats=("pdf", "tiff"), forms=forms, files=2)
        truth = json.loads(path.read_text("utf-8"))
        digests = {f: hashlib.sha256((out / f).read_bytes()).hexdigest() for f in truth["files"]}
        return truth, digests

    a, b, c = run(tmp_path / "a", 7), run(tmp_path / "b", 7), run(tmp_path / "c", 8)
    assert a == b
    assert a[0] != c[0]


def test_truth_covers_every_box_of_the_geometry(forms: tuple[SourceForm, ...], office_set: tuple[Path, dict[str, Any]]) -> None:
    _, truth = office_set
    geometry = {(f.geometry.form, f.geometry.version): f.geometry for f in forms}
    sheets: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for _, _, p in _pages(truth):
        if p["kind"] != "sheet":
            assert p["boxes"] == {} and p["form"] is None
            continue
        page = geometry[(p["form"], p["version"])].page(p["page"])
        assert set(p["boxes"]) == {b.id for b in page.boxes}
        assert set(p["boxes"].values()) <= {"marked", "empty"}
        assert set(p["hard"]) <= set(p["boxes"])
        assert set(p["texts"]) <= {a.id for a in page.text_areas}
        assert len(p["serial"]) == 6 and p["serial"].isdigit()
        assert p["hidden_marker"] in (None, 0, 1, 2, 3)
        sheets[p["serial"]].append((p["form"], p["page"]))
    assert len(sheets) == truth["sheets"] == 5                 # one serial per sheet, unique
    for pages in sheets.values():
        form = {f for f, _ in pages}
        assert len(form) == 1                                    # a sheet's pages carry the same serial
        assert sorted(n for _, n in pages) == [p.number for p in geometry[(form.pop(), 1)].pages]
    kinds = [p for _, _, p in _pages(truth)]
    # the office profile guarantees each event once even in a small set
    assert any(p["kind"] == "blank" for p in kinds)
    assert any(p["kind"] == "foreign" for p in kinds)
    assert any(p["rotated_180"] for p in kinds)
    assert any(p["hidden_marker"] is not None for p in kinds)
    assert any(v == "marked" for p in kinds for v in p["boxes"].values())


def test_files_decode_to_declared_pages_and_dpi(office_set: tuple[Path, dict[str, Any]]) -> None:
    out, truth = office_set
    suffixes = {Path(f).suffix for f in truth["files"]}
    assert suffixes == {".pdf", ".tif", ".jpg", ".png"}
    for name, pages in truth["files"].items():
        images = _load(out / name)
        assert len(images) == len(pages), name
        for im, p in zip(images, pages, strict=True):
            im.load()
            assert im.info["dpi"][0] == pytest.approx(p["dpi"], abs=0.5), name
            if p["mode"] == "bilevel" and not name.endswith(".jpg"):
                assert im.mode == "1", name


def test_transform_in_truth_maps_the_printed_markers(office_set: tuple[Path, dict[str, Any]],
                                                     forms: tuple[SourceForm, ...]) -> None:
    """truth["transform"] (page points -> scan pixels) puts each marker where OpenCV finds it."""
    out, truth = office_set
    detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50), cv2.aruco.DetectorParameters())
    markers = {m.id: m.rect.center for m in forms[0].geometry.pages[0].markers}
    checked = 0
    for name, pages in truth["files"].items():
        for im, p in zip(_load(out / name), pages, strict=True):
            if p["kind"] != "sheet":
                continue
            grey = np.asarray(im.convert("L"))
            corners, ids, _ = detector.detectMarkers(grey)
            found = {int(i): c.reshape(4, 2).mean(axis=0) for i, c in zip(ids.ravel(), corners, strict=True)}
            expected = {i for i in range(4) if i != p["hidden_marker"]}
            assert set(found) == expected, (name, p["page"], p["hidden_marker"])
            m = np.array(p["transform"])
            for mid, c in found.items():
                want = m @ np.array([markers[mid].x, markers[mid].y, 1.0])
                assert np.hypot(*(want - c)) < 3.0, (name, mid)
            checked += 1
    assert checked >= 10


def test_bilevel_tiff_is_group4(forms: tuple[SourceForm, ...], tmp_path: Path) -> None:
    prof = replace(OFFICE_150, modes=(("bilevel", 1.0),), p_duplex=0.0, p_foreign=0.0, guarantee=False)
    path = generate_set(tmp_path, 1, seed=3, profile=prof, formats=("tiff",), forms=forms)
    truth = json.loads(path.read_text("utf-8"))
    (name,) = truth["files"]
    im = Image.open(tmp_path / name)
    assert im.n_frames == len(truth["files"][name])
    for i in range(im.n_frames):
        im.seek(i)
        assert im.mode == "1" and im.info["compression"] == "group4"


def _ink_px(img: np.ndarray, rect_pt: Any, dpi: int) -> int:
    """Dark pixels strictly inside a box outline (the outline itself and 1 px more are left out)."""
    k = dpi / 72
    inset = 1.0 * k + 2
    x0, y0 = int(rect_pt.x * k + inset), int(rect_pt.y * k + inset)
    x1, y1 = int(rect_pt.right * k - inset), int(rect_pt.bottom * k - inset)
    return int(np.count_nonzero(img[y0:y1, x0:x1] < 160))


def test_marked_boxes_have_ink_and_empty_ones_do_not(forms: tuple[SourceForm, ...]) -> None:
    dpi = 300
    for n in range(4):
        form = forms[n % 2]
        rng = np.random.default_rng(100 + n)
        sheet = respond(form, f"{200000 + n}", PROFILES["clean"], rng)
        for page in form.geometry.pages:
            img = render_page(form, sheet, page.number, dpi, colour=False, rng=rng)
            truth = page_truth(page, sheet)
            for box in page.boxes:
                ink = _ink_px(img, box.rect, dpi)
                if truth.boxes[box.id] == "marked":
                    assert ink >= 30, (box.id, ink)
                else:
                    assert ink == 0, (box.id, ink)


def test_correction_fill_is_cancelled_not_hard(forms: tuple[SourceForm, ...]) -> None:
    prof = replace(PROFILES["office"], p_correction=1.0, p_double=0.0, p_forgot_cross=0.0, p_pencil_person=0.0,
                   habits=(("x", 1.0),), p_skip_question=0.0)
    sheet = respond(forms[0], "300000", prof, np.random.default_rng(1))
    fills = [m for m in sheet.marks if m.style == "fill"]
    assert fills and all(m.truth == "empty" and not m.hard for m in fills)
    page = forms[0].geometry.page(fills[0].page)
    img = render_page(forms[0], sheet, page.number, 200, colour=False, rng=np.random.default_rng(2))
    assert page_truth(page, sheet).boxes[fills[0].box_id] == "empty"
    box = page.box(fills[0].box_id)
    k = 200 / 72
    inner = img[int(box.rect.y * k) + 4:int(box.rect.bottom * k) - 4, int(box.rect.x * k) + 4:int(box.rect.right * k) - 4]
    assert np.mean(inner < 160) > 0.8          # it really is filled in


def test_folded_corner_hides_its_marker(forms: tuple[SourceForm, ...]) -> None:
    form, dpi = forms[0], 150
    page = form.geometry.page(1)
    rng = np.random.default_rng(5)
    fold = None
    while fold is None or fold.marker == 1:
        fold = plan_fold(page, rng, dark_lid=False)
    sheet = respond(form, "400000", PROFILES["clean"], rng)
    img = render_page(form, sheet, 1, dpi, colour=False, rng=rng)
    out, m = scan(img, ScanSettings(dpi=dpi, mode="grey", fold=fold), rng)
    assert np.allclose(m, [[1, 0, 0], [0, 1, 0]])       # no skew or shift: scan pixels are page pixels
    k = dpi / 72
    for mk in page.markers:
        r = mk.rect
        region = out[int(r.y * k):int(r.bottom * k), int(r.x * k):int(r.right * k)]
        if mk.id == fold.marker:
            assert int(region.max()) - int(region.min()) < 12, "the marker must be gone"
        else:
            assert region.min() < 60 and region.max() > 200, "other markers stay"
    detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50), cv2.aruco.DetectorParameters())
    _, ids, _ = detector.detectMarkers(out)
    assert sorted(int(i) for i in ids.ravel()) == [i for i in range(4) if i != fold.marker]


def test_cli_writes_a_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["--out", str(tmp_path), "--sheets", "1", "--seed", "4", "--forms", "lesko-f1", "--profile", "clean",
               "--format", "png", "--dpi", "150", "--workers", "1"])
    assert rc == 0
    truth = json.loads((tmp_path / "truth.json").read_text("utf-8"))
    assert truth["forms"] == ["lesko-f1@1"] and len(truth["files"]) == 2
    assert "pages in" in capsys.readouterr().out
