"""The Celery app. Queues: ``default`` (the periodic checks below and short tasks), ``ingest``
(DICOM import), ``train`` and ``inference`` (modelops); routes in ``CELERY_TASK_ROUTES``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ichlabel.settings")

app = Celery("ichlabel")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["ichlabel.jobs"])  # the jobs framework's recovery (not an app)

# Every periodic schedule lives here, each with when it fires.
app.conf.beat_schedule = {
    # Every 30 s, for every kind of job (ichlabel.jobs.KINDS): resume or fail jobs whose worker
    # stopped sending heartbeats, queue again jobs no worker took.
    "jobs-recover": {"task": "ichlabel.jobs.tasks.jobs_recover", "schedule": 30.0},
}
