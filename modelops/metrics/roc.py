"""Scores: AUROC with DeLong's or a bootstrap interval, and the ROC curve."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelops.metrics.estimates import (
    AUROC_METHODS,
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    DELONG,
    Estimate,
    _check_confidence,
    _json_number,
    _nan_estimate,
    _z,
)
from modelops.metrics.proportions import _labels

## Scores: AUROC, ROC curve, threshold


def _scored(y_true: Sequence[int], scores: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    truth = _labels(y_true, "y_true")
    values = np.asarray(scores, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"scores must be one-dimensional, got shape {values.shape}")
    if values.shape != truth.shape:
        raise ValueError(
            f"y_true and scores differ in length: {truth.shape[0]} vs {values.shape[0]}"
        )
    if not np.isfinite(values).all():
        raise ValueError("scores must be finite (no NaN or infinity)")
    return truth, values


def delong_auc_variance(y_true: Sequence[int], scores: Sequence[float]) -> tuple[float, float]:
    """AUROC and DeLong's variance of it, by the midrank algorithm of Sun & Xu (2014).

    With m positives X and n negatives Y, midranks within X (tx), within Y (ty) and in the pooled
    sample (tz) give the structural components V10_i = (tz_i - tx_i) / n and
    V01_j = 1 - (tz_j - ty_j) / m; AUROC is mean(V10) and its variance var(V10)/m + var(V01)/n
    (sample variances). Ties count one half. O((m + n) log(m + n)).
    Returns (NaN, NaN) without positives or negatives; the variance is NaN with fewer than two of
    either."""
    truth, values = _scored(y_true, scores)
    positives, negatives = values[truth], values[~truth]
    m, n = positives.size, negatives.size
    if m == 0 or n == 0:
        return math.nan, math.nan
    from scipy import stats  # local: importing scipy.stats takes 1-2 s; web start-up skips it

    tx = stats.rankdata(positives)
    ty = stats.rankdata(negatives)
    tz = stats.rankdata(np.concatenate([positives, negatives]))
    v10 = (tz[:m] - tx) / n
    v01 = 1.0 - (tz[m:] - ty) / m
    auc = float(v10.mean())
    if m < 2 or n < 2:
        return auc, math.nan
    variance = float(np.var(v10, ddof=1) / m + np.var(v01, ddof=1) / n)
    return auc, variance


def _auc_midrank(positives: np.ndarray, negatives: np.ndarray) -> float:
    from scipy import stats  # local: importing scipy.stats takes 1-2 s; web start-up skips it

    m, n = positives.size, negatives.size
    ranks = stats.rankdata(np.concatenate([positives, negatives]))
    return float((ranks[:m].sum() - m * (m + 1) / 2) / (m * n))


def auroc_point(y_true: Sequence[int], scores: Sequence[float]) -> float | None:
    """The AUROC alone (midranks: ties count one half), None without both classes: what a
    training loop reports each epoch."""
    truth = np.asarray(y_true).astype(bool)
    values = np.asarray(scores, dtype=np.float64)
    if truth.all() or not truth.any():
        return None
    return _auc_midrank(values[truth], values[~truth])


def auroc_ci(
    y_true: Sequence[int],
    scores: Sequence[float],
    *,
    method: str = DELONG,
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Estimate:
    """AUROC with DeLong's interval (normal on the AUROC scale, clipped to [0, 1]) or a stratified
    percentile bootstrap. NaN without positives or negatives. Perfect separation gives DeLong a
    zero variance, so its interval is the single point 1 (or 0)."""
    _check_confidence(confidence)
    if method not in AUROC_METHODS:
        raise ValueError(f"unknown AUROC method {method!r}; use one of {AUROC_METHODS}")
    truth, values = _scored(y_true, scores)
    positives, negatives = values[truth], values[~truth]
    if method == DELONG:
        auc, variance = delong_auc_variance(truth, values)
        if math.isnan(auc) or math.isnan(variance):
            return Estimate(auc, math.nan, math.nan, DELONG, confidence)
        half = _z(confidence) * math.sqrt(variance)
        return Estimate(auc, max(0.0, auc - half), min(1.0, auc + half), DELONG, confidence)
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    label = f"bootstrap-percentile(stratified, resamples={resamples}, seed={seed})"
    if positives.size == 0 or negatives.size == 0:
        return _nan_estimate(label, confidence)
    auc = _auc_midrank(positives, negatives)
    rng = np.random.default_rng(seed)
    replicates = np.empty(resamples)
    for index in range(resamples):
        replicates[index] = _auc_midrank(
            rng.choice(positives, positives.size), rng.choice(negatives, negatives.size)
        )
    alpha = 1 - confidence
    lower, upper = np.quantile(replicates, [alpha / 2, 1 - alpha / 2])
    return Estimate(auc, float(lower), float(upper), label, confidence)


@dataclass(frozen=True)
class RocCurve:
    """ROC points, one per distinct score, thresholds descending; the first point is (0, 0) at an
    infinite threshold. A scan is positive when its score is >= the threshold."""

    fpr: tuple[float, ...]
    tpr: tuple[float, ...]
    thresholds: tuple[float, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "fpr": list(self.fpr),
            "tpr": list(self.tpr),
            "thresholds": [_json_number(t) for t in self.thresholds],
        }


def roc_curve(y_true: Sequence[int], scores: Sequence[float]) -> RocCurve:
    """Every ROC point (no points dropped). Rates are NaN where a class is absent."""
    truth, values = _scored(y_true, scores)
    if values.size == 0:
        raise ValueError("a ROC curve needs at least one scored scan")
    order = np.argsort(-values, kind="mergesort")
    sorted_values, sorted_truth = values[order], truth[order]
    # the last index of each run of equal scores
    ends = np.r_[np.flatnonzero(np.diff(sorted_values)), sorted_values.size - 1]
    tps = np.cumsum(sorted_truth)[ends]
    fps = (ends + 1) - tps
    m, n = int(truth.sum()), int((~truth).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = np.r_[0, tps] / m if m else np.full(ends.size + 1, np.nan)
        fpr = np.r_[0, fps] / n if n else np.full(ends.size + 1, np.nan)
    thresholds = np.r_[np.inf, sorted_values[ends]]
    return RocCurve(
        fpr=tuple(float(x) for x in fpr),
        tpr=tuple(float(x) for x in tpr),
        thresholds=tuple(float(x) for x in thresholds),
    )
