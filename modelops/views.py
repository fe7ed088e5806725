"""Page shells of the ML engineer's model operations: the workspace (/models/), one training
run (/models/runs/<id>/), a model version's evaluation report (/models/versions/<id>/) and a
side-by-side comparison of versions (/models/compare/?ids=1,2).

The tables come from modelops selectors and are rendered here, readable without scripts. The
page script (build/modelops.js) creates snapshots, starts and cancels runs, follows progress,
draws the loss and ROC curves and changes a model's status through the modelops API, then
re-renders the changed tables from these same views. ML engineers act; coordinators watch.
"""

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.utils.cache import add_never_cache_headers
from django.views import View

from annotations.models import JobStatus, Role
from annotations.permissions import user_has_role
from annotations.views import RoleRequiredMixin
from modelops import selectors
from modelops.evaluation import split_names
from modelops.metrics import HEMORRHAGE_CLASSES
from modelops.ml.config import TrainingConfig
from modelops.models import ACTIVE_STATUSES, ModelStatus
from modelops.services.registry import TRANSITIONS

PAGE_SIZE = 50
# The paper's Table 2 columns, in its order: (key in ClassReportRow.as_dict, heading).
TABLE2_COLUMNS = (
    ("accuracy", "Accuracy"),
    ("sensitivity", "Sensitivity"),
    ("specificity", "Specificity"),
    ("precision", "Precision"),
    ("f1", "F1"),
    ("auroc", "AUROC"),
)
# The headline figures of a comparison (modelops.evaluation.headline_metrics), all "higher is
# better".
COMPARE_METRICS = (
    ("auroc", "AUROC"),
    ("sensitivity", "Sensitivity"),
    ("specificity", "Specificity"),
    ("accuracy", "Accuracy"),
    ("f1", "F1"),
)
CLASS_LABELS = {"any": "Any", "iph": "IPH", "ivh": "IVH", "sah": "SAH", "sdh": "SDH", "edh": "EDH"}
METHOD_NAMES = {
    "wilson": "Wilson score interval",
    "clopper-pearson": "Clopper–Pearson exact interval",
    "delong": "DeLong's method",
    "bootstrap": "percentile bootstrap",
}
MAX_COMPARED = 6


def criterion_text(criterion: str) -> str:
    """ "youden" -> "Youden's J"; "target-sensitivity(0.95)" -> "target sensitivity 0.95"."""
    if criterion == "youden":
        return "Youden's J"
    if criterion.startswith("target-sensitivity(") and criterion.endswith(")"):
        return f"target sensitivity {criterion[len('target-sensitivity(') : -1]}"
    return criterion


## Number formats (the page script's modelops/format.ts writes the same)


def _number(value) -> float | None:
    """A finite float, or None for null, NaN and anything that is no number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def percent(value) -> str:
    """0.9834 -> "98.3%"; "—" where undefined."""
    number = _number(value)
    return "—" if number is None else f"{number * 100:.1f}%"


def estimate_text(estimate: Mapping | None) -> str:
    """An Estimate.as_dict() as "98.3% (97.9–98.6)"; "—" where undefined."""
    if not estimate:
        return "—"
    value = _number(estimate.get("value"))
    if value is None:
        return "—"
    lower, upper = _number(estimate.get("lower")), _number(estimate.get("upper"))
    interval = "" if lower is None or upper is None else f" ({lower * 100:.1f}–{upper * 100:.1f})"
    return f"{value * 100:.1f}%{interval}"


def class_label(name: str) -> str:
    return CLASS_LABELS.get(name, name.upper())


## Rows for the templates


def _auroc(metrics: Mapping, split: str, cls: str = "any") -> str | None:
    value = _number(((metrics or {}).get(split) or {}).get(cls, {}).get("auroc"))
    return None if value is None else percent(value)


def _snapshot_row(snapshot) -> dict:
    splits = (snapshot.manifest or {}).get("splits", {})
    return {
        "snapshot": snapshot,
        "splits": [(name, splits[name]) for name in split_names(splits)],
        "building": snapshot.status in ACTIVE_STATUSES,
        "cancelable": snapshot.status in (JobStatus.PENDING, JobStatus.RUNNING),
        "percent": (
            round(100 * snapshot.scans_done / snapshot.scans_total) if snapshot.scans_total else 0
        ),
    }


def _version_row(version) -> dict:
    return {
        "version": version,
        "validation_auroc": _auroc(version.metrics, "validation"),
        "test_auroc": _auroc(version.metrics, "test"),
    }


def config_text(value) -> str:
    """A configuration value as in its JSON: true/false, null, numbers, plain strings."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def config_keys(configs: Iterable[Mapping]) -> list[str]:
    """The keys of these configurations in TrainingConfig's field order (the database's JSON
    keeps no order), then any others by name."""
    present = {key for config in configs for key in config}
    known = [f.name for f in fields(TrainingConfig) if f.name in present]
    return known + sorted(present - set(known))


