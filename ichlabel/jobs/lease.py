"""What snapshot builds and training runs share as long worker jobs: a heartbeat thread.

The thread stamps ``heartbeat_at`` on the job's row every few seconds, also while the main
thread sits in one long step (an InceptionResNetV2 batch on CPU, hashing a large snapshot), so
a live job is never taken for a dead one. Two failure modes are covered the other way round: a
row the job no longer owns (its lease was given to another worker, or it was failed) is seen as
``lost``, and a main thread that made no progress for ``stall_s`` stops the beats, so a hung job
is recovered like a dead one instead of staying "running" for ever.
"""

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from annotations.models import JobStatus

logger = logging.getLogger(__name__)


HEARTBEAT_INTERVAL_S = 5.0


class Heartbeat:
    def __init__(self, rows: Callable[[], QuerySet], *, name: str) -> None:
        self.rows = rows
        self.lost = False
        self.stall_s = settings.MODELOPS_STALL_TIMEOUT_S
        self._last_progress = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{name}", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=HEARTBEAT_INTERVAL_S * 2)

    def touch(self) -> None:
        """The main thread made progress."""
        self._last_progress = time.monotonic()

    def _run(self) -> None:
        try:
            while not self._stop.wait(HEARTBEAT_INTERVAL_S):
                if time.monotonic() - self._last_progress > self.stall_s:
                    continue  # hung: let the recovery check see a dead job
                self._beat()
        finally:
            connection.close()

    def _beat(self) -> None:
        try:
            if not self.rows().update(heartbeat_at=timezone.now()):
                self.lost = True
        except Exception:  # noqa: BLE001 - a transient database error must not stop the beats
            logger.exception("heartbeat failed; trying again in %s s", HEARTBEAT_INTERVAL_S)


def requeue_pending(model, enqueue: Callable[[object], None]) -> int:
    """Queue again the jobs of ``model`` still pending ``MODELOPS_REQUEUE_PENDING_S`` after they
    were queued (``heartbeat_at`` holds when): a broker that lost the message must not leave
    them waiting for ever. A job delivered twice is claimed once, so a spare message is
    harmless."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.MODELOPS_REQUEUE_PENDING_S)
    waiting = model.objects.filter(status=JobStatus.PENDING, heartbeat_at__lt=cutoff)
    count = 0
    for pk in waiting.values_list("pk", flat=True):
        if model.objects.filter(pk=pk, status=JobStatus.PENDING, heartbeat_at__lt=cutoff).update(
            heartbeat_at=now
        ):
            count += 1
            transaction.on_commit(lambda pk=pk: enqueue(pk))
    return count


def claim(model, pk, **fields) -> bool:
    """Take a queued job, or a running one whose worker stopped sending heartbeats, with a new
    lease (one atomic UPDATE: of two workers given the same job, one wins). ``fields`` are
    written with the claim."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.MODELOPS_HEARTBEAT_TIMEOUT_S)
    return bool(
        model.objects.filter(pk=pk)
        .filter(Q(status=JobStatus.PENDING) | Q(status=JobStatus.RUNNING, heartbeat_at__lt=stale))
        .update(status=JobStatus.RUNNING, lease=uuid.uuid4(), heartbeat_at=now, **fields)
    )
