"""Generate a set of scan files with ground truth: `generate_set` and `python -m samples.generate`.

A set is planned completely first (who answers what, which stack each sheet goes to, every scanner
setting, a seed per page), then rendered stack by stack, in worker processes when asked. Each page's
pixels depend only on the plan and its own seed, so a seed gives byte-identical files whatever the number
of workers.

truth.json (documented in samples/README.md):
    {"generator", "seed", "profile", "sheets", "forms": [...],
     "files": {relative file: [page truth, one per page in file order]}}
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from pipeline.records.form_geometry import PageGeometry
from samples import phrases
from samples.profiles import PROFILES, Profile
from samples.scanner import (
    ScanSettings,
    blank_back,
    foreign_page,
    page_settings,
    plan_fold,
    scan,
    stack_settings,
)
from samples.synth import Sheet, SourceForm, demo_forms, master_pages, page_truth, render_page, respond
from samples.writers import FORMATS, Format, open_writer

PageKind = Literal["sheet", "blank", "foreign"]
GENERATOR = "samples.generate/2"      # 2: page codes carry the version fingerprint


@dataclass(frozen=True)
class PagePlan:
    kind: PageKind
    settings: ScanSettings
    seed: int
    form: str | None = None             # SourceForm.key (sheets, and blank backs: whose back it is)
    page: int | None = None
    sheet: Sheet | None = None
    qr: str | None = None               # foreign pages: a QR code that is not ours


@dataclass(frozen=True)
class StackPlan:
    name: str
    format: Format
    pages: tuple[PagePlan, ...]


# --- planning ------------------------------------------------------------------------------------

def _allocate(forms: Sequence[SourceForm], weights: Sequence[float], sheets: int) -> list[int]:
    """Sheets per form in proportion to the weights (largest remainder), as a list of form indexes."""
    total = sum(weights)
    exact = [sheets * w / total for w in weights]
    counts = [math.floor(e) for e in exact]
    for i in sorted(range(len(forms)), key=lambda i: counts[i] - exact[i])[: sheets - sum(counts)]:
        counts[i] += 1
    return [i for i, n in enumerate(counts) for _ in range(n)]


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**62))


def plan_set(forms: Sequence[SourceForm], sheets: int, seed: int, profile: Profile, formats: Sequence[Format],
             files: int | None = None, weights: Sequence[float] | None = None) -> tuple[StackPlan, ...]:
    """Decide everything about a set: sheets, answers, stacks, page order and every scanner setting."""
    rng = np.random.default_rng(seed)
    order = _allocate(forms, weights or [1.0] * len(forms), sheets)
    rng.shuffle(order)
    serials = [f"{100_000 + int(v):06d}" for v in rng.choice(900_000, size=sheets, replace=False)]
    sheet_plans = [respond(forms[fi], serials[n], profile, np.random.default_rng([seed, 1, n])) for n, fi in enumerate(order)]
    by_key = {f.key: f for f in forms}
    # stacks
    if files:
        bounds = np.array_split(np.arange(sheets), min(files, max(1, sheets)))
        groups = [list(b) for b in bounds if len(b)]
    else:
        groups, start = [], 0
        while start < sheets:
            size = int(rng.integers(profile.stack_sheets[0], profile.stack_sheets[1] + 1))
            groups.append(list(range(start, min(sheets, start + size))))
            start += size
    fmt_cycle = list(formats)
    if len(fmt_cycle) > 1:
        rng.shuffle(fmt_cycle)
    stacks: list[list[PagePlan]] = []
    meta: list[tuple[str, Format, int, bool]] = []
    for sn, group in enumerate(groups):
        fmt = fmt_cycle[sn % len(fmt_cycle)]
        dpi, mode, dark_lid = stack_settings(profile, rng, bilevel_ok=fmt != "jpeg")
        duplex = bool(rng.random() < profile.p_duplex)
        pages: list[PagePlan] = []
        for n in group:
            sheet = sheet_plans[n]
            form = by_key[sheet.form]
            for pg in form.geometry.pages:
                s = page_settings(profile, dpi, mode, dark_lid, rng)
                if rng.random() < profile.p_fold:
                    s = replace(s, fold=plan_fold(pg, rng, dark_lid))
                pages.append(PagePlan("sheet", s, _seed(rng), form.key, pg.number, sheet))
                if duplex or rng.random() < profile.p_stray_blank:
                    back = page_settings(profile, dpi, mode, dark_lid, rng)
                    pages.append(PagePlan("blank", back, _seed(rng), form.key, pg.number))
        if rng.random() < profile.p_foreign:
            qr = str(rng.choice(phrases.FOREIGN_QR)) if rng.random() < 0.5 else None
            pos = int(rng.integers(len(pages) + 1))
            pages.insert(pos, PagePlan("foreign", page_settings(profile, dpi, mode, dark_lid, rng), _seed(rng), qr=qr))
        if rng.random() < profile.p_shuffle:
            perm = rng.permutation(len(pages))
            pages = [pages[i] for i in perm]
        stacks.append(pages)
        meta.append((f"stack-{sn + 1:02d}", fmt, dpi, dark_lid))
    if profile.guarantee:
        _guarantee(stacks, meta, profile, by_key, rng)
    return tuple(StackPlan(name, fmt, tuple(pages)) for (name, fmt, _, _), pages in zip(meta, stacks, strict=True))


def _guarantee(stacks: list[list[PagePlan]], meta: list[tuple[str, Format, int, bool]], profile: Profile,
               forms: dict[str, SourceForm], rng: np.random.Generator) -> None:
    """Make a small set still show each enabled event once: a 180° page, a hidden marker, a blank back
    and a foreign page (test fixtures need them; large sets get them by the rates anyway)."""
    sheet_pages = [(si, pi) for si, st in enumerate(stacks) for pi, p in enumerate(st) if p.kind == "sheet"]
    if len(sheet_pages) < 4:
        return
    flat = [p for st in stacks for p in st]
    if profile.p_rotate_180 > 0 and not any(p.settings.rotated_180 for p in flat):
        si, pi = sheet_pages[int(rng.integers(len(sheet_pages)))]
        p = stacks[si][pi]
        stacks[si][pi] = replace(p, settings=replace(p.settings, rotated_180=True))
    if profile.p_fold > 0 and not any(p.settings.fold for p in flat):
        for k in rng.permutation(len(sheet_pages)):
            si, pi = sheet_pages[int(k)]
            p = stacks[si][pi]
            assert p.form is not None and p.page is not None
            fold = plan_fold(forms[p.form].geometry.page(p.page), rng, meta[si][3])
            if fold is not None and not p.settings.rotated_180:
                stacks[si][pi] = replace(p, settings=replace(p.settings, fold=fold))
                break
    if (profile.p_duplex > 0 or profile.p_stray_blank > 0) and not any(p.kind == "blank" for p in flat):
        si, pi = sheet_pages[int(rng.integers(len(sheet_pages)))]
        p = stacks[si][pi]
        settings = replace(p.settings, rotated_180=False, fold=None)
        stacks[si].insert(pi + 1, PagePlan("blank", settings, _seed(rng), p.form, p.page))
    if profile.p_foreign > 0 and not any(p.kind == "foreign" for p in flat):
        si = int(rng.integers(len(stacks)))
        ref = stacks[si][0].settings
        qr = str(rng.choice(phrases.FOREIGN_QR))
        stacks[si].insert(int(rng.integers(len(stacks[si]) + 1)),
                          PagePlan("foreign", replace(ref, rotated_180=False, fold=None), _seed(rng), qr=qr))


# --- rendering -----------------------------------------------------------------------------------

def _box_px(page: PageGeometry, dpi: int) -> list[tuple[int, int, int, int]]:
    k = dpi / 72
    return [(int(b.rect.x * k), int(b.rect.y * k), int(b.rect.right * k) + 1, int(b.rect.bottom * k) + 1)
            for b in page.boxes] + [(int(a.rect.x * k), int(a.rect.y * k), int(a.rect.right * k) + 1, int(a.rect.bottom * k) + 1)
                                    for a in page.text_areas]


def render_stack(stack: StackPlan, forms: Sequence[SourceForm], out_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Render and write one stack page by page; returns its truth: {file: [page truth, ...]}."""
    by_key = {f.key: f for f in forms}
    writer = open_writer(stack.format, out_dir, stack.name)
    truth: dict[str, list[dict[str, Any]]] = {}
    try:
        for plan in stack.pages:
            s = plan.settings
            rng = np.random.default_rng(plan.seed)
            entry: dict[str, Any] = {"kind": plan.kind, "form": None, "version": None, "page": None, "serial": None,
                                     "dpi": s.dpi, "mode": s.mode, "rotated_180": s.rotated_180,
                                     "hidden_marker": s.fold.marker if s.fold else None,
                                     "boxes": {}, "hard": [], "texts": {}, "transform": None}
            avoid: list[tuple[int, int, int, int]] = []
            if plan.kind == "sheet":
                assert plan.form is not None and plan.page is not None and plan.sheet is not None
                form = by_key[plan.form]
                geom = form.geometry.page(plan.page)
                img = render_page(form, plan.sheet, plan.page, s.dpi, s.mode == "colour", rng, bilevel=s.mode == "bilevel")
                t = page_truth(geom, plan.sheet)
                entry.update(form=form.geometry.form, version=form.geometry.version, page=plan.page,
                             serial=plan.sheet.serial, boxes=t.boxes, hard=list(t.hard), texts=t.texts)
                avoid = _box_px(geom, s.dpi)
            elif plan.kind == "blank":
                front = master_pages(by_key[plan.form], s.dpi)[plan.page - 1] if plan.form and plan.page else None
                img = blank_back(front, s.dpi, rng)
            else:
                img = foreign_page(s.dpi, rng, plan.qr)
            out, m = scan(img, s, rng, avoid)
            if plan.kind == "sheet":
                k = s.dpi / 72
                entry["transform"] = [[round(float(m[r, 0]) * k, 6), round(float(m[r, 1]) * k, 6), round(float(m[r, 2]), 3)]
                                      for r in range(2)]
            rel = writer.add(out, s.dpi, s.mode, s.jpeg_quality)
            truth.setdefault(rel, []).append(entry)
    finally:
        writer.close()
    return truth


