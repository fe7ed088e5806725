"""The jobs framework's periodic task (scheduled in ``ichlabel/celery.py``)."""

from celery import shared_task


@shared_task
def jobs_recover() -> dict:
    from ichlabel.jobs import recover

    return recover()
