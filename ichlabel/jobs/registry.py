"""Every kind of long job the system has, how one is queued, and the recovery of dead ones.

``recover`` runs every 30 s (``ichlabel/celery.py``) over every kind:

- ``fail_stale``: a held job whose heartbeat is older than ``JOBS_HEARTBEAT_TIMEOUT_S`` lost
  its worker. A resumable kind (training runs, from their last checkpoint) is queued again,
  up to ``JOBS_MAX_ATTEMPTS`` tries, then failed; any other kind is failed at once with a
  message that says so; a job that was canceling is canceled. The kind's ``on_stopped`` hook
  then cleans up after it (an import batch removes what it had imported).
- ``requeue_lost``: a queued job no worker took within ``JOBS_REQUEUE_PENDING_S`` is queued
  again (the broker may have lost its message). A job delivered twice is claimed once, so a
  spare message is harmless.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from kombu.exceptions import KombuError

from ichlabel.jobs.models import Job, JobStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobKind:
    model: str  # "app_label.ModelName" of a ``Job`` model
    task: str  # the Celery task that runs one job, given its pk
    noun: str  # how messages name one job
    resumable: bool  # a dead worker's job is resumed elsewhere (True) or failed (False)
    on_stopped: str = ""  # called with the job once the recovery failed or canceled it

    def model_class(self) -> type[Job]:
        return apps.get_model(self.model)


KINDS = (
    JobKind(
        "annotations.ImportBatch",
        task="annotations.tasks.import_batch_run",
        noun="import",
        resumable=False,
        on_stopped="annotations.ingest.services.import_batch_stopped",
    ),
    JobKind(
        "annotations.ExportJob",
        task="annotations.tasks.export_job_run",
        noun="export",
        resumable=True,  # built again from the start; a partial file is replaced
        on_stopped="annotations.exports.services.export_job_stopped",
    ),
    JobKind(
        "modelops.DatasetSnapshot",
        task="modelops.tasks.snapshot_build",
        noun="snapshot build",
        resumable=False,
    ),
    JobKind(
        "modelops.TrainingRun",
        task="modelops.tasks.training_run_execute",
        noun="training run",
        resumable=True,
    ),
    JobKind(
        "modelops.SaliencyRun",
        task="modelops.tasks.saliency_run_execute",
        noun="saliency run",
        resumable=True,  # each mapped slice is kept; the next worker maps the rest
    ),
    JobKind(
        "modelops.ScanSaliencyRun",
        task="modelops.tasks.scan_saliency_execute",
        noun="scan's maps",
        resumable=True,  # one pass over one scan: computed again from the start
    ),
    JobKind(
        "modelops.ScanScoringRun",
        task="modelops.tasks.scan_scoring_execute",
        noun="scoring run",
        resumable=True,  # each scan's scores are kept as they come; the next worker scores the rest
    ),
    JobKind(
        "modelops.ModelBuild",
        task="modelops.tasks.model_build_execute",
        noun="build",
        resumable=True,  # made again from the start in a clean folder
    ),
)


def kind_of(model: type[Job]) -> JobKind:
    for kind in KINDS:
        if kind.model == model._meta.label:
            return kind
    raise LookupError(f"{model._meta.label} is not a registered job kind (ichlabel.jobs.KINDS)")


def enqueue(model: type[Job], pk, *, countdown: float | None = None, task_id: str = "") -> str:
    """Queue a pending job's task once the surrounding transaction commits; the message id is
    kept on the row and ``heartbeat_at`` records when it was queued."""
    task_id = task_id or str(uuid.uuid4())
    model._default_manager.filter(pk=pk, status=JobStatus.PENDING).update(
        task_id=task_id, heartbeat_at=timezone.now()
    )
    kind = kind_of(model)
    transaction.on_commit(lambda: send_task(kind, pk, task_id=task_id, countdown=countdown))
    return task_id


def send_task(kind: JobKind, pk, *, task_id: str, countdown: float | None = None) -> None:
    """The one place a job's message goes to the broker (tests record it instead). A broker
    that cannot be reached loses nothing: the job's row stays pending and ``requeue_lost``
    queues it again, so the request that queued it does not fail after its commit."""
    argument = str(pk) if isinstance(pk, uuid.UUID) else pk
    try:
        import_string(kind.task).apply_async(args=[argument], task_id=task_id, countdown=countdown)
    except (KombuError, OSError):
        logger.exception(
            "could not queue %s %s: the broker is unreachable; the recovery queues it again "
            "after %s s",
            kind.noun,
            pk,
            settings.JOBS_REQUEUE_PENDING_S,
        )


def fail_stale(model: type[Job], *, timeout_s: int | None = None) -> dict[str, int]:
    """Held jobs of ``model`` whose worker sent no heartbeat for ``timeout_s``: requeued
    (resumable kinds, while tries are left), failed, or canceled if a cancel was asked."""
    kind = kind_of(model)
    timeout = timeout_s if timeout_s is not None else settings.JOBS_HEARTBEAT_TIMEOUT_S
    now = timezone.now()
    stale = Q(heartbeat_at__lt=now - timedelta(seconds=timeout)) | Q(heartbeat_at__isnull=True)
    lost = f"the worker stopped responding (no heartbeat for {timeout} s)"
    counts = {"requeued": 0, "failed": 0, "canceled": 0}
    dead = model._default_manager.filter(stale, status__in=[JobStatus.RUNNING, JobStatus.CANCELING])
    for job in dead.only("pk", "status", "lease", "attempts"):
        # Each row by its lease: a worker that claimed it meanwhile keeps it.
        row = model._default_manager.filter(stale, pk=job.pk, lease=job.lease, status=job.status)
        outcome, fields = _after_death(kind, job, lost)
        if outcome != "requeued":
            fields["finished_at"] = now
        if not row.update(heartbeat_at=now, **fields):
            continue
        counts[outcome] += 1
        logger.warning("%s %s %s: %s", model._meta.label, job.pk, outcome, fields["message"])
        if outcome == "requeued":
            enqueue(model, job.pk)
        elif kind.on_stopped:
            import_string(kind.on_stopped)(model._default_manager.get(pk=job.pk))
    return counts


def _after_death(kind: JobKind, job: Job, lost: str) -> tuple[str, dict[str, Any]]:
    """What becomes of a job whose worker died: the outcome and the fields that record it."""
    if job.status == JobStatus.CANCELING:
        return "canceled", {
            "status": JobStatus.CANCELED,
            "message": "Canceled (the worker had stopped).",
        }
    if not kind.resumable:
        return "failed", {"status": JobStatus.FAILED, "message": lost}
    if job.attempts < settings.JOBS_MAX_ATTEMPTS:
        return "requeued", {
            "status": JobStatus.PENDING,
            "lease": None,
            "message": f"Resuming: {lost}.",
        }
    return "failed", {
        "status": JobStatus.FAILED,
        "message": f"Failed after {lost}, tries exhausted.",
    }


def requeue_lost(model: type[Job], *, after_s: int | None = None) -> int:
    """Queue again the jobs of ``model`` still pending ``after_s`` after they were queued."""
    wait = after_s if after_s is not None else settings.JOBS_REQUEUE_PENDING_S
    now = timezone.now()
    cutoff = now - timedelta(seconds=wait)
    waiting = model._default_manager.filter(status=JobStatus.PENDING, heartbeat_at__lt=cutoff)
    count = 0
    for pk in waiting.values_list("pk", flat=True):
        # Conditional: of two recoveries at once, one queues it.
        if model._default_manager.filter(
            pk=pk, status=JobStatus.PENDING, heartbeat_at__lt=cutoff
        ).update(heartbeat_at=now):
            count += 1
            enqueue(model, pk)
    return count


def recover(*, timeout_s: int | None = None) -> dict[str, dict[str, int]]:
    """``fail_stale`` and ``requeue_lost`` for every kind of job; the counts per kind."""
    report = {}
    for kind in KINDS:
        model = kind.model_class()
        counts = fail_stale(model, timeout_s=timeout_s)
        counts["queued_again"] = requeue_lost(model)
        report[kind.model] = counts
    return report
