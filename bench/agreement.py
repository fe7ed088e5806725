"""Benchmark: reader agreement with bootstrap CIs at the paper's validation-set scale.

Builds synthetic slice labels in memory (5,211 scans, 212,873 slices, 3 readers; the paper's
validation set), with a few percent of slices positive and readers who find about 90% of the
truly positive slices, then times ``agreement_table`` for the six labels at slice and scan
level with 1,000 bootstrap replicates over scans. Pure NumPy, no database.
Target: majority vote + agreement at this scale within 10 s (DESIGN.md).

    uv run python bench/agreement.py [--scans 5211] [--slices 212873] [--n-boot 1000] [--repeats 3]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotations.agreement.statistics import agreement_table  # noqa: E402

# Share of scans with each subtype and the reader behaviour; synthetic, loosely like a
# validation set with about a third of the scans positive.
SUBTYPE_SCAN_RATE = {"iph": 0.12, "ivh": 0.06, "sah": 0.10, "sdh": 0.08, "edh": 0.015}
READER_SENSITIVITY = 0.9  # per truly positive slice
READER_FALSE_POSITIVE = 0.0003  # per truly negative slice: about 1% of negative scans
READERS = ("primary", "cross_1", "cross_2")


def main() -> None:
    args = _parse()
    rng = np.random.default_rng(args.seed)
    groups = _scan_of_each_slice(args.scans, args.slices, rng)
    ratings = _reader_labels(groups, rng)
    print(
        f"synthetic: {args.slices} slices in {args.scans} scans x {len(READERS)} readers; "
        + ", ".join(f"{label} {ratings[label].mean():.1%}" for label in ratings)
        + " of slice ratings positive"
    )
    timings = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        rows = agreement_table(ratings, groups, READERS, n_boot=args.n_boot, seed=args.seed)
        timings.append(time.perf_counter() - start)
    for row in rows:
        s = row.statistics
        print(
            f"  {row.label:4} {row.level:5} fleiss {_fmt(s.fleiss_kappa)}  "
            f"alpha {_fmt(s.krippendorff_alpha)}  agree {_fmt(s.percent_agreement)}  "
            f"prevalence {s.prevalence.estimate:.3f}"
        )
    print(
        f"agreement_table, {len(ratings)} labels x 2 levels, {args.n_boot} bootstrap replicates: "
        f"median {statistics.median(timings):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in timings)}; target <= 10 s)"
    )


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=5211)
    parser.add_argument("--slices", type=int, default=212_873)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def _fmt(estimate) -> str:
    return f"{estimate.estimate:.3f} [{estimate.ci_low:.3f}, {estimate.ci_high:.3f}]"


def _scan_of_each_slice(n_scans: int, n_slices: int, rng: np.random.Generator) -> np.ndarray:
    """Scan id per slice; every scan gets at least 20 slices, the rest spread at random."""
    base = 20
    extra = rng.multinomial(n_slices - base * n_scans, np.full(n_scans, 1 / n_scans))
    return np.repeat(np.arange(n_scans), base + extra)


def _reader_labels(groups: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per label (n_slices, n_readers) 0/1 ratings; ``any`` is the OR of a reader's subtypes,
    as the database requires."""
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    sizes = np.diff(np.r_[starts, len(groups)])
    position = np.arange(len(groups)) - starts[groups]
    ratings = {}
    for label, rate in SUBTYPE_SCAN_RATE.items():
        truth = _bleed(rate, sizes, groups, position, rng)
        found = rng.random((len(groups), len(READERS))) < READER_SENSITIVITY
        false_alarm = rng.random((len(groups), len(READERS))) < READER_FALSE_POSITIVE
        ratings[label] = np.where(truth[:, None], found, false_alarm).astype(np.int8)
    return {"any": np.maximum.reduce(list(ratings.values())), **ratings}


def _bleed(
    rate: float, sizes: np.ndarray, groups: np.ndarray, position: np.ndarray, rng
) -> np.ndarray:
    """True slices of one subtype: in a share ``rate`` of scans, a run of 2-12 slices."""
    positive = rng.random(len(sizes)) < rate
    length = rng.integers(2, 13, size=len(sizes))
    first = (rng.random(len(sizes)) * np.maximum(sizes - length, 1)).astype(int)
    offset = position - first[groups]
    return positive[groups] & (offset >= 0) & (offset < length[groups])


if __name__ == "__main__":
    main()
