"""Benchmark: the Obuchowski-Rockette MRMC analysis of a reader study at a large study's scale.

Generates binormal confidence ratings (10 readers x 500 cases x 3 modalities, a third of the
cases positive, each reader with a random skill and each modality a little better than the
last), then times ``or_analysis`` with the empirical AUC (jackknife covariances; random readers
and random cases, fixed readers, fixed cases) against the same run's baseline, the
(modalities, readers) AUC matrix alone. Pure NumPy/SciPy. Target: well under a second.

    uv run python bench/mrmc.py [--readers 10] [--cases 500] [--modalities 3] [--repeats 7]
"""

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from modelops.reader_study.mrmc import empirical_auc, or_analysis  # noqa: E402


def main() -> None:
    args = _parse()
    rng = np.random.default_rng(args.seed)
    truth = rng.random(args.cases) < 1 / 3
    ratings = _binormal(truth, args.modalities, args.readers, rng)
    result = or_analysis(ratings, truth)
    print(
        f"synthetic: {args.modalities} modalities x {args.readers} readers x {args.cases} cases "
        f"({truth.sum()} positive); mean AUCs " + ", ".join(f"{m:.3f}" for m in result.means)
    )
    rrrc = result.rrrc.test
    print(
        f"RRRC F({rrrc.df1}, {rrrc.df2:.1f}) = {rrrc.statistic:.2f}, p = {rrrc.p_value:.3g}; "
        f"FRRC X2 = {result.frrc.test.statistic:.2f}, p = {result.frrc.test.p_value:.3g}; "
        f"RRFC F = {result.rrfc.test.statistic:.2f}, p = {result.rrfc.test.p_value:.3g}"
    )
    baseline = _median_ms(lambda: empirical_auc.value(ratings, truth), args.repeats)
    analysis = _median_ms(lambda: or_analysis(ratings, truth), args.repeats)
    print(f"baseline, AUC matrix alone: median {baseline:.1f} ms over {args.repeats} runs")
    print(f"OR analysis (RRRC + FRRC + RRFC): median {analysis:.1f} ms over {args.repeats} runs")


def _binormal(truth: np.ndarray, modalities: int, readers: int, rng) -> np.ndarray:
    """(modalities, readers, cases): N(0, 1) for negatives, N(mu, 1) for positives, with a
    case effect shared by every reading (cases differ in difficulty: the correlation the OR
    model's covariances describe)."""
    n = truth.size
    case_effect = rng.normal(0, 0.7, size=n)
    skill = rng.normal(1.5, 0.3, size=readers)
    shift = np.linspace(0, 0.4, modalities)
    mu = skill[None, :, None] + shift[:, None, None]
    noise = rng.normal(size=(modalities, readers, n))
    return np.where(truth, mu, 0.0) + case_effect + noise


def _median_ms(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=10)
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--modalities", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


if __name__ == "__main__":
    main()
