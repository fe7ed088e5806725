"""Write synthetic head-CT DICOM series with per-slice hemorrhage truth (annotations.phantoms).

    python manage.py make_phantoms OUT_DIR --scans N --seed S [--size PX] [--center NAME] [--json]

One line per scan, or with --json one JSON object on stdout and nothing else there. The same
arguments always give byte-identical files. The data are synthetic: results on them are never
clinical performance.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotations.phantoms import SUBTYPES, WrittenScan, write_phantoms


class Command(BaseCommand):
    help = "Write synthetic head-CT phantom series (DICOM) and OUT_DIR/truth.json."

    def add_arguments(self, parser) -> None:
        parser.add_argument("out_dir", type=Path)
        parser.add_argument("--scans", type=int, default=10, help="number of scans (default 10)")
        parser.add_argument("--seed", type=int, default=0, help="non-negative seed (default 0)")
        parser.add_argument("--size", type=int, default=512, help="matrix size (default 512)")
        parser.add_argument("--center", default=None, help="center name, mixed into the seeding")
        parser.add_argument(
            "--overwrite", action="store_true", help="replace existing scan folders"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON summary")

    def handle(self, *args, **options) -> None:
        if options["scans"] < 1 or options["seed"] < 0 or not 16 <= options["size"] <= 2048:
            raise CommandError("need --scans >= 1, --seed >= 0 and 16 <= --size <= 2048")
        started = time.perf_counter()
        try:
            written = write_phantoms(
                options["out_dir"],
                scans=options["scans"],
                seed=options["seed"],
                size=options["size"],
                center=options["center"],
                overwrite=options["overwrite"],
            )
        except FileExistsError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started
        if options["json"]:
            self.stdout.write(json.dumps(_summary(options["out_dir"], written, elapsed)))
            return
        for scan in written:
            self.stdout.write(_line(scan))
        slices = sum(len(scan.files) for scan in written)
        self.stdout.write(
            f"{len(written)} scans, {slices} slices, truth in "
            f"{options['out_dir'] / 'truth.json'} ({elapsed:.1f} s; synthetic data)"
        )


def _positive_subtypes(truth: dict) -> list[str]:
    return [s for s in SUBTYPES if truth[s]]


def _line(scan: WrittenScan) -> str:
    truth = scan.truth
    positive = sum(1 for sl in truth["slices"] if sl["any"])
    subtypes = ",".join(_positive_subtypes(truth)) or "negative"
    conv = truth["convention"]
    return (
        f"{scan.name}: {truth['n_slices']} slices, {subtypes} ({positive} positive slices), "
        f"{conv['encoding']}, {conv['transfer_syntax']} VR, {conv['instance_order']} -> "
        f"{scan.directory}"
    )


def _summary(out_dir: Path, written: list[WrittenScan], elapsed: float) -> dict:
    scans = []
    for scan in written:
        truth = scan.truth
        scans.append(
            {
                "scan": scan.name,
                "directory": str(scan.directory),
                "n_slices": truth["n_slices"],
                "positive_slices": sum(1 for sl in truth["slices"] if sl["any"]),
                "any": truth["any"],
                "subtypes": _positive_subtypes(truth),
                "patient_id": truth["patient_id"],
                "study_instance_uid": truth["study_instance_uid"],
            }
        )
    return {
        "synthetic": True,
        "out_dir": str(out_dir),
        "truth": str(out_dir / "truth.json"),
        "scans": scans,
        "total_scans": len(scans),
        "total_slices": sum(s["n_slices"] for s in scans),
        "elapsed_s": round(elapsed, 3),
    }
