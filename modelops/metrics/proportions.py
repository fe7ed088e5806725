"""Confusion matrices and their proportions (Wilson or Clopper-Pearson), binary metrics and F1."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelops.metrics.estimates import (
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    PROPORTION_METHODS,
    WILSON,
    Estimate,
    _check_confidence,
    _nan_estimate,
    _z,
)

## Confusion matrix


@dataclass(frozen=True)
class ConfusionMatrix:
    """Scan counts of one class at one threshold."""

    tp: int
    fp: int
    tn: int
    fn: int

    def __post_init__(self) -> None:
        for name in ("tp", "fp", "tn", "fn"):
            count = getattr(self, name)
            if isinstance(count, bool) or int(count) != count or count < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {count!r}")
            object.__setattr__(self, name, int(count))

    @classmethod
    def from_predictions(cls, y_true: Sequence[int], y_pred: Sequence[int]) -> ConfusionMatrix:
        """Counts from reference labels and predicted labels, both 0/1 per scan."""
        truth = _labels(y_true, "y_true")
        predicted = _labels(y_pred, "y_pred")
        if truth.shape != predicted.shape:
            raise ValueError(
                f"y_true and y_pred differ in length: {truth.shape[0]} vs {predicted.shape[0]}"
            )
        return cls(
            tp=int(np.sum(truth & predicted)),
            fp=int(np.sum(~truth & predicted)),
            tn=int(np.sum(~truth & ~predicted)),
            fn=int(np.sum(truth & ~predicted)),
        )

    @property
    def n_positive(self) -> int:
        return self.tp + self.fn

    @property
    def n_negative(self) -> int:
        return self.tn + self.fp

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.tn + self.fn

    def as_dict(self) -> dict[str, int]:
        return {"tp": self.tp, "fp": self.fp, "tn": self.tn, "fn": self.fn}


def _labels(values: Sequence[int], name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size and not np.isin(array, (0, 1)).all():
        raise ValueError(f"{name} must hold only 0 and 1 (or booleans)")
    return array.astype(bool)


## Proportions


def proportion_ci(
    successes: int,
    total: int,
    *,
    method: str = WILSON,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Estimate:
    """successes/total with a Wilson score or Clopper-Pearson exact interval; NaN if total is 0."""
    _check_confidence(confidence)
    if method not in PROPORTION_METHODS:
        raise ValueError(f"unknown proportion method {method!r}; use one of {PROPORTION_METHODS}")
    if total < 0 or successes < 0 or successes > total:
        raise ValueError(f"need 0 <= successes <= total, got {successes} of {total}")
    if total == 0:
        return _nan_estimate(method, confidence)
    p = successes / total
    if method == WILSON:
        z = _z(confidence)
        denominator = 1 + z * z / total
        center = (p + z * z / (2 * total)) / denominator
        half = z / denominator * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
        lower, upper = max(0.0, center - half), min(1.0, center + half)
    else:
        from scipy import stats  # local: importing scipy.stats takes 1-2 s; web start-up skips it

        alpha = 1 - confidence
        lower = (
            0.0 if successes == 0 else stats.beta.ppf(alpha / 2, successes, total - successes + 1)
        )
        upper = (
            1.0
            if successes == total
            else stats.beta.ppf(1 - alpha / 2, successes + 1, total - successes)
        )
    return Estimate(p, float(lower), float(upper), method, confidence)


## Metrics of one confusion matrix


@dataclass(frozen=True)
class BinaryMetrics:
    """The threshold-dependent figures of one confusion matrix."""

    sensitivity: Estimate
    specificity: Estimate
    precision: Estimate
    npv: Estimate
    accuracy: Estimate
    f1: Estimate

    def as_dict(self) -> dict[str, Any]:
        return {
            "sensitivity": self.sensitivity.as_dict(),
            "specificity": self.specificity.as_dict(),
            "precision": self.precision.as_dict(),
            "npv": self.npv.as_dict(),
            "accuracy": self.accuracy.as_dict(),
            "f1": self.f1.as_dict(),
        }


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    denominator = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), np.nan)


def f1_ci(
    cm: ConfusionMatrix,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Estimate:
    """F1 = 2TP / (2TP + FP + FN) with a percentile bootstrap interval.

    Each replicate draws n scans from a multinomial over (TP, FP, TN, FN) with the observed
    frequencies; replicates whose F1 is undefined (no TP, FP or FN) are dropped. NaN when the
    observed F1 is undefined."""
    _check_confidence(confidence)
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    method = f"bootstrap-percentile(multinomial, resamples={resamples}, seed={seed})"
    value = float(_f1(np.array(cm.tp), np.array(cm.fp), np.array(cm.fn)))
    if math.isnan(value):
        return _nan_estimate(method, confidence)
    rng = np.random.default_rng(seed)
    cells = np.array([cm.tp, cm.fp, cm.tn, cm.fn]) / cm.n
    draws = rng.multinomial(cm.n, cells, size=resamples)
    replicates = _f1(draws[:, 0], draws[:, 1], draws[:, 3])
    replicates = replicates[~np.isnan(replicates)]
    alpha = 1 - confidence
    lower, upper = np.quantile(replicates, [alpha / 2, 1 - alpha / 2])
    return Estimate(value, float(lower), float(upper), method, confidence)


def binary_metrics(
    cm: ConfusionMatrix,
    *,
    method: str = WILSON,
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> BinaryMetrics:
    """Sensitivity, specificity, precision (PPV), NPV and accuracy with `method`'s interval; F1 with
    a seeded bootstrap (see `f1_ci`)."""

    def proportion(successes: int, total: int) -> Estimate:
        return proportion_ci(successes, total, method=method, confidence=confidence)

    return BinaryMetrics(
        sensitivity=proportion(cm.tp, cm.tp + cm.fn),
        specificity=proportion(cm.tn, cm.tn + cm.fp),
        precision=proportion(cm.tp, cm.tp + cm.fp),
        npv=proportion(cm.tn, cm.tn + cm.fn),
        accuracy=proportion(cm.tp + cm.tn, cm.n),
        f1=f1_ci(cm, confidence=confidence, resamples=resamples, seed=seed),
    )
