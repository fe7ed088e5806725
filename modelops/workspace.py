"""The ML engineer's workspace (/models/): snapshots, runs and model versions."""

import json
from collections.abc import Mapping

from django.core.paginator import Paginator

from annotations.models import JobStatus
from modelops.models import ACTIVE_STATUSES, ModelStatus
from modelops.nodes.selectors import node_alerts
from modelops.pages import PAGE_SIZE, ModelOpsPage, number_or_none, percent, render_page
from modelops.registry.evaluation import split_names
from modelops.registry.selectors import model_version_summaries
from modelops.snapshots.selectors import snapshot_list
from modelops.training.selectors import training_run_summaries


def _auroc(metrics: Mapping, split: str, cls: str = "any") -> str | None:
    value = number_or_none(((metrics or {}).get(split) or {}).get(cls, {}).get("auroc"))
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


class ModelsWorkspaceView(ModelOpsPage):
    """Dataset snapshots (and a form for a new one), the form that starts a training run, the
    runs with their progress, and the registry's model versions to open or compare."""

    def get(self, request):
        snapshots = list(snapshot_list())
        runs = Paginator(training_run_summaries(), PAGE_SIZE).get_page(request.GET.get("page"))
        versions = list(model_version_summaries())
        context = {
            "may_act": self.may_act(),
            "node_alerts": node_alerts(),
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
        return render_page(request, "modelops/workspace.html", context)
