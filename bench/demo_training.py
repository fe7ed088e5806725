"""Benchmark: the README's demo training, from phantom DICOM to an evaluated model, on CPU.

What an ML engineer does in the browser on `scripts/run`, in one process on a fresh SQLite
installation in a temporary folder: import and label the training-demo cohort (four training
centers, one held-out validation center; 128 px phantoms), snapshot its frozen ground truth at
128 px, train the default configuration (small backbone, two stages) and evaluate. Prints each
phase's wall time and the held-out center's scan-level AUROC for "any" hemorrhage with its CI.
Target (issue: demo training): AUROC >= 0.95 within 10 minutes on this machine.

    uv run python bench/demo_training.py [--scans-per-center 24] [--config '{"epochs": 4}']
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scans-per-center", type=int, default=24)
    parser.add_argument("--config", default="{}", help="JSON overrides of the default config")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    folder = fresh_installation("ichlabel-demo-training-")
    figures = run(args.scans_per_center, json.loads(args.config))
    print(json.dumps(figures, indent=2))
    if not args.keep:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


def fresh_installation(prefix: str) -> Path:
    """Django set up on a new SQLite database and data folder (a temporary folder), migrated;
    jobs run in this process. Returns the folder."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.update(
        ICHLABEL_DATA_DIR=str(folder),
        DJANGO_SETTINGS_MODULE="ichlabel.settings",
        CELERY_BROKER_URL="memory://",
    )
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return folder


def run(scans_per_center: int, overrides: dict) -> dict:
    from django.contrib.auth.models import User

    from annotations.demo import demo_users_create
    from ichlabel.jobs import registry
    from modelops.demo import training_demo_seed
    from modelops.snapshots import services as snapshots
    from modelops.training import services as training

    registry.send_task = lambda *args, **kwargs: None  # built in this process instead
    demo_users_create()
    engineer = User.objects.get(username="mlengineer")
    started = time.perf_counter()
    version = training_demo_seed(scans_per_center=scans_per_center).version
    seeded = time.perf_counter()
    snapshot, _ = snapshots.snapshot_request(
        ground_truth_id=version.pk, image_size=128, created_by=engineer
    )
    snapshot = snapshots.snapshot_build(snapshot_id=snapshot.pk)
    built = time.perf_counter()
    run = training.training_run_start(
        snapshot_id=snapshot.pk, config={"image_size": 128, **overrides}, created_by=engineer
    )
    run = training.training_run_execute(run_id=str(run.pk))
    trained = time.perf_counter()
    if run.status != "succeeded":
        raise SystemExit(f"run {run.status}: {run.message}")
    rows = {row["hemorrhage_class"]: row for row in _validation_rows(run)}
    auroc = rows["any"]["auroc"]
    return {
        "scans": version.scan_count,
        "slices": version.slice_count,
        "seed_import_label_freeze_s": round(seeded - started, 1),
        "snapshot_s": round(built - seeded, 1),
        "train_and_evaluate_s": round(trained - built, 1),
        "ml_engineer_wall_s (snapshot + training)": round(trained - seeded, 1),
        "config": run.config,
        "held_out_center_auroc_any": auroc,
        "held_out_center_auroc_by_class": {
            k: (v["auroc"] or {}).get("value") for k, v in rows.items()
        },
        "target": "AUROC >= 0.95 within 600 s",
    }


def _validation_rows(run) -> list[dict]:
    return run.model_version.evaluation["splits"]["validation"]["rows"]


if __name__ == "__main__":
    main()
