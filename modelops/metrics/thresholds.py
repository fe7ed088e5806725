"""Decision thresholds chosen on validation scores (Youden's J or a target sensitivity)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from annotations.vocabulary import HEMORRHAGE_CLASSES
from modelops.metrics.estimates import _json_number
from modelops.metrics.roc import roc_curve

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
