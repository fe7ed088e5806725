"""Drift of a deployed model's scores: each week's scan scores against a reference sample (the
validation split's scores the thresholds were frozen on), by the two-sample Kolmogorov-Smirnov
test.

A week is flagged when it has at least ``min_scans`` scores and the test's p-value is below
``alpha`` (0.01 by default: a study watches many weeks, and a flag should mean something). The
KS statistic D (the largest gap between the two empirical distributions) says how large the
shift is; the median and quartiles say in which direction.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import numpy as np

DEFAULT_ALPHA = 0.01
DEFAULT_MIN_SCANS = 10


@dataclass(frozen=True)
class ScoreSummary:
    n: int
    median: float
    q1: float
    q3: float


@dataclass(frozen=True)
class WeekDrift:
    week: date  # its Monday
    scores: ScoreSummary
    ks_statistic: float
    p_value: float
    shifted: bool

    def as_dict(self) -> dict:
        return {**asdict(self), "week": self.week.isoformat()}


def summary(scores: Sequence[float] | np.ndarray) -> ScoreSummary:
    values = _scores(scores, "scores")
    q1, median, q3 = np.percentile(values, [25, 50, 75]) if values.size else (np.nan,) * 3
    return ScoreSummary(int(values.size), float(median), float(q1), float(q3))


def weekly_drift(
    reference: Sequence[float] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    days: Sequence[date],
    *,
    alpha: float = DEFAULT_ALPHA,
    min_scans: int = DEFAULT_MIN_SCANS,
) -> list[WeekDrift]:
    """One entry per week (Monday to Sunday) that has scores, oldest first; ``days[i]`` is the
    day ``scores[i]`` was scored."""
    from scipy import stats  # local: importing scipy.stats takes 1-2 s; web start-up skips it

    baseline = _scores(reference, "reference")
    values = _scores(scores, "scores")
    if len(days) != values.size:
        raise ValueError(f"{values.size} scores but {len(days)} days")
    if baseline.size == 0:
        raise ValueError("the reference has no scores")
    mondays = np.array([day - timedelta(days=day.weekday()) for day in days])
    out = []
    for week in sorted(set(mondays.tolist())):
        chosen = values[mondays == week]
        test = stats.ks_2samp(chosen, baseline)
        statistic, p_value = float(test.statistic), float(test.pvalue)
        shifted = chosen.size >= min_scans and p_value < alpha
        out.append(WeekDrift(week, summary(chosen), statistic, p_value, shifted))
    return out


def _scores(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float).reshape(-1)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite numbers")
    return array
