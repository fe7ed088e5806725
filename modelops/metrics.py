"""Per-class diagnostic metrics with 95% confidence intervals, scan by scan.

Plain Python, NumPy and SciPy: no Django, no Keras, so services, `bench/` and notebooks share it.

Vocabulary
- A confusion matrix counts scans: `tp` (reference positive, predicted positive), `fp`, `tn`, `fn`.
- Every figure is an `Estimate`: the point value, the interval's bounds, the confidence level and
  the `method` that produced the interval, so a report always says how it was computed.
- Proportions (sensitivity, specificity, precision, NPV, accuracy) take the Wilson score interval by
  default, or Clopper-Pearson's exact interval (`method="clopper-pearson"`).
- F1 is no binomial proportion; its interval is a seeded percentile bootstrap that resamples the
  four cells of the matrix from a multinomial with the observed cell frequencies.
- AUROC takes DeLong's interval, computed with the O(n log n) midrank algorithm of Sun & Xu (2014),
  or a seeded bootstrap that resamples positives and negatives separately (stratified).
- A threshold is chosen on validation scores (Youden's J or a target sensitivity) and is then
  applied unchanged to test scores: a scan is positive when its score is >= the threshold.
- `class_report` gives one `ClassReportRow` per hemorrhage class (any, IPH, IVH, SAH, SDH, EDH),
  with the columns of the reference paper's Table 2 (Alis et al. 2022) plus NPV and F1.

Undefined figures (a sensitivity without reference positives, an AUROC with one class only) are NaN,
never an exception; malformed input (negative counts, labels other than 0/1, non-finite scores,
arrays of different lengths) raises `ValueError` with a message.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

HEMORRHAGE_CLASSES = ("any", "iph", "ivh", "sah", "sdh", "edh")

WILSON = "wilson"
CLOPPER_PEARSON = "clopper-pearson"
PROPORTION_METHODS = (WILSON, CLOPPER_PEARSON)
DELONG = "delong"
BOOTSTRAP = "bootstrap"
AUROC_METHODS = (DELONG, BOOTSTRAP)

DEFAULT_CONFIDENCE = 0.95
DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 0


def _json_number(value: float) -> float | None:
    """NaN and infinities become None, so `as_dict()` output is valid JSON."""
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class Estimate:
    """A point value with its confidence interval and the method that produced the interval."""

    value: float
    lower: float
    upper: float
    method: str
    confidence: float = DEFAULT_CONFIDENCE

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": _json_number(self.value),
            "lower": _json_number(self.lower),
            "upper": _json_number(self.upper),
            "method": self.method,
            "confidence": self.confidence,
        }


def _nan_estimate(method: str, confidence: float) -> Estimate:
    return Estimate(math.nan, math.nan, math.nan, method, confidence)


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(1 - (1 - confidence) / 2))


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
    m, n = positives.size, negatives.size
    ranks = stats.rankdata(np.concatenate([positives, negatives]))
    return float((ranks[:m].sum() - m * (m + 1) / 2) / (m * n))


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


YOUDEN = "youden"
TARGET_SENSITIVITY = "target-sensitivity"


@dataclass(frozen=True)
class Threshold:
    """A decision threshold chosen on validation data, with the figures it had there. Apply it
    unchanged to test data with `apply`."""

    value: float
    criterion: str
    validation_sensitivity: float
    validation_specificity: float

    def apply(self, scores: Sequence[float]) -> np.ndarray:
        """0/1 predictions: 1 where score >= the threshold."""
        return (np.asarray(scores, dtype=float) >= self.value).astype(int)

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": _json_number(self.value),
            "criterion": self.criterion,
            "validation_sensitivity": _json_number(self.validation_sensitivity),
            "validation_specificity": _json_number(self.validation_specificity),
        }


def choose_threshold(
    y_true: Sequence[int],
    scores: Sequence[float],
    *,
    criterion: str = YOUDEN,
    target_sensitivity: float | None = None,
) -> Threshold:
    """The threshold on validation scores that maximises Youden's J = sensitivity + specificity - 1
    (ties go to the highest threshold), or the highest threshold reaching `target_sensitivity`.
    Raises ValueError when validation data lacks positives or negatives."""
    curve = roc_curve(y_true, scores)
    tpr, fpr = np.array(curve.tpr), np.array(curve.fpr)
    if np.isnan(tpr).any() or np.isnan(fpr).any():
        raise ValueError("choosing a threshold needs both positive and negative validation scans")
    # index 0 is the infinite threshold, which predicts nothing positive
    candidates = np.arange(1, tpr.size)
    if criterion == YOUDEN:
        if target_sensitivity is not None:
            raise ValueError("target_sensitivity applies only to the target-sensitivity criterion")
        j = tpr[candidates] - fpr[candidates]
        best = int(candidates[np.argmax(j)])
        label = YOUDEN
    elif criterion == TARGET_SENSITIVITY:
        if target_sensitivity is None or not 0 < target_sensitivity <= 1:
            raise ValueError(f"target_sensitivity must lie in (0, 1], got {target_sensitivity}")
        reaching = candidates[tpr[candidates] >= target_sensitivity - 1e-12]
        best = int(reaching[0])
        label = f"{TARGET_SENSITIVITY}({target_sensitivity:g})"
    else:
        raise ValueError(
            f"unknown criterion {criterion!r}; use {YOUDEN!r} or {TARGET_SENSITIVITY!r}"
        )
    return Threshold(
        value=curve.thresholds[best],
        criterion=label,
        validation_sensitivity=float(tpr[best]),
        validation_specificity=float(1 - fpr[best]),
    )


## Per-class report, laid out like the paper's Table 2


@dataclass(frozen=True)
class ClassReportRow:
    """One row of the evaluation report: counts, threshold figures and AUROC of one class."""

    hemorrhage_class: str
    n_positive: int
    n_negative: int
    tp: int
    fp: int
    tn: int
    fn: int
    sensitivity: Estimate
    specificity: Estimate
    precision: Estimate
    npv: Estimate
    accuracy: Estimate
    f1: Estimate
    auroc: Estimate | None = None
    threshold: float | None = field(default=None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "hemorrhage_class": self.hemorrhage_class,
            "n_positive": self.n_positive,
            "n_negative": self.n_negative,
            "tp": self.tp,
            "fp": self.fp,
            "tn": self.tn,
            "fn": self.fn,
            "sensitivity": self.sensitivity.as_dict(),
            "specificity": self.specificity.as_dict(),
            "precision": self.precision.as_dict(),
            "npv": self.npv.as_dict(),
            "accuracy": self.accuracy.as_dict(),
            "f1": self.f1.as_dict(),
            "auroc": None if self.auroc is None else self.auroc.as_dict(),
            "threshold": None if self.threshold is None else _json_number(self.threshold),
        }


def report_row(
    hemorrhage_class: str,
    cm: ConfusionMatrix,
    *,
    auroc: Estimate | None = None,
    threshold: float | None = None,
    method: str = WILSON,
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> ClassReportRow:
    """A report row from a confusion matrix alone (AUROC needs scores, so it is passed in)."""
    figures = binary_metrics(
        cm, method=method, confidence=confidence, resamples=resamples, seed=seed
    )
    return ClassReportRow(
        hemorrhage_class=hemorrhage_class,
        n_positive=cm.n_positive,
        n_negative=cm.n_negative,
        tp=cm.tp,
        fp=cm.fp,
        tn=cm.tn,
        fn=cm.fn,
        sensitivity=figures.sensitivity,
        specificity=figures.specificity,
        precision=figures.precision,
        npv=figures.npv,
        accuracy=figures.accuracy,
        f1=figures.f1,
        auroc=auroc,
        threshold=threshold,
    )


def class_report(
    y_true: np.ndarray,
    scores: np.ndarray,
    thresholds: Mapping[str, float | Threshold] | float,
    *,
    classes: Sequence[str] = HEMORRHAGE_CLASSES,
    proportion_method: str = WILSON,
    auroc_method: str = DELONG,
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> tuple[ClassReportRow, ...]:
    """One row per class from scan-level labels and scores, both shaped (scans, classes) with
    columns in `classes` order. `thresholds` maps each class to a threshold frozen on validation
    data (a number or a `Threshold`), or is one number for every class."""
    truth = np.asarray(y_true)
    values = np.asarray(scores, dtype=float)
    if truth.ndim != 2 or values.ndim != 2:
        raise ValueError("y_true and scores must be two-dimensional: (scans, classes)")
    if truth.shape != values.shape:
        raise ValueError(f"y_true and scores differ in shape: {truth.shape} vs {values.shape}")
    if truth.shape[1] != len(classes):
        raise ValueError(
            f"expected {len(classes)} columns ({', '.join(classes)}), got {truth.shape[1]}"
        )
    rows = []
    for column, name in enumerate(classes):
        if isinstance(thresholds, Mapping):
            if name not in thresholds:
                raise ValueError(f"no threshold given for class {name!r}")
            chosen = thresholds[name]
        else:
            chosen = thresholds
        cut = chosen.value if isinstance(chosen, Threshold) else float(chosen)
        predicted = (values[:, column] >= cut).astype(int)
        cm = ConfusionMatrix.from_predictions(truth[:, column], predicted)
        auroc = auroc_ci(
            truth[:, column],
            values[:, column],
            method=auroc_method,
            confidence=confidence,
            resamples=resamples,
            seed=seed,
        )
        rows.append(
            report_row(
                name,
                cm,
                auroc=auroc,
                threshold=cut,
                method=proportion_method,
                confidence=confidence,
                resamples=resamples,
                seed=seed,
            )
        )
    return tuple(rows)


def choose_thresholds(
    y_true: np.ndarray,
    scores: np.ndarray,
    *,
    classes: Sequence[str] = HEMORRHAGE_CLASSES,
    criterion: str = YOUDEN,
    target_sensitivity: float | None = None,
) -> dict[str, Threshold]:
    """One validation threshold per class (columns in `classes` order), frozen for the test set."""
    truth = np.asarray(y_true)
    values = np.asarray(scores, dtype=float)
    if truth.shape != values.shape or truth.ndim != 2 or truth.shape[1] != len(classes):
        raise ValueError(f"y_true and scores must both be shaped (scans, {len(classes)})")
    return {
        name: choose_threshold(
            truth[:, column],
            values[:, column],
            criterion=criterion,
            target_sensitivity=target_sensitivity,
        )
        for column, name in enumerate(classes)
    }
