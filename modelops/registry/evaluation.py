"""The evaluation report of a trained model, laid out like the paper's Table 2.

Plain NumPy on top of ``modelops.metrics``: per split and class, the confusion matrix,
sensitivity, specificity, precision, NPV, accuracy and F1 with 95% CIs, AUROC with its CI, and
the ROC curve. Thresholds are chosen on the validation split (Youden's J by default) and then
applied unchanged to every split, as a study must: the test set never tunes the model.
"""

from collections.abc import Iterable, Mapping

import numpy as np

from modelops.metrics import (
    CLOPPER_PEARSON,
    DELONG,
    HEMORRHAGE_CLASSES,
    TARGET_SENSITIVITY,
    WILSON,
    YOUDEN,
    choose_threshold,
    class_report,
    roc_curve,
)
from modelops.ml.snapshot_format import SPLITS

FALLBACK_THRESHOLD = 0.5


# ROC curves are thinned to this many points for the report (the AUROC uses every score).
ROC_POINTS = 200


def evaluation_report(
    splits: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    threshold_split: str = "validation",
    criterion: str = YOUDEN,
    target_sensitivity: float | None = None,
    proportion_method: str = WILSON,
    auroc_method: str = DELONG,
    seed: int = 0,
) -> dict:
    """``splits`` maps a split name to (labels, scores), both (scans, 6) in
    ``HEMORRHAGE_CLASSES`` order. Returns a JSON-ready report."""
    if threshold_split not in splits:
        raise ValueError(f"thresholds are chosen on {threshold_split!r}, which has no scans")
    thresholds = _thresholds(
        *splits[threshold_split], criterion=criterion, target_sensitivity=target_sensitivity
    )
    methods = {"proportion_method": proportion_method, "auroc_method": auroc_method, "seed": seed}
    report = frozen_threshold_report(
        splits, {name: entry["value"] for name, entry in thresholds.items()}, **methods
    )
    # The threshold split's scan scores: the reference a deployed model's scores are held
    # against (drift, modelops.metrics.drift).
    reference = np.asarray(splits[threshold_split][1], dtype=float)
    return {
        **report,
        "threshold_split": threshold_split,
        "thresholds": thresholds,
        "reference_scores": {"split": threshold_split, "scores": reference.round(5).tolist()},
    }


def frozen_threshold_report(
    splits: Mapping[str, tuple[np.ndarray, np.ndarray]],
    cuts: Mapping[str, float],
    *,
    proportion_method: str = WILSON,
    auroc_method: str = DELONG,
    seed: int = 0,
) -> dict:
    """The report of ``splits`` at thresholds frozen before (``cuts``: class -> value), e.g. a
    deployed model's prospective scans at the thresholds it was chosen with."""
    if proportion_method not in (WILSON, CLOPPER_PEARSON):
        raise ValueError(f"unknown proportion method {proportion_method!r}")
    report_splits = {}
    for name in split_names(splits):
        labels, scores = (np.asarray(a) for a in splits[name])
        rows = class_report(
            labels.astype(int),
            scores.astype(float),
            cuts,
            proportion_method=proportion_method,
            auroc_method=auroc_method,
            seed=seed,
        )
        report_splits[name] = {
            "scans": int(labels.shape[0]),
            "rows": [row.as_dict() for row in rows],
            "roc": {
                cls: _thinned_roc(labels[:, i], scores[:, i])
                for i, cls in enumerate(HEMORRHAGE_CLASSES)
            },
        }
    return {
        "classes": list(HEMORRHAGE_CLASSES),
        "methods": {
            "proportions": proportion_method,
            "auroc": auroc_method,
            "f1": "bootstrap",
            "confidence": 0.95,
        },
        "splits": report_splits,
    }


def headline_metrics(report: Mapping) -> dict:
    """Point figures per split and class, for the registry's lists and comparisons."""
    figures = {}
    for split, body in report["splits"].items():
        figures[split] = {
            row["hemorrhage_class"]: {
                key: (row[key] or {}).get("value")
                for key in ("auroc", "sensitivity", "specificity", "accuracy", "f1")
            }
            for row in body["rows"]
        }
    return figures


def _thresholds(
    labels: np.ndarray, scores: np.ndarray, *, criterion: str, target_sensitivity: float | None
) -> dict:
    chosen = {}
    for i, cls in enumerate(HEMORRHAGE_CLASSES):
        try:
            chosen[cls] = choose_threshold(
                np.asarray(labels)[:, i].astype(int),
                np.asarray(scores)[:, i],
                criterion=criterion,
                target_sensitivity=target_sensitivity if criterion == TARGET_SENSITIVITY else None,
            ).as_dict()
        except ValueError as error:
            # A class absent (or always present) on validation cannot tune its threshold.
            chosen[cls] = {
                "value": FALLBACK_THRESHOLD,
                "criterion": f"fixed {FALLBACK_THRESHOLD} ({error})",
                "validation_sensitivity": None,
                "validation_specificity": None,
            }
    return chosen


def _thinned_roc(labels: np.ndarray, scores: np.ndarray) -> dict | None:
    if labels.size == 0 or labels.min() == labels.max():
        return None  # one class only: no curve
    curve = roc_curve(labels.astype(int), scores.astype(float))
    fpr, tpr = np.asarray(curve.fpr), np.asarray(curve.tpr)
    if fpr.size > ROC_POINTS:
        keep = np.unique(np.linspace(0, fpr.size - 1, ROC_POINTS).round().astype(int))
        fpr, tpr = fpr[keep], tpr[keep]
    return {"fpr": [round(float(v), 5) for v in fpr], "tpr": [round(float(v), 5) for v in tpr]}


def split_names(names: Iterable[str]) -> list[str]:
    """Train, validation, test first, then any other split by name."""
    rank = {name: index for index, name in enumerate(SPLITS)}
    return sorted(set(names), key=lambda name: (rank.get(name, len(rank)), name))
