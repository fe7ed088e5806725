"""A worker's side of a job: the claim, the lease it holds while it works, and the outcome.

``claim`` takes a queued job (or a running one whose worker went silent) with a new lease in one
atomic UPDATE, so of two workers given the same job one wins. While it works, ``Lease`` runs a
heartbeat thread that stamps ``heartbeat_at`` every few seconds, also while the main thread
sits in one long step (an InceptionResNetV2 batch on CPU, hashing a large snapshot), so a live
job is never taken for a dead one. The thread also reads back a cancel request, and notices a
job the worker no longer holds (``lost``). A main thread that made no progress for
``JOBS_STALL_TIMEOUT_S`` stops the beats, so a hung job is recovered like a dead one instead
of staying "running" for ever.

Every write of the worker (progress, finish, fail) is an UPDATE filtered by the job's pk and
lease: a worker whose job was taken over or failed meanwhile writes nothing.

``run`` puts it together: claim, work under the lease, and record the outcome: a cancel,
success, a retriable error (queued again after a backoff, within ``JOBS_MAX_ATTEMPTS``
tries) or any other error (failed at once, with its message). A job that ends failed or
canceled then gets its kind's ``on_stopped`` clean-up, as the recovery gives a dead one.

A database restart breaks the connections of both threads: each drops its broken connection
and the next statement opens a new one, the heartbeat at its next beat and the outcome's write
within ``JOBS_HEARTBEAT_TIMEOUT_S`` (so an outcome is not lost to a short outage).
"""

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.module_loading import import_string

from ichlabel.errors import Conflict
from ichlabel.jobs.errors import (
    JobCanceled,
    JobLost,
    RetriableError,
    database_gone,
    is_retriable,
)
from ichlabel.jobs.models import FINISHED_STATUSES, HELD_STATUSES, Job, JobStatus

logger = logging.getLogger(__name__)

J = TypeVar("J", bound=Job)


def claim(model: type[J], pk, **fields) -> J | None:
    """Take a queued job, or a running one whose worker stopped sending heartbeats, with a new
    lease (one atomic UPDATE: of two workers given the same job, one wins); count the attempt.
    ``fields`` are written with the claim. Returns the job, or None when it is not to be had."""
    now = timezone.now()
    fields.setdefault("worker", f"{socket.gethostname()}:{os.getpid()}")
    stale = now - timedelta(seconds=settings.JOBS_HEARTBEAT_TIMEOUT_S)
    taken = (
        model._default_manager.filter(pk=pk)
        .filter(Q(status=JobStatus.PENDING) | Q(status=JobStatus.RUNNING, heartbeat_at__lt=stale))
        .update(
            status=JobStatus.RUNNING,
            lease=uuid.uuid4(),
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            started_at=Coalesce("started_at", now),
            finished_at=None,
            **fields,
        )
    )
    return model._default_manager.get(pk=pk) if taken else None


def held(job: Job) -> QuerySet:
    """The job's row while the lease ``job`` carries still holds it."""
    return type(job)._default_manager.filter(pk=job.pk, lease=job.lease, status__in=HELD_STATUSES)


def finish(job: Job, status: str, message: str, **fields) -> bool:
    """Record the outcome if ``job.lease`` still holds the job; False (nothing written) when
    it was taken over or failed meanwhile. A cancel asked during the last step is too late:
    the outcome stands."""
    now = timezone.now()
    if status in (JobStatus.SUCCEEDED, JobStatus.WARNING):
        fields.setdefault("progress", 1.0)
    written = bool(
        held(job).update(
            status=status, message=message, finished_at=now, heartbeat_at=now, **fields
        )
    )
    label = type(job)._meta.label
    if written:
        logger.info("%s %s %s: %s", label, job.pk, status, message)
    else:
        logger.warning(
            "%s %s: no longer held by this worker; %s not recorded", label, job.pk, status
        )
    return written


def fail(job: Job, message: str, **fields) -> bool:
    return finish(job, JobStatus.FAILED, message, **fields)


def restart(job: Job, **reset_fields) -> bool:
    """A failed or canceled job back in the queue with its tries anew (``reset_fields`` too, e.g.
    progress); True if it was one. The caller enqueues it; what it finished is its own to keep."""
    return bool(
        type(job)
        ._default_manager.filter(pk=job.pk, status__in=[JobStatus.FAILED, JobStatus.CANCELED])
        .update(
            status=JobStatus.PENDING,
            message="Queued again.",
            finished_at=None,
            lease=None,
            attempts=0,
            **reset_fields,
        )
    )


