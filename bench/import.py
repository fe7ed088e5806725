"""Benchmark: DICOM import with de-identification, in slices per second.

Generates synthetic 512x512 head-CT phantoms, then imports them with ``manage.py import_dicom``
in fresh data directories, with one process and with several processes on disjoint subsets at
once. A baseline measured in this same process, plain pydicom read + write of the same files
(the floor any importer pays), puts the figures in context on a noisy machine.
Target: at least 175 slices/s per process (Orthanc stores such files at about that rate here).

    uv run python bench/import.py [--scans 8] [--size 512] [--processes 1 2] [--repeats 3]

Uses SQLite in a temporary folder unless DATABASE_URL is set (then each run gets a fresh
PostgreSQL database created from it).
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pydicom

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    args = _parse()
    with tempfile.TemporaryDirectory(prefix="ichlabel-bench-") as tmp:
        work = Path(tmp)
        scans = _make_phantoms(work / "phantoms", args)
        files = sorted(p for scan in scans for p in scan.iterdir())
        print(f"phantoms: {len(files)} slices in {len(scans)} scans, {args.size}x{args.size}")
        baseline = [_baseline(files) for _ in range(args.repeats)]
        print(
            f"baseline pydicom read+write: median {statistics.median(baseline):.0f} slices/s "
            f"(runs: {', '.join(f'{r:.0f}' for r in baseline)})"
        )
        for processes in args.processes:
            rates, totals = [], []
            for repeat in range(args.repeats):
                per_process, total = _import_run(
                    work / f"run-{processes}-{repeat}", scans, processes
                )
                rates.extend(per_process)
                totals.append(total)
            print(
                f"import, {processes} process(es): median {statistics.median(rates):.0f} "
                f"slices/s per process, {statistics.median(totals):.0f} slices/s in all "
                f"(target >= 175 per process)"
            )


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=8)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    return parser.parse_args()


def _make_phantoms(out: Path, args) -> list[Path]:
    """The phantom scan folders (truth.json beside them is not imported)."""
    from annotations.phantoms import write_phantoms

    written = write_phantoms(out, scans=args.scans, seed=7, size=args.size, center="bench")
    return [scan.directory for scan in written]


def _baseline(files: list[Path]) -> float:
    started = time.perf_counter()
    for path in files:
        ds = pydicom.dcmread(path)
        ds.save_as(io.BytesIO())
    return len(files) / (time.perf_counter() - started)


def _import_run(run_dir: Path, scans: list[Path], processes: int) -> tuple[list[float], float]:
    """Import the scans split over ``processes`` concurrent commands into one fresh database."""
    env = _env(run_dir)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    groups = [[str(scan) for scan in scans[i::processes]] for i in range(processes)]
    children = [
        subprocess.Popen(
            [sys.executable, "manage.py", "import_dicom", *dirs, "--center", f"bench{i}", "--json"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i, dirs in enumerate(groups)
    ]
    reports = [json.loads(child.communicate()[0]) for child in children]
    for report in reports:
        if report["rejected"] or report["imported_slices"] == 0:
            raise SystemExit(f"import failed: {report['rejected'][:3]}")
    # Import time as each command measured it (from its first file to its last), so Django's
    # start-up (about a second per process) is left out of both figures.
    per_process = [r["imported_slices"] / r["duration_s"] for r in reports]
    slowest = max(r["duration_s"] for r in reports)
    return per_process, sum(r["imported_slices"] for r in reports) / slowest


def _env(run_dir: Path) -> dict:
    run_dir.mkdir(parents=True)
    env = dict(
        os.environ, ICHLABEL_DATA_DIR=str(run_dir), DJANGO_SETTINGS_MODULE="ichlabel.settings"
    )
    base_url = os.environ.get("DATABASE_URL")
    if base_url:
        name = f"ichlabel_bench_{run_dir.name.replace('-', '_')}"
        subprocess.run(["psql", base_url, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
        subprocess.run(["psql", base_url, "-qc", f"CREATE DATABASE {name}"], check=True)
        env["DATABASE_URL"] = base_url.rsplit("/", 1)[0] + "/" + name
    return env


if __name__ == "__main__":
    main()
