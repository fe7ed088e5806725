"""Reads of training runs: lists without curves, the log's tail."""

from django.db.models import QuerySet

from modelops.models import TrainingRun
from modelops.paths import run_dir

LOG_TAIL_BYTES = 64 * 1024


def training_run_list() -> QuerySet[TrainingRun]:
    return TrainingRun.objects.select_related(
        "snapshot", "created_by", "model_version", "initial_model"
    )


def training_run_summaries() -> QuerySet[TrainingRun]:
    """Runs for lists: without their curves and their model's report (large JSON that only a
    run's or a model's own page shows)."""
    return training_run_list().defer("history", "step_losses", "model_version__evaluation")


def training_run_log(run: TrainingRun, *, tail_bytes: int = LOG_TAIL_BYTES) -> str:
    """The end of the run's log file (empty before the worker starts it)."""
    path = run_dir(run.pk) / "train.log"
    if not path.is_file():
        return ""
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        handle.seek(max(0, size - tail_bytes))
        return handle.read().decode("utf-8", errors="replace")
