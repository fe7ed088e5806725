"""The Celery app. Queues: ``ingest`` (DICOM import), ``train`` and ``inference`` (modelops)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ichlabel.settings")

app = Celery("ichlabel")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic schedule lives here, each with when it fires.
app.conf.beat_schedule = {
    # Every minute: fail import batches whose worker stopped sending heartbeats.
    "import-batch-fail-stale": {
        "task": "annotations.tasks.import_batch_fail_stale",
        "schedule": 60.0,
    },
    # Every 30 s: requeue training runs whose worker died (they resume from their checkpoint),
    # fail snapshot builds whose worker died.
    "modelops-recover": {"task": "modelops.tasks.modelops_recover", "schedule": 30.0},
}
