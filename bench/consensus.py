"""Benchmark: ground-truth freeze plus reader agreement at the paper's scale, on PostgreSQL.

Builds the study in a fresh database, in two steps, straight in SQL (INSERT ... SELECT over
generate_series; no ORM object per row):
1. the validation set: 5,211 scans, 212,873 slices, each scan read by its primary reader and
   cross-read by two more (five neuroradiologists in rotation), every slice labelled in every
   read; about 17% of scans hold hemorrhage (a run of 2-12 positive slices, one or more
   subtypes), so a few percent of slices are positive; readers miss 8% of positive slice
   labels and add one on 0.005% of negative ones, so they agree most of the time;
2. the rest of the development set: 49,968 training scans read once (the primary read is the
   ground truth), bringing the database to 55,179 scans and 2,255,271 slices.
After each step it times ``ground_truth_freeze`` (all final scans) and ``agreement_report``
(the validation split, then every slice-level read) with 1,000 bootstrap replicates, as
medians of ``--repeats`` runs (one run at full scale by default: each
freezes 2.25 M rows). Targets (DESIGN.md): validation set <= 10 s, all slices <= 60 s.
Building takes minutes on a small machine and is reported apart from the timed part.

    uv run python bench/consensus.py [--scale validation|all|both] [--repeats 3]
        [--full-repeats 1] [--n-boot 1000]

``--scale all`` builds both sets but times only the full one (quicker iterations).

PostgreSQL from $BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/), which must
allow creating a database; the database ichlabel_bench_consensus_<pid> is dropped at the end.
"""

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VALIDATION = {"scans": 5_211, "slices": 212_873}
DEVELOPMENT = {"scans": 55_179, "slices": 2_255_271, "patients": 48_070}
READERS = 5
SCAN_POSITIVE = 0.2
# Share of positive scans with each subtype (a scan can have several).
SUBTYPE_RATE = {"iph": 0.5, "ivh": 0.25, "sah": 0.4, "sdh": 0.35, "edh": 0.07}
MISS = 0.08  # a reader leaves out a true subtype on a slice
FALSE_ALARM = 0.00005  # a reader marks a subtype on a slice that has none


