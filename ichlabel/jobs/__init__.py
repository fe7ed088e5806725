"""Every long piece of work is a job: a row that says how it stands, run by one worker at a time.

The kinds of job (``registry.KINDS``): import batches (``annotations.ImportBatch``, the
``ingest`` queue), exports built into a file (``annotations.ExportJob``, the DICOM SR zip,
also on ``ingest``), dataset snapshot builds (``modelops.DatasetSnapshot``), training runs
(``modelops.TrainingRun``), saliency maps of a sample (``modelops.SaliencyRun``) and of a
whole scan for the viewer (``modelops.ScanSaliencyRun``) and builds for the inference nodes
(``modelops.ModelBuild``), the last five on the ``train`` queue. Each model inherits the
abstract ``Job`` (``models``): status, progress, message, lease, worker, heartbeat, attempts,
task id and times.

The life of a job:

- a service creates the row and ``enqueue``s it (the task goes out when the transaction
  commits);
- the task calls its service, which calls ``run(model, pk, work)``: ``claim`` takes the job
  under a new lease (one atomic UPDATE, so a message delivered twice runs once), and
  ``work(job, lease)`` runs inside ``Lease``, whose thread stamps the heartbeat and reads back
  a cancel request; ``lease.progress`` writes at most once a second; the work checks
  ``lease.should_stop()`` (or ``lease.check()``) between steps and ends with
  ``lease.finish(...)``; every write is filtered by the lease, so a worker whose job was taken
  over or failed writes nothing;
- ``cancel`` stops a queued job at once and asks a running one to stop after its step;
- errors: a ``RetriableError`` (I/O, network) queues the job again after a backoff, within
  ``JOBS_MAX_ATTEMPTS`` tries; any other error fails it with its message;
- ``recover`` (every 30 s) fails or resumes jobs whose worker died (``fail_stale``) and queues
  again jobs no worker took (``requeue_lost``).

Settings: ``JOBS_*`` in ``ichlabel/settings.py``.
"""

from ichlabel.jobs.errors import (
    JobCanceled,
    JobLost,
    RetriableError,
    database_gone,
    is_retriable,
)
from ichlabel.jobs.lease import Lease, cancel, claim, fail, finish, held, restart, run
from ichlabel.jobs.models import (
    ACTIVE_STATUSES,
    FINISHED_STATUSES,
    HELD_STATUSES,
    Job,
    JobStatus,
)
from ichlabel.jobs.registry import (
    KINDS,
    JobKind,
    enqueue,
    fail_stale,
    kind_of,
    recover,
    requeue_lost,
)

__all__ = [
    "ACTIVE_STATUSES",
    "FINISHED_STATUSES",
    "HELD_STATUSES",
    "KINDS",
    "Job",
    "JobCanceled",
    "JobKind",
    "JobLost",
    "JobStatus",
    "Lease",
    "RetriableError",
    "cancel",
    "claim",
    "database_gone",
    "enqueue",
    "fail",
    "fail_stale",
    "finish",
    "held",
    "is_retriable",
    "kind_of",
    "recover",
    "requeue_lost",
    "restart",
    "run",
]