def _config_rows(config: Mapping) -> list[tuple[str, str]]:
    return [(key, config_text(config[key])) for key in config_keys([config])]


def history_table(history: Sequence[Mapping]) -> dict:
    """A run's per-epoch history as a table: stage and epoch first, then every other key in
    the order it first appears; numbers to four significant digits."""
    columns = ["stage", "epoch"]
    for entry in history:
        columns.extend(key for key in entry if key not in columns)

    def cell(value) -> str:
        if value is None:
            return "—"
        if isinstance(value, float):
            return "—" if not math.isfinite(value) else f"{value:.4g}"
        return str(value)

    return {"columns": columns, "rows": [[cell(e.get(c)) for c in columns] for e in history]}


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
            "value": _number(thresholds[cls].get("value")),
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
    confidence = _number(methods.get("confidence")) or 0.95

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
                    _number(((version.metrics or {}).get(split) or {}).get(cls, {}).get(key))
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


## Pages


def _page(request, template: str, context: dict):
    response = render(request, template, context)
    add_never_cache_headers(response)  # the script re-fetches the page to refresh its tables
    return response


class ModelOpsPage(RoleRequiredMixin, View):
    roles = (Role.ML_ENGINEER, Role.COORDINATOR)

    def may_act(self) -> bool:
        return user_has_role(self.request.user, Role.ML_ENGINEER)


class ModelsWorkspaceView(ModelOpsPage):
    """Dataset snapshots (and a form for a new one), the form that starts a training run, the
    runs with their progress, and the registry's model versions to open or compare."""

    def get(self, request):
        snapshots = list(selectors.snapshot_list())
        runs = Paginator(selectors.training_run_summaries(), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        versions = list(selectors.model_version_summaries())
        context = {
            "may_act": self.may_act(),
            "snapshots": [_snapshot_row(snapshot) for snapshot in snapshots],
            "ready_snapshots": [s for s in snapshots if s.status == JobStatus.SUCCEEDED],
            "snapshots_active": any(s.status in ACTIVE_STATUSES for s in snapshots),
            "runs": runs,
            "runs_active": any(run.status in ACTIVE_STATUSES for run in runs),
            "versions": [_version_row(version) for version in versions],
            "initial_models": [
                {
                    "pk": version.pk,
                    "name": version.name,
                    "status": version.status,
                    "config_json": json.dumps(version.config),
                }
                for version in versions
                if version.status != ModelStatus.RETIRED
            ],
        }
        return _page(request, "modelops/workspace.html", context)


class TrainingRunView(ModelOpsPage):
    """One run: status and progress, configuration, loss curves and the log; the script polls
    the run while it is not finished and offers Cancel while it may be canceled."""

    def get(self, request, run_id):
        run = get_object_or_404(selectors.training_run_list(), pk=run_id)
        version = getattr(run, "model_version", None)
        context = {
            "may_act": self.may_act(),
            "run": run,
            "version": version,
            "percent": round(100 * run.progress),
            "cancelable": run.status in (JobStatus.PENDING, JobStatus.RUNNING),
            "config": _config_rows(run.config or {}),
            "history": history_table(run.history or []),
        }
        return _page(request, "modelops/run.html", context)


class ModelVersionView(ModelOpsPage):
    """A model's evaluation report laid out like the paper's Table 2, its thresholds, confusion
    matrices and ROC curves (drawn by the script), and Approve / Retire for ML engineers."""

    def get(self, request, version_id: int):
        version = get_object_or_404(selectors.model_version_list(), pk=version_id)
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
            "config": _config_rows(version.config or {}),
            "columns": [heading for _key, heading in TABLE2_COLUMNS],
            "splits": table2(evaluation),
            "thresholds": threshold_rows(evaluation),
            "threshold_split": evaluation.get("threshold_split", "validation"),
            "methods_note": methods_note(evaluation),
            "roc_data": roc,
            "transitions": sorted(TRANSITIONS[ModelStatus(version.status)]),
        }
        return _page(request, "modelops/version.html", context)


class ModelCompareView(ModelOpsPage):
    """Model versions side by side: provenance, configuration (differences marked) and the
    headline figures per split and class with the best of each row marked."""

    def get(self, request):
        # "?ids=1,2" from the workspace's script, "?ids=1&ids=2" from its form without one
        ids = _ids(",".join(request.GET.getlist("ids")))[:MAX_COMPARED]
        found = {
            version.pk: version
            for version in selectors.model_version_summaries().filter(pk__in=ids)
        }
        versions = [found[pk] for pk in ids if pk in found]
        context = {
            "versions": versions,
            "missing": [pk for pk in ids if pk not in found],
            "max_compared": MAX_COMPARED,
            **comparison(versions),
        }
        return _page(request, "modelops/compare.html", context)
