"""Benchmark: how long a Django process of ICHLabel takes to start.

Every web worker, Celery worker and management command pays for what ``django.setup()`` and
the URL conf import (the system checks that commands run import the URL conf too). Times, each
as a fresh process, the median of several runs of:

- the baseline: ``python -c "import django; django.setup()"`` with the project's settings;
- ``manage.py check``;
- ``manage.py import_dicom`` of one small phantom scan (31 slices of 128x128) into a fresh
  SQLite data directory: start-up, checks, pydicom and the import itself.

Target: ``check`` and ``import_dicom`` each under 2 s on the 2-core machine. It also lists the
heavy libraries that importing the URL conf loads (none is expected).

Python compiles every module it imports from source when no bytecode cache can be written or
found (``PYTHONDONTWRITEBYTECODE`` set and no ``.pyc`` files installed), which costs more than
the imports themselves. The figures are measured as this environment runs Python, then again
with a bytecode cache in a temporary folder (``PYTHONPYCACHEPREFIX``, filled by a first
untimed run), as an installation with compiled bytecode starts.

    uv run python bench/startup.py [--repeats 5]

Uses the embedded defaults in temporary folders (SQLite, local files): DATABASE_URL,
CELERY_BROKER_URL and ICHLABEL_DATA_DIR are left out of the children's environment.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SETTINGS = "ichlabel.settings"
HEAVY = ("scipy.stats", "highdicom", "pydicom", "keras", "tensorflow", "jax", "sklearn", "torch")
BASELINE = "import django; django.setup()"
URLCONF_PROBE = (
    "import json, sys, django; django.setup(); import ichlabel.urls; "
    f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
)


def main() -> None:
    args = _parse()
    with tempfile.TemporaryDirectory(prefix="ichlabel-bench-startup-") as tmp:
        work = Path(tmp)
        scan_dir = _phantom_scan(work / "phantoms")
        template = work / "template"
        _run([sys.executable, "manage.py", "migrate", "-v0"], _env(template))
        heavy = json.loads(_run([sys.executable, "-c", URLCONF_PROBE], _env(template)))
        print(f"heavy libraries the URL conf loads: {', '.join(heavy) or 'none'}")
        modes = [("as this environment runs Python", None)]
        if not args.no_cache_run:
            modes.append(("with a bytecode cache", work / "pycache"))
        for title, pycache in modes:
            print(f"{title}{_mode_note(pycache)}, medians of {args.repeats} runs:")
            figures = _measure(work, template, scan_dir, pycache, args.repeats)
            for name, times in figures.items():
                print(
                    f"  {name:<12} {statistics.median(times):5.2f} s  "
                    f"(runs: {', '.join(f'{t:.2f}' for t in times)})"
                )


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--no-cache-run", action="store_true", help="skip the runs with a bytecode cache"
    )
    return parser.parse_args()


def _mode_note(pycache: Path | None) -> str:
    if pycache is not None:
        return ""
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return " (PYTHONDONTWRITEBYTECODE is set: modules without a .pyc are compiled each time)"
    return " (bytecode caching as Python's defaults)"


def _measure(
    work: Path, template: Path, scan_dir: Path, pycache: Path | None, repeats: int
) -> dict[str, list[float]]:
    commands = {
        "baseline": lambda data: [sys.executable, "-c", BASELINE],
        "check": lambda data: [sys.executable, "manage.py", "check"],
        "import_dicom": lambda data: [
            sys.executable,
            "manage.py",
            "import_dicom",
            str(scan_dir),
            "--center",
            "bench",
            "--json",
        ],
    }
    figures: dict[str, list[float]] = {name: [] for name in commands}
    runs = [-1, *range(repeats)] if pycache is not None else list(range(repeats))
    for run in runs:  # run -1 fills the bytecode cache and is not timed
        for name, command in commands.items():
            data = work / f"data-{'cached' if pycache else 'plain'}-{run}-{name}"
            shutil.copytree(template, data)
            env = _env(data, pycache)
            started = time.perf_counter()
            output = _run(command(data), env)
            elapsed = time.perf_counter() - started
            if name == "import_dicom":
                _check_import(output)
            if run >= 0:
                figures[name].append(elapsed)
    return figures


def _phantom_scan(out: Path) -> Path:
    """One small phantom scan's folder (truth.json beside it is not imported)."""
    from annotations.phantoms import write_phantoms

    written = write_phantoms(out, scans=1, seed=1, size=128, center="bench")
    return written[0].directory


def _check_import(output: str) -> None:
    report = json.loads(output)
    if report["rejected"] or report["imported_slices"] == 0:
        raise SystemExit(f"import failed: {report['rejected'][:3]}")


def _env(data_dir: Path, pycache: Path | None = None) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "ICHLABEL_DATA_DIR"}
    }
    env.update(ICHLABEL_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE=SETTINGS)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def _run(command: list[str], env: dict) -> str:
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed:\n{result.stderr[-2000:]}")
    return result.stdout


if __name__ == "__main__":
    main()
