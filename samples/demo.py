"""`make demo`: the main job end to end on the bundled samples.

Creates a fresh demo workspace with Lesko's office data, prints both forms (a master for photocopying
and numbered copies), drops the committed sample scans (samples/scans/) into the inbox, runs the ingest
exactly as the night job would, compares the result with the samples' ground truth and exports the
responses to CSV and JSON.
"""

from __future__ import annotations

import argparse
import shutil
from datetime import date
from pathlib import Path

from pipeline.report.periods import half_year
from pipeline.runs import export, reporting
from pipeline.runs.ingest import batch
from pipeline.runs.workspace import form_pdf, init_workspace
from samples.evaluate import evaluate
from samples.synth import DEMO_OFFICE

SCANS = Path(__file__).resolve().parent / "scans"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m samples.demo")
    ap.add_argument("--home", type=Path, default=Path("demo/ankieta-data"))
    a = ap.parse_args(argv)
    home: Path = a.home
    shutil.rmtree(home, ignore_errors=True)
    ws = init_workspace(home, DEMO_OFFICE)
    print(f"1. Przestrzeń robocza: {home.resolve()} ({DEMO_OFFICE.name}, {len(DEMO_OFFICE.departments)} komórek)")
    for form in ("lesko-f1", "satysfakcja-5"):
        pdf, version, _ = form_pdf(ws, form)
        master = ws.folder("printed") / f"{form}-v{version.version}-wzor.pdf"
        master.write_bytes(pdf)
        pdf, version, serials = form_pdf(ws, form, copies=5)
        copies = ws.folder("printed") / f"{form}-v{version.version}-{serials[0]}-{serials[-1]}.pdf"
        copies.write_bytes(pdf)
        print(f"2. Wydruk {form} v{version.version}: {master.name} (wzór), {copies.name} (5 arkuszy)")
    truth = SCANS / "truth.json"
    files = sorted(p for p in SCANS.iterdir() if p.name != "truth.json" and not p.name.startswith("."))
    for f in files:
        shutil.copy2(f, ws.folder("inbox") / f.name)
    print(f"3. Skaner zapisał do inbox/: {', '.join(f.name for f in files)}")
    summary = batch.ingest(ws, None, label="demo: urna 1", min_age_s=0, settle_s=0)
    print("4. Wczytywanie nocne:")
    print(f"   plików {summary.files}, stron {summary.pages}, arkuszy {summary.sheets}, pozycji do przeglądu "
          f"{summary.review_items}, w kwarantannie {len(summary.quarantined)}, odczytanych tekstów {summary.texts_drafted}, "
          f"czas {summary.seconds:.1f} s")
    for where, why in summary.quarantined:
        print(f"   kwarantanna: {where}: {why}")
    e = evaluate(ws, truth)
    print("5. Porównanie z prawdą wzorcową próbek:")
    print(f"   kratek {e.boxes}: błędy ciche (pewny, a zły odczyt) {e.silent_errors}, oznaczone do sprawdzenia "
          f"{e.flagged} ({e.flag_rate:.1%}); stron ankiet rozpoznanych {e.sheet_pages_read}/{e.sheet_pages}; "
          f"stron pustych/obcych wziętych za ankietę {e.other_read_as_sheet}/{e.other_pages}")
    out_csv = home.parent / "wyniki.csv"
    out_csv.write_text(export.export_csv(ws), "utf-8", newline="")
    out_json = home.parent / "wyniki.json"
    out_json.write_text(export.export_json(ws), "utf-8")
    print(f"6. Eksport: {out_csv} i {out_json}")
    today = date.today()
    half = f"{today.year}H{1 if today.month <= 6 else 2}"
    report = reporting.generate(ws, half_year(half), "pdf", home.parent / f"protokol-{half}.pdf", "demo", author="")
    print(f"7. Protokół z badania zadowolenia Klienta ({half}): {home.parent / f'protokol-{half}.pdf'} "
          f"(archiwum: reports/{report.archived.name})")
    print(f"   Dalej: .venv/bin/ankieta --home {home} users add ala --role reviewer && "
          f".venv/bin/ankieta --home {home} serve  (przegląd w przeglądarce: http://127.0.0.1:8080/)")
    return 0 if e.silent_errors == 0 and e.other_read_as_sheet == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
