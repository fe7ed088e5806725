"""Benchmark: a model version's disagreement list at the paper's scale, on PostgreSQL.

Builds the development set as ``bench/consensus.py`` does (5,211 validation scans read three
times, 49,968 training scans read once, 2,255,271 slices, every slice labelled in every read),
freezes it as ground truth, registers a model version on it (rows only: no training) whose
scores of all 55,179 scans are stored in SQL (noisy functions of the truth, so a few percent of
scans disagree per class), and then times, as medians of ``--repeats`` runs:
- ``disagreement_list`` of every disagreement (ground truth and single reads),
- the same filtered to the validation split, and to single reads only,
- the API's first page (50 rows with each scan's second-read state), through the test client.
Building takes minutes on a small machine and is reported apart from the timed part.

    uv run python bench/disagreements.py [--repeats 3]

PostgreSQL from $BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/), which must
allow creating a database; the database ichlabel_bench_disagreements_<pid> is dropped at the end.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from consensus import DEVELOPMENT, VALIDATION, _build, _users, scratch_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--profile", action="store_true", help="profile one API call too")
    args = parser.parse_args()
    with scratch_database("disagreements"):
        _run(args)


def _run(args) -> None:
    from django.db import connection

    from annotations.ground_truth.services import ground_truth_freeze

    coordinator, readers = _users()
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        _build(cursor, readers, rng, "validation", VALIDATION["scans"], VALIDATION["slices"], 3)
        scans = DEVELOPMENT["scans"] - VALIDATION["scans"]
        slices = DEVELOPMENT["slices"] - VALIDATION["slices"]
        _build(cursor, readers, rng, "train", scans, slices, 1)
    truth = ground_truth_freeze(name="bench", created_by=coordinator)
    version = _model_version(truth, coordinator, rng)
    print(
        f"built {truth.scan_count:,} scans / {truth.slice_count:,} slices, froze them and "
        f"stored a model's scores in {time.perf_counter() - started:.1f} s (not timed below)"
    )
    _time(args, version, coordinator)


def _model_version(truth, user, rng):
    """A registered version on the frozen truth (rows only) and its scores of every scan."""
    from django.db import connection

    from annotations.ground_truth.services import table
    from annotations.models import GroundTruthScanLabel
    from annotations.vocabulary import HEMORRHAGE_CLASSES
    from modelops.ml.config import TrainingConfig
    from modelops.models import (
        SCORE_COLUMNS,
        DatasetSnapshot,
        ModelScanScore,
        ModelVersion,
        TrainingRun,
    )

    snapshot = DatasetSnapshot.objects.create(
        ground_truth=truth,
        name="bench",
        image_size=128,
        slice_mm=5.0,
        windows=[[50, 100], [50, 130], [150, 300]],
        key_sha256="0" * 64,
        files_sha256="1" * 64,
        status="succeeded",
        created_by=user,
    )
    config = TrainingConfig(image_size=128).as_dict()
    run = TrainingRun.objects.create(
        name="bench", snapshot=snapshot, config=config, status="succeeded", created_by=user
    )
    thresholds = {name: {"value": 0.5} for name in HEMORRHAGE_CLASSES}
    version = ModelVersion.objects.create(
        name="bench-1",
        run=run,
        snapshot=snapshot,
        artifact="modelops/models/bench.keras",
        artifact_sha256="0" * 64,
        artifact_bytes=0,
        config=config,
        evaluation={"thresholds": thresholds},
    )
    # A score per class: the truth pushed to 0.8 or 0.2 plus noise; about 3% cross 0.5.
    columns = ", ".join(f'"{name}"' for name in SCORE_COLUMNS)
    values = ", ".join(
        f"LEAST(1, GREATEST(0, CASE WHEN {'any_ich' if name == 'any' else name} THEN 0.8 "
        f"ELSE 0.2 END + 0.16 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())))"
        for name in HEMORRHAGE_CLASSES
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [float(rng.random()) * 2 - 1])
        cursor.execute(
            f"INSERT INTO {table(ModelScanScore)} (model_version_id, scan_id, split, {columns}, "
            f"scored_at) SELECT %s, scan_id, split, {values}, now() "
            f"FROM {table(GroundTruthScanLabel)} WHERE version_id = %s",
            [version.pk, truth.pk],
        )
        cursor.execute(f"ANALYZE {table(ModelScanScore)}")
    return version


def _time(args, version, coordinator) -> None:
    from django.test import Client

    from modelops.disagreements.selectors import disagreement_list
    from modelops.models import SCORE_COLUMNS, ModelScanScore

    # Baseline in the same process: reading every score of the version, the least any list
    # drawn from the scores pays.
    seconds = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        rows = list(
            ModelScanScore.objects.filter(model_version=version).values_list(
                "scan_id", "split", *SCORE_COLUMNS
            )
        )
        seconds.append(time.perf_counter() - started)
    print(
        f"baseline, the version's {len(rows):,} scores read: median "
        f"{statistics.median(seconds):.2f} s (runs: {', '.join(f'{s:.2f}' for s in seconds)})"
    )
    cases = {
        "every disagreement": {},
        "validation split": {"split": "validation"},
        "single reads only": {"source": "single_read"},
    }
    for title, filters in cases.items():
        seconds = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            found = disagreement_list(version=version, **filters)
            seconds.append(time.perf_counter() - started)
        counts = {name: sum(kinds.values()) for name, kinds in found.counts.items()}
        print(
            f"{title}: {len(found.items):,} disagreements ({counts}); median "
            f"{statistics.median(seconds):.2f} s (runs: {', '.join(f'{s:.2f}' for s in seconds)})"
        )
    client = Client()
    client.force_login(coordinator)
    url = f"/api/v1/modelops/models/{version.pk}/disagreements/?limit=50"
    seconds = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        response = client.get(url, HTTP_HOST="127.0.0.1")
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content[:300]
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(client.get, url, HTTP_HOST="127.0.0.1")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    print(
        f"API first page (50 rows with second-read states): median "
        f"{statistics.median(seconds):.2f} s (runs: {', '.join(f'{s:.2f}' for s in seconds)})"
    )


if __name__ == "__main__":
    main()
