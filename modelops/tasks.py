"""Celery tasks of modelops: each calls one service. Routed to the ``train`` queue. Retries and
recovery are the jobs framework's (``ichlabel.jobs``), not Celery's."""

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def snapshot_build(snapshot_id: int) -> None:
    from modelops.snapshots.services import snapshot_build as service

    service(snapshot_id=snapshot_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def training_run_execute(run_id: str) -> None:
    from modelops.training.services import training_run_execute as service

    service(run_id=run_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def saliency_run_execute(run_id: int) -> None:
    from modelops.saliency.services import saliency_run_execute as service

    service(run_id=run_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def scan_saliency_execute(run_id: int) -> None:
    from modelops.scan_saliency.services import scan_saliency_execute as service

    service(run_id=run_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def scan_scoring_execute(run_id: int) -> None:
    from modelops.disagreements.services import scan_scoring_execute as service

    service(run_id=run_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def model_build_execute(build_id: int) -> None:
    from modelops.builds.services import model_build_execute as service

    service(build_id=build_id)