def _render_job(args: tuple[StackPlan, Sequence[SourceForm], Path]) -> dict[str, list[dict[str, Any]]]:
    cv2.setNumThreads(1)        # one process per core already; OpenCV's own threads would only contend
    return render_stack(*args)


def _remove_previous(out_dir: Path) -> None:
    """Delete the files an earlier run listed in truth.json (and only those), so no stale stack lingers."""
    old = out_dir / "truth.json"
    if not old.exists():
        return
    try:
        listed = json.loads(old.read_text("utf-8")).get("files", {})
    except (json.JSONDecodeError, AttributeError):
        return
    for rel in listed:
        p = out_dir / rel
        if p.is_file():
            p.unlink()
    old.unlink()


def generate_set(out_dir: Path, sheets: int, seed: int, profile: str | Profile = "office",
                 formats: Sequence[Format] = ("pdf",), forms: Sequence[SourceForm] | None = None,
                 files: int | None = None, weights: Sequence[float] | None = None, workers: int = 1) -> Path:
    """Write a set of scan files and truth.json into `out_dir`; returns the path of truth.json.

    `forms`: the published forms to fill in (default: demo_forms()); `weights`: their shares of the
    sheets; `files`: number of stack files (default: stack sizes drawn from the profile); `workers`:
    processes rendering stacks in parallel (the output does not depend on it)."""
    prof = PROFILES[profile] if isinstance(profile, str) else profile
    forms = tuple(forms) if forms is not None else demo_forms()
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_previous(out_dir)
    stacks = plan_set(forms, sheets, seed, prof, formats, files, weights)
    jobs = [(st, forms, out_dir) for st in stacks]
    results: list[dict[str, list[dict[str, Any]]]]
    if workers > 1 and len(stacks) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_render_job, jobs))
    else:
        results = [render_stack(*job) for job in jobs]
    files_truth: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        files_truth.update(r)
    doc = {"generator": GENERATOR, "seed": seed, "profile": prof.name, "sheets": sheets,
           "forms": [f.key for f in forms], "files": dict(sorted(files_truth.items()))}
    path = out_dir / "truth.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1), "utf-8")
    tmp.replace(path)
    return path