@contextlib.contextmanager
def scratch_database(label: str) -> Iterator[None]:
    """A migrated database of its own on the PostgreSQL server (``BENCH_DATABASE_URL``), with
    Django set up on it for the block; dropped afterwards."""
    server_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/")
    name = f"ichlabel_bench_{label}_{os.getpid()}"
    subprocess.run(["psql", server_url + "postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    try:
        os.environ.update(
            DJANGO_SETTINGS_MODULE="ichlabel.settings",
            DATABASE_URL=server_url + name,
            LOG_LEVEL="WARNING",
        )
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=os.environ, check=True
        )
        import django

        django.setup()
        yield
    finally:
        from django.db import connections

        connections.close_all()
        subprocess.run(
            ["psql", server_url + "postgres", "-qc", f"DROP DATABASE {name}"], check=True
        )


def main() -> None:
    args = _parse()
    with scratch_database("consensus"):
        _run(args)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs, validation set")
    parser.add_argument("--full-repeats", type=int, default=1, help="timed runs, all slices")
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument(
        "--scale",
        choices=("validation", "all", "both"),
        default="both",
        help="which scale to time (all builds the validation set too, untimed)",
    )
    parser.add_argument(
        "--validation-only", action="store_true", help="the same as --scale validation"
    )
    args = parser.parse_args()
    if args.validation_only:
        args.scale = "validation"
    return args


def _run(args) -> None:
    from django.db import connection

    coordinator, readers = _users()
    rng = np.random.default_rng(args.seed)
    with connection.cursor() as cursor:
        started = time.perf_counter()
        _build(cursor, readers, rng, "validation", VALIDATION["scans"], VALIDATION["slices"], 3)
        build_s = time.perf_counter() - started
    print(
        f"built validation set: {VALIDATION['scans']:,} scans, {VALIDATION['slices']:,} slices "
        f"x 3 reads in {build_s:.1f} s (not timed below)"
    )
    if args.scale != "all":
        _time(
            args, coordinator, "validation set", split="validation", repeats=args.repeats, target=10
        )
    if args.scale == "validation":
        return
    scans = DEVELOPMENT["scans"] - VALIDATION["scans"]
    slices = DEVELOPMENT["slices"] - VALIDATION["slices"]
    with connection.cursor() as cursor:
        started = time.perf_counter()
        _build(cursor, readers, rng, "train", scans, slices, 1)
        build_s = time.perf_counter() - started
    print(
        f"built development set: +{scans:,} training scans, +{slices:,} slices x 1 read "
        f"in {build_s:.1f} s (not timed below)"
    )
    _time(args, coordinator, "all slices", split=None, repeats=args.full_repeats, target=60)


def _users():
    from django.contrib.auth.models import Group, User

    coordinator = User.objects.create_user("bench-coordinator")
    coordinator.groups.add(Group.objects.get(name="coordinator"))
    group = Group.objects.get(name="neuroradiologist")
    readers = []
    for number in range(1, READERS + 1):
        reader = User.objects.create_user(f"bench-neuro{number}")
        reader.groups.add(group)
        readers.append(reader.pk)
    return coordinator, readers


# ## Building


def _tables() -> dict[str, str]:
    from annotations.ground_truth.services import table
    from annotations.models import Center, Patient, Read, Scan, Slice, SliceLabel

    models = {
        "center": Center,
        "patient": Patient,
        "scan": Scan,
        "slice": Slice,
        "read": Read,
        "label": SliceLabel,
    }
    return {key: table(model) for key, model in models.items()}


def _slice_counts(rng, n_scans: int, n_slices: int) -> np.ndarray:
    """Slices per scan between 28 and 54 (5 mm head CT), summing to ``n_slices`` exactly."""
    counts = rng.integers(28, 55, size=n_scans)
    while (gap := n_slices - int(counts.sum())) != 0:
        step = np.sign(gap)
        room = (counts < 54) if step > 0 else (counts > 28)
        size = min(abs(gap), int(room.sum()))
        chosen = rng.choice(np.flatnonzero(room), size=size, replace=False)
        counts[chosen] += step
    return counts


def _build(cursor, readers, rng, split: str, n_scans: int, n_slices: int, reads: int) -> None:
    """One split's scans, slices, completed reads and slice labels, set-based. Rows are
    consistent by construction, so foreign-key triggers are off while loading
    (session_replication_role); the timed part runs with them on."""
    t = _tables()
    cursor.execute("SET synchronous_commit = off")
    cursor.execute("SET session_replication_role = replica")
    cursor.execute(
        "CREATE OR REPLACE FUNCTION bench_u(bigint) RETURNS float8 LANGUAGE sql IMMUTABLE "
        "AS $$ SELECT (hashint8($1) & 2147483647)::float8 / 2147483648 $$"
    )
    centers = ["Center E"] if split == "validation" else [f"Center {c}" for c in "ABCD"]
    cursor.execute(
        f"INSERT INTO {t['center']} (name, split, created_at) "
        f"SELECT unnest(%s::text[]), %s, now() RETURNING id",
        [centers, split],
    )
    center_ids = [row[0] for row in cursor.fetchall()]
    cursor.execute(
        f"""INSERT INTO {t["patient"]} (pseudonym, created_at)
            SELECT 'P' || lpad(g::text, 8, '0'), now() FROM generate_series(1, %s) g
            ON CONFLICT (pseudonym) DO NOTHING""",
        [DEVELOPMENT["patients"]],
    )
    cursor.execute(f"SELECT min(id), count(*) FROM {t['patient']}")
    first_patient, n_patients = cursor.fetchone()
    cursor.execute(f"SELECT COALESCE(max(id), 0) FROM {t['scan']}")
    offset = cursor.fetchone()[0]
    counts = _slice_counts(rng, n_scans, n_slices).tolist()
    cursor.execute(
        f"""INSERT INTO {t["scan"]} (patient_id, center_id, split, study_instance_uid,
                series_instance_uid, series_description, manufacturer, age_band, sex,
                slice_count, rows, columns, slice_spacing_mm, image_orientation_patient,
                flags, warnings, created_at, source_link)
            SELECT %(patient)s + (%(offset)s + c.i) %% %(patients)s,
                   (%(centers)s::int[])[1 + c.i %% %(n_centers)s], %(split)s,
                   '2.25.9' || (%(offset)s + c.i), '2.25.9' || (%(offset)s + c.i) || '.1',
                   'HEAD NON CONTRAST', 'BENCH', '60-69', 'F', c.n, 512, 512, 5.0,
                   '[1, 0, 0, 0, 1, 0]', '[]', '[]', now(), ''
            FROM unnest(%(counts)s::int[]) WITH ORDINALITY AS c(n, i)""",
        {
            "patient": first_patient,
            "patients": n_patients,
            "offset": offset,
            "centers": center_ids,
            "n_centers": len(center_ids),
            "split": split,
            "counts": counts,
        },
    )
    cursor.execute(
        f"""INSERT INTO {t["slice"]} (scan_id, position_index, sop_instance_uid,
                instance_number, z_position_mm, image_position_patient, slice_thickness_mm,
                pixel_spacing_row_mm, pixel_spacing_column_mm, rows, columns, rescale_slope,
                rescale_intercept, storage_key, file_size, sha256)
            SELECT sc.id, g, sc.series_instance_uid || '.' || (g + 1), g + 1, 5.0 * g, '[]',
                   5.0, 0.45, 0.45, 512, 512, 1.0, -1024.0,
                   'bench/' || sc.id || '/' || g || '.dcm', 524288, repeat('0', 64)
            FROM {t["scan"]} sc, generate_series(0, sc.slice_count - 1) g
            WHERE sc.split = %s""",
        [split],
    )
    # Reads: the primary reader and (validation) two cross-readers, five readers in rotation;
    # finished over half a year so agreement by week has something to show.
    cursor.execute(
        f"""INSERT INTO {t["read"]} (scan_id, reader_id, status, assigned_at, started_at,
                finished_at, time_spent_s, last_slice_index, viewed_slices, flag_postoperative,
                flag_artifact, flag_mass_lesion, flag_other, note, version, kind, level,
                order_key, withdrawn_reason)
            SELECT sc.id, (%(readers)s::int[])[1 + (sc.id + k) %% %(n_readers)s], 'completed',
                   timestamptz '2026-01-01' + k * interval '1 second',
                   timestamptz '2026-01-05' + (sc.id %% 182) * interval '1 day'
                       + k * interval '1 hour',
                   timestamptz '2026-01-05' + (sc.id %% 182) * interval '1 day'
                       + k * interval '1 hour' + interval '10 minutes',
                   600, sc.slice_count - 1, '[]', false, false, false, false, '', 0,
                   CASE WHEN k = 0 THEN 'primary' ELSE 'cross' END, 'slice',
                   hashint8(sc.id * 8 + k), ''
            FROM {t["scan"]} sc, generate_series(0, %(reads)s - 1) k
            WHERE sc.split = %(split)s""",
        {"readers": readers, "n_readers": len(readers), "reads": reads, "split": split},
    )
    # Truth per scan: positive scans hold a run of 2-12 slices with their subtypes.
    subtypes = list(SUBTYPE_RATE)
    truth = ", ".join(
        f"sc.pos AND bench_u(sc.id * 16 + {n}) < {rate} AS {name}"
        for n, (name, rate) in enumerate(SUBTYPE_RATE.items(), start=2)
    )
    said = ", ".join(
        f"CASE WHEN x.in_run AND x.{name} THEN bench_u(x.key + {n}) >= {MISS} "
        f"ELSE bench_u(x.key + {n}) < {FALSE_ALARM} END AS {name}"
        for n, name in enumerate(subtypes)
    )
    cursor.execute(
        f"""INSERT INTO {t["label"]} (read_id, slice_id, {", ".join(subtypes)}, no_hemorrhage,
                version, updated_at)
            SELECT y.read_id, y.slice_id, {", ".join(f"y.{s}" for s in subtypes)},
                   NOT ({" OR ".join(f"y.{s}" for s in subtypes)}), 1, now()
            FROM (
                SELECT x.read_id, x.slice_id, {said}
                FROM (
                    SELECT r.id AS read_id, s.id AS slice_id,
                           (s.id * 8 + r.reader_id) * 8 AS key,
                           s.position_index >= sc.run_start
                               AND s.position_index < sc.run_start + sc.run_len AS in_run,
                           {", ".join(f"sc.{s}" for s in subtypes)}
                    FROM {t["read"]} r
                    JOIN (
                        SELECT sc.id, {truth},
                               floor(bench_u(sc.id * 16 + 1) * (sc.slice_count - 12))::int
                                   AS run_start,
                               2 + floor(bench_u(sc.id * 16 + 7) * 11)::int AS run_len
                        FROM (SELECT id, slice_count, bench_u(id * 16) < {SCAN_POSITIVE} AS pos
                              FROM {t["scan"]} WHERE split = %s) sc
                    ) sc ON sc.id = r.scan_id
                    JOIN {t["slice"]} s ON s.scan_id = r.scan_id
                ) x
            ) y""",
        [split],
    )
    cursor.execute("SET session_replication_role = origin")
    for key in ("scan", "slice", "read", "label"):
        cursor.execute(f"ANALYZE {t[key]}")


# ## Timing


def _time(args, coordinator, title: str, *, split, repeats: int, target: float) -> None:
    from annotations.agreement.selectors import agreement_report
    from annotations.ground_truth.services import ground_truth_freeze

    freeze_s, agreement_s, total_s = [], [], []
    for run in range(repeats):
        started = time.perf_counter()
        version = ground_truth_freeze(name=f"bench {title} {run}", created_by=coordinator)
        frozen = time.perf_counter()
        report = agreement_report(split=split, n_boot=args.n_boot, seed=args.seed)
        done = time.perf_counter()
        freeze_s.append(frozen - started)
        agreement_s.append(done - frozen)
        total_s.append(done - started)
        counts = version.counts
        _drop_version(version.pk)
    print(
        f"{title}: froze {version.scan_count:,} scans / {version.slice_count:,} slices "
        f"({counts['scans']['positive']['any']:,} scans, "
        f"{counts['slices']['positive']['any']:,} slices positive for any ICH); agreement over "
        f"{report.scan_count:,} scans, {report.item_count:,} slices, {report.read_count:,} reads"
    )
    for row in report.table:
        if row.label == "any" or row.level == "scan":
            s = row.statistics
            print(
                f"  {row.label:4} {row.level:5} fleiss {_fmt(s.fleiss_kappa)}  "
                f"alpha {_fmt(s.krippendorff_alpha)}  agree {_fmt(s.percent_agreement)}  "
                f"prevalence {s.prevalence.estimate:.3f}"
            )
    print(f"  weeks with agreement: {len(report.over_time)}")
    total = statistics.median(total_s)
    print(
        f"{title}: freeze median {statistics.median(freeze_s):.2f} s, agreement "
        f"({args.n_boot} bootstrap replicates) median {statistics.median(agreement_s):.2f} s, "
        f"together median {total:.2f} s (runs: {', '.join(f'{x:.2f}' for x in total_s)}); "
        f"target <= {target} s: {'met' if total <= target else 'MISSED'}"
    )


def _fmt(estimate) -> str:
    if np.isnan(estimate.estimate):
        return "n/a"
    return f"{estimate.estimate:.3f} [{estimate.ci_low:.3f}, {estimate.ci_high:.3f}]"


def _drop_version(version_id: int) -> None:
    """Remove a timed version so the next run starts alike (frozen rows are for the
    benchmark's eyes only; the app never deletes them)."""
    from django.db import connection

    from annotations.ground_truth.services import table
    from annotations.models import GroundTruthScanLabel, GroundTruthSliceLabel, GroundTruthVersion

    with connection.cursor() as cursor:
        for model in (GroundTruthSliceLabel, GroundTruthScanLabel):
            cursor.execute(f"DELETE FROM {table(model)} WHERE version_id = %s", [version_id])
        cursor.execute(f"DELETE FROM {table(GroundTruthVersion)} WHERE id = %s", [version_id])
        cursor.execute(f"VACUUM ANALYZE {table(GroundTruthSliceLabel)}")


if __name__ == "__main__":
    main()
