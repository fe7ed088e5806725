"""Celery tasks of the annotations app: each calls one service. Retries and recovery are the
jobs framework's (``ichlabel.jobs``), not Celery's."""

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def import_batch_run(batch_id: str) -> None:
    from annotations.ingest.services import import_batch_run as service

    service(batch_id=batch_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def export_job_run(job_id: str) -> None:
    from annotations.exports.services import export_job_run as service

    service(job_id=job_id)
