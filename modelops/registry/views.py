"""The pages of one model version (Table 2) and of a comparison."""

import json
from collections.abc import Mapping, Sequence

from django.shortcuts import get_object_or_404

from modelops.builds.views import build_card_context
from modelops.metrics import HEMORRHAGE_CLASSES
from modelops.models import ModelStatus
from modelops.pages import (
    ModelOpsPage,
    class_label,
    config_keys,
    config_rows,
    config_text,
    criterion_text,
    estimate_text,
    number_or_none,
    percent,
    render_page,
)
from modelops.registry.evaluation import split_names
from modelops.registry.selectors import model_version_list, model_version_summaries
from modelops.registry.services import TRANSITIONS
from modelops.releases.views import release_card_context
from modelops.saliency.views import saliency_form_context

# The paper's Table 2 columns, in its order: (key in ClassReportRow.as_dict, heading).
TABLE2_COLUMNS = (
    ("accuracy", "Accuracy"),
    ("sensitivity", "Sensitivity"),
    ("specificity", "Specificity"),
    ("precision", "Precision"),
    ("f1", "F1"),
    ("auroc", "AUROC"),
)


# The headline figures of a comparison (evaluation.headline_metrics), all "higher is better".
COMPARE_METRICS = (
    ("auroc", "AUROC"),
    ("sensitivity", "Sensitivity"),
    ("specificity", "Specificity"),
    ("accuracy", "Accuracy"),
    ("f1", "F1"),
)


METHOD_NAMES = {
    "wilson": "Wilson score interval",
    "clopper-pearson": "Clopper–Pearson exact interval",
    "delong": "DeLong's method",
    "bootstrap": "percentile bootstrap",
}


MAX_COMPARED = 6


def table2(evaluation: Mapping) -> list[dict]:
    """Per split, one row per hemorrhage class with the paper's Table 2 columns formatted,
    the confusion matrix and the ROC curve's presence."""
    splits = evaluation.get("splits") or {}
    out = []
    for name in split_names(splits):
        body = splits[name]
        rows = []
        for row in body.get("rows", []):
            rows.append(
                {
                    "cls": row["hemorrhage_class"],
                    "label": class_label(row["hemorrhage_class"]),
                    "n_positive": row["n_positive"],
                    "n_negative": row["n_negative"],
                    "cells": [
                        (key, estimate_text(row.get(key))) for key, _heading in TABLE2_COLUMNS
                    ],
                    "npv": estimate_text(row.get("npv")),
                    "tp": row["tp"],
                    "fp": row["fp"],
                    "tn": row["tn"],
                    "fn": row["fn"],
                    "threshold": row.get("threshold"),
                }
            )
        out.append({"name": name, "scans": body.get("scans"), "rows": rows})
    return out


def threshold_rows(evaluation: Mapping) -> list[dict]:
    thresholds = evaluation.get("thresholds") or {}
    classes = evaluation.get("classes") or list(thresholds)
    return [
        {
            "cls": cls,
            "label": class_label(cls),
            "value": number_or_none(thresholds[cls].get("value")),
            "criterion": criterion_text(str(thresholds[cls].get("criterion", ""))),
            "sensitivity": percent(thresholds[cls].get("validation_sensitivity")),
            "specificity": percent(thresholds[cls].get("validation_specificity")),
        }
        for cls in classes
        if cls in thresholds
    ]


def methods_note(evaluation: Mapping) -> str:
    methods = evaluation.get("methods") or {}
    if not methods:
        return ""
    confidence = number_or_none(methods.get("confidence")) or 0.95

    def name(key: str) -> str:
        value = str(methods.get(key, ""))
        return METHOD_NAMES.get(value, value)

    return (
        f"Figures are point estimates with {confidence * 100:g}% confidence intervals: "
        f"proportions (accuracy, sensitivity, specificity, precision) by the "
        f"{name('proportions')}, F1 by the {name('f1')}, AUROC by {name('auroc')}."
    )


def comparison(versions: Sequence) -> dict:
    """Configuration keys (marked where the versions differ) and, per split and class, the
    headline figures with the best value of each row marked."""
    config = []
    for key in config_keys(version.config or {} for version in versions):
        values = [(version.config or {}).get(key, None) for version in versions]
        config.append(
            {
                "key": key,
                "values": ["—" if v is None else config_text(v) for v in values],
                "differs": len({json.dumps(v) for v in values}) > 1,
            }
        )
    splits = split_names(split for version in versions for split in (version.metrics or {}))
    metric_rows = []
    for split in splits:
        for cls in HEMORRHAGE_CLASSES:
            for key, heading in COMPARE_METRICS:
                values = [
                    number_or_none(((version.metrics or {}).get(split) or {}).get(cls, {}).get(key))
                    for version in versions
                ]
                present = [value for value in values if value is not None]
                # a best only where the versions differ
                best = max(present) if len(set(present)) > 1 else None
                metric_rows.append(
                    {
                        "split": split,
                        "cls": cls,
                        "label": class_label(cls),
                        "metric": key,
                        "heading": heading,
                        "cells": [
                            (percent(value), best is not None and value == best) for value in values
                        ],
                    }
                )
    return {"config": config, "metrics": metric_rows}


def _ids(text: str) -> list[int]:
    ids = []
    for part in text.split(","):
        part = part.strip()
        if part.isdigit() and int(part) not in ids:
            ids.append(int(part))
    return ids


class ModelVersionView(ModelOpsPage):
    """A model's evaluation report laid out like the paper's Table 2, its thresholds, confusion
    matrices and ROC curves (drawn by the script), Approve / Retire for ML engineers, and the
    release of its output to readers for coordinators."""

    def get(self, request, version_id: int):
        version = get_object_or_404(model_version_list(), pk=version_id)
        evaluation = version.evaluation or {}
        splits = evaluation.get("splits") or {}
        roc = {
            "classes": evaluation.get("classes") or list(HEMORRHAGE_CLASSES),
            "splits": {name: splits[name].get("roc") or {} for name in split_names(splits)},
        }
        context = {
            "may_act": self.may_act(),
            "version": version,
            "snapshot": version.snapshot,
            "ground_truth": version.snapshot.ground_truth,
            "config": config_rows(version.config or {}),
            "columns": [heading for _key, heading in TABLE2_COLUMNS],
            "splits": table2(evaluation),
            "thresholds": threshold_rows(evaluation),
            "threshold_split": evaluation.get("threshold_split", "validation"),
            "methods_note": methods_note(evaluation),
            "roc_data": roc,
            "transitions": sorted(TRANSITIONS[ModelStatus(version.status)]),
            **saliency_form_context(version),
            **release_card_context(version=version, user=request.user),
            **build_card_context(version),
        }
        return render_page(request, "modelops/version.html", context)


class ModelCompareView(ModelOpsPage):
    """Model versions side by side: provenance, configuration (differences marked) and the
    headline figures per split and class with the best of each row marked."""

    def get(self, request):
        # "?ids=1,2" from the workspace's script, "?ids=1&ids=2" from its form without one
        ids = _ids(",".join(request.GET.getlist("ids")))[:MAX_COMPARED]
        found = {version.pk: version for version in model_version_summaries().filter(pk__in=ids)}
        versions = [found[pk] for pk in ids if pk in found]
        context = {
            "versions": versions,
            "missing": [pk for pk in ids if pk not in found],
            "max_compared": MAX_COMPARED,
            **comparison(versions),
        }
        return render_page(request, "modelops/compare.html", context)
