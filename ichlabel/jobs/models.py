"""What every long job's row carries: the abstract ``Job`` model and the job statuses.

A job is created ``pending`` (queued), taken by one worker under a lease (``running``), and
ends ``succeeded``, ``warning`` (succeeded with findings), ``failed`` or ``canceled``; a cancel
asked while it runs makes it ``canceling`` until the worker stops between two steps.

Concrete jobs declare ``class Meta(Job.Meta)`` and keep ``Job.Meta.constraints`` in theirs.
"""

from django.db import models
from django.db.models import Q


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    WARNING = "warning", "Succeeded with warnings"
    FAILED = "failed", "Failed"
    CANCELING = "canceling", "Canceling"
    CANCELED = "canceled", "Canceled"


FINISHED_STATUSES = (
    JobStatus.SUCCEEDED,
    JobStatus.WARNING,
    JobStatus.FAILED,
    JobStatus.CANCELED,
)
# A worker holds the job (it may be asked to stop).
HELD_STATUSES = (JobStatus.RUNNING, JobStatus.CANCELING)
ACTIVE_STATUSES = (JobStatus.PENDING, *HELD_STATUSES)


class Job(models.Model):
    """A long piece of work as a row: what the worker reports, and its claim on the work.

    ``lease`` is the claim of the worker that holds the job (a new one at each claim): every
    write of that worker is filtered by it, so a worker whose job was taken over or failed
    writes nothing; ``worker`` names that worker's host and process, for the operator. The
    lease lasts while ``heartbeat_at`` is younger than ``JOBS_HEARTBEAT_TIMEOUT_S``; a pending
    job's ``heartbeat_at`` is when it was queued. ``progress`` is the share done, 0 to 1; jobs
    keep their own counts beside it (an import's files, a snapshot's scans, a run's epochs and
    steps).
    """

    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    message = models.TextField(blank=True)
    progress = models.FloatField(default=0.0, help_text="Share done, 0 to 1")
    lease = models.UUIDField(null=True, blank=True, help_text="The claim of the holding worker")
    worker = models.CharField(max_length=255, blank=True)  # host:pid of the last claim
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Claims by a worker so far")
    task_id = models.CharField(max_length=64, blank=True, help_text="The queue's message id")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=JobStatus.values),
                name="%(app_label)s_%(class)s_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0, progress__lte=1),
                name="%(app_label)s_%(class)s_progress_range",
            ),
        ]

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES
