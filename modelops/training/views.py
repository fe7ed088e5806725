"""The page of one training run: progress, curves, log."""

import math
from collections.abc import Mapping, Sequence

from django.shortcuts import get_object_or_404

from annotations.models import JobStatus
from modelops.pages import ModelOpsPage, config_rows, render_page
from modelops.training.selectors import training_run_list


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


class TrainingRunView(ModelOpsPage):
    """One run: status and progress, configuration, loss curves and the log; the script polls
    the run while it is not finished and offers Cancel while it may be canceled."""

    def get(self, request, run_id):
        run = get_object_or_404(training_run_list(), pk=run_id)
        version = getattr(run, "model_version", None)
        context = {
            "may_act": self.may_act(),
            "run": run,
            "version": version,
            "percent": round(100 * run.progress),
            "cancelable": run.status in (JobStatus.PENDING, JobStatus.RUNNING),
            "config": config_rows(run.config or {}),
            "history": history_table(run.history or []),
        }
        return render_page(request, "modelops/run.html", context)