# --- command line --------------------------------------------------------------------------------

def _parse_forms(spec: str) -> tuple[list[str], list[int], list[float]]:
    """"lesko-f1:3,satysfakcja-5@2:1" -> names, versions, weights."""
    names, versions, weights = [], [], []
    for item in filter(None, (s.strip() for s in spec.split(","))):
        head, _, w = item.partition(":")
        name, _, v = head.partition("@")
        names.append(name)
        versions.append(int(v) if v else 1)
        weights.append(float(w) if w else 1.0)
    return names, versions, weights


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m samples.generate", description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="output folder (truth.json and the scan files)")
    ap.add_argument("--sheets", type=int, required=True, help="number of filled-in sheets")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--forms", default="lesko-f1,satysfakcja-5",
                    help="comma-separated form[@version][:weight], e.g. lesko-f1:3,satysfakcja-5:1")
    ap.add_argument("--profile", choices=sorted(PROFILES), default="office")
    ap.add_argument("--format", choices=[*FORMATS, "mixed"], default="pdf")
    ap.add_argument("--dpi", default=None, help="comma-separated resolutions to draw from instead of the profile's, e.g. 150,200")
    ap.add_argument("--modes", default=None, help="comma-separated colour modes instead of the profile's: colour,grey,bilevel")
    ap.add_argument("--files", type=int, default=None, help="number of stack files (default: drawn from the profile)")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    a = ap.parse_args(argv)
    names, versions, weights = _parse_forms(a.forms)
    forms: list[SourceForm] = []
    for name, v in zip(names, versions, strict=True):
        forms.extend(demo_forms(names=[name], versions=[v]))
    formats: tuple[Format, ...] = FORMATS if a.format == "mixed" else (a.format,)
    profile = PROFILES[a.profile]
    if a.dpi:
        profile = replace(profile, dpi=tuple((int(d), 1.0) for d in a.dpi.split(",")))
    if a.modes:
        modes = [m.strip() for m in a.modes.split(",")]
        if not set(modes) <= {"colour", "grey", "bilevel"}:
            ap.error("--modes: colour, grey, bilevel")
        profile = replace(profile, modes=tuple((m, 1.0) for m in modes))
    t0 = time.perf_counter()
    path = generate_set(a.out, a.sheets, a.seed, profile, formats, forms, a.files, weights, a.workers)
    elapsed = time.perf_counter() - t0
    doc = json.loads(path.read_text("utf-8"))
    pages = sum(len(v) for v in doc["files"].values())
    size = sum((a.out / f).stat().st_size for f in doc["files"])
    print(f"{pages} pages in {len(doc['files'])} files ({size / 1e6:.1f} MB), {elapsed:.1f} s "
          f"({elapsed / max(1, pages):.3f} s/page, {a.workers} workers) -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