def cancel(job: J, *, running_message: str = "", **canceled_fields) -> J:
    """Ask a job to stop: a queued one is canceled at once (``canceled_fields`` are written
    with it), a running one is told to stop after its current step (its worker reads the
    request between steps). Refused when the job has finished."""
    from ichlabel.jobs.registry import kind_of

    model = type(job)
    now = timezone.now()
    if model._default_manager.filter(pk=job.pk, status=JobStatus.PENDING).update(
        status=JobStatus.CANCELED,
        message="Canceled before it started.",
        finished_at=now,
        **canceled_fields,
    ):
        return model._default_manager.get(pk=job.pk)
    model._default_manager.filter(pk=job.pk, status=JobStatus.RUNNING).update(
        status=JobStatus.CANCELING,
        message=running_message or "Cancel requested; stopping after the current step.",
    )
    job = model._default_manager.get(pk=job.pk)
    if job.status in FINISHED_STATUSES:
        raise Conflict(
            f"This {kind_of(model).noun} is {job.get_status_display().lower()}: "
            "there is nothing to cancel."
        )
    return job


class Lease:
    """The worker's hold on one claimed job, as a context manager that runs the heartbeat
    thread. The work reports through ``progress`` (throttled) or ``write``, checks
    ``should_stop`` (or calls ``check``) between steps, and ends with ``finish``."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.lost = False
        self.cancel_requested = False
        self.interval_s = float(settings.JOBS_HEARTBEAT_INTERVAL_S)
        self.stall_s = float(settings.JOBS_STALL_TIMEOUT_S)
        self.progress_interval_s = float(settings.JOBS_PROGRESS_INTERVAL_S)
        self._last_touch = time.monotonic()
        self._last_progress: float | None = None
        self._stop = threading.Event()
        name = f"heartbeat-{type(job)._meta.model_name}-{job.pk}"
        self._thread = threading.Thread(target=self._beat_loop, name=name, daemon=True)

    def __enter__(self) -> "Lease":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval_s * 2)

    # What the work calls

    def touch(self) -> None:
        """The main thread made progress (keeps the beats going)."""
        self._last_touch = time.monotonic()

    def should_stop(self) -> bool:
        return self.cancel_requested or self.lost

    def check(self, canceled_message: str = "Canceled.") -> None:
        """Between two steps: raise ``JobLost`` or ``JobCanceled`` when the job is to stop."""
        if self.lost:
            raise JobLost(f"{type(self.job)._meta.label} {self.job.pk} is no longer held")
        if self.cancel_requested:
            raise JobCanceled(canceled_message)

    def progress(self, done: float, total: float = 1.0, **fields) -> bool:
        """Report ``done`` of ``total`` (and the job's own counts in ``fields``), written at most
        once per ``JOBS_PROGRESS_INTERVAL_S`` and always at the end; True if written."""
        self.touch()
        now = time.monotonic()
        due = self._last_progress is None or now - self._last_progress >= self.progress_interval_s
        if not due and done < total:
            return False
        self._last_progress = now
        fraction = max(0.0, min(1.0, done / total)) if total else 0.0
        return self.write(progress=fraction, **fields)

    def write(self, **fields) -> bool:
        """Write ``fields`` with a heartbeat now, while the job is held; read back a cancel."""
        self.touch()
        return self._stamp(heartbeat_at=timezone.now(), **fields)

    def finish(self, status: str, message: str, **fields) -> Any:
        """Record the outcome under the lease; returns the job's row as it now stands."""
        finish(self.job, status, message, **fields)
        return type(self.job)._default_manager.get(pk=self.job.pk)

    def fail(self, message: str) -> Any:
        return self.finish(JobStatus.FAILED, message)

    def retry_or_fail(self, error: BaseException, message: str) -> Any:
        """A retriable error puts the job back in the queue after a backoff while tries are
        left; anything else, or the last try, fails it with ``message``."""
        from ichlabel.jobs.registry import enqueue

        attempts = self.job.attempts
        if not is_retriable(error):
            return self.fail(message)
        if attempts >= settings.JOBS_MAX_ATTEMPTS:
            return self.fail(f"{message} (gave up after {attempts} tries)")
        delay = min(
            settings.JOBS_RETRY_BACKOFF_S * 2 ** (attempts - 1), settings.JOBS_RETRY_BACKOFF_MAX_S
        )
        running = held(self.job).filter(status=JobStatus.RUNNING)
        if not running.update(
            status=JobStatus.PENDING,
            lease=None,
            heartbeat_at=timezone.now(),
            message=f"Trying again in {delay:g} s (try {attempts} of "
            f"{settings.JOBS_MAX_ATTEMPTS} failed: {message}).",
        ):
            # A cancel was asked meanwhile (or the job is no longer held: nothing is written).
            return self.finish(JobStatus.CANCELED, f"Canceled ({message}).")
        label = type(self.job)._meta.label
        logger.warning("%s %s: %s; trying again in %g s", label, self.job.pk, message, delay)
        enqueue(type(self.job), self.job.pk, countdown=delay)
        return type(self.job)._default_manager.get(pk=self.job.pk)

    # The heartbeat thread

    def _beat_loop(self) -> None:
        try:
            while not self._stop.wait(self.interval_s):
                if time.monotonic() - self._last_touch > self.stall_s:
                    continue  # hung: let the recovery see a dead job
                try:
                    self._stamp(heartbeat_at=timezone.now())
                except Exception as error:  # noqa: BLE001 - a transient error must not stop the beats
                    if database_gone(error):
                        connection.close()  # a broken connection: the next beat opens a new one
                    logger.exception("heartbeat failed; trying again in %s s", self.interval_s)
        finally:
            connection.close()

    def _stamp(self, **fields) -> bool:
        """One UPDATE while the job runs; a second only when it is canceling or not held."""
        rows = held(self.job)
        if rows.filter(status=JobStatus.RUNNING).update(**fields):
            return True
        if rows.filter(status=JobStatus.CANCELING).update(**fields):
            self.cancel_requested = True
            return True
        # A row this connection cannot see (a test's open transaction) is not taken for lost.
        if type(self.job)._default_manager.filter(pk=self.job.pk).exists():
            self.lost = True
        return False


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def run(
    model: type[J],
    pk,
    work: Callable[[J, Lease], J],
    *,
    claim_fields: dict | None = None,
    describe_error: Callable[[BaseException], str] = describe,
) -> J | None:
    """Claim the job and run ``work(job, lease)`` under its lease. ``work`` returns
    ``lease.finish(...)``; a ``JobCanceled`` it raises cancels the job with its message,
    ``JobLost`` stops it without a write, a retriable error queues it again (backoff, limited
    tries), any other error fails it with ``describe_error(error)``. Returns the job as it then
    stands, or None when it was not claimed or lost."""
    job = claim(model, pk, **(claim_fields or {}))
    if job is None:
        return None
    with Lease(job) as lease:
        try:
            return _stopped(work(job, lease))
        except JobCanceled as stop:
            reason = str(stop) or "Canceled."
            return _stopped(_outlasting_outage(lambda: lease.finish(JobStatus.CANCELED, reason)))
        except JobLost:
            logger.warning("%s %s: taken over or failed meanwhile; stopping", model.__name__, pk)
            return None
        except Exception as error:  # noqa: BLE001 - the reason is kept on the job
            if lease.lost:
                logger.warning("%s %s stopped (no longer held): %s", model.__name__, pk, error)
                return None
            logger.exception("%s %s failed", model.__name__, pk)
            if database_gone(error) or database_gone(error.__cause__):
                connection.close()  # broken: the outcome is written on a new connection
            # A RetriableError's message is ours and safe to show (errors.py); others are
            # described by the kind (an import names the type only: values may be PHI).
            message = str(error) if isinstance(error, RetriableError) else describe_error(error)
            failure = error
            return _stopped(_outlasting_outage(lambda: lease.retry_or_fail(failure, message)))


def _stopped(job: J) -> J:
    """A job that ended failed or canceled gets its kind's clean-up (``JobKind.on_stopped``,
    the same the recovery runs); it is idempotent, so a second call after the work's own
    clean-up does nothing."""
    from ichlabel.jobs.registry import kind_of

    if job is not None and job.status in (JobStatus.FAILED, JobStatus.CANCELED):
        hook = kind_of(type(job)).on_stopped
        if hook:
            import_string(hook)(job)
    return job


def _outlasting_outage(write: Callable[[], J]) -> J:
    """Run ``write`` (the outcome of a job); while the database is unreachable (a restart)
    try again on a new connection, for up to ``JOBS_HEARTBEAT_TIMEOUT_S``: after that the
    recovery would judge the job by its heartbeat anyway."""
    deadline = time.monotonic() + settings.JOBS_HEARTBEAT_TIMEOUT_S
    pause = 0.2
    while True:
        try:
            return write()
        except Exception as error:
            if not database_gone(error) or time.monotonic() + pause > deadline:
                raise
            connection.close()
            logger.warning("could not record a job's outcome (%s); trying again", error)
            time.sleep(pause)
            pause = min(pause * 2, 5.0)
