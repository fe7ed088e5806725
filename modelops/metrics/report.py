"""The per-class report, one `ClassReportRow` per hemorrhage class, like the paper's Table 2."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from annotations.vocabulary import HEMORRHAGE_CLASSES
from modelops.metrics.estimates import (
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    DELONG,
    WILSON,
    Estimate,
    _json_number,
)
from modelops.metrics.proportions import ConfusionMatrix, binary_metrics
from modelops.metrics.roc import auroc_ci
from modelops.metrics.thresholds import Threshold

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
