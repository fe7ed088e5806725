"""The jobs framework (ichlabel.jobs): claims under a lease, writes only under it, cooperative
cancel, recovery of dead and lost jobs, retries by error type, throttled progress, the heartbeat
thread, and the registry that every long job is in."""

import os
import socket
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string

from annotations.dicom.errors import RetriableDicomError
from annotations.models import Center, GroundTruthVersion, ImportBatch
from ichlabel import jobs
from ichlabel.errors import Conflict
from ichlabel.jobs import JobStatus
from modelops.models import TrainingRun
from tests.conftest import user_with_role


def _batch(**fields) -> ImportBatch:
    center, _ = Center.objects.get_or_create(name="Jobs Center")
    return ImportBatch.objects.create(center=center, split="train", source="api", **fields)


def _run(**fields) -> TrainingRun:
    from tests.modelops.registry_factories import make_run, make_snapshot

    user = user_with_role(f"ml-{uuid.uuid4().hex[:8]}", "ml_engineer")
    version = GroundTruthVersion.objects.create(name=f"v-{uuid.uuid4().hex[:6]}", created_by=user)
    snapshot = make_snapshot(version=version, user=user, name=f"s-{uuid.uuid4().hex[:6]}")
    run = make_run(snapshot=snapshot, user=user, status=JobStatus.PENDING)
    TrainingRun.objects.filter(pk=run.pk).update(attempts=0, started_at=None, **fields)
    return TrainingRun.objects.get(pk=run.pk)


def _age(job, **ago) -> None:
    type(job).objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(**ago))


# Claims


@pytest.mark.django_db
def test_a_job_is_claimed_once_and_each_claim_counts_an_attempt():
    batch = _batch()
    first = jobs.claim(ImportBatch, batch.pk)
    assert first.status == JobStatus.RUNNING and first.lease and first.attempts == 1
    assert first.started_at is not None
    assert first.worker == f"{socket.gethostname()}:{os.getpid()}"
    assert jobs.claim(ImportBatch, batch.pk) is None, "a fresh heartbeat keeps it with its worker"
    _age(batch, minutes=5)
    taken_over = jobs.claim(ImportBatch, batch.pk)
    assert taken_over.lease != first.lease and taken_over.attempts == 2
    assert taken_over.started_at == first.started_at


@pytest.mark.django_db(transaction=True)
def test_of_two_workers_claiming_at_once_one_wins():
    batch = _batch()
    start = threading.Barrier(2)
    results = []

    def worker():
        try:
            start.wait()
            results.append(jobs.claim(ImportBatch, batch.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [job for job in results if job is not None]
    assert len(winners) == 1
    assert ImportBatch.objects.get(pk=batch.pk).lease == winners[0].lease


# Writes under the lease


@pytest.mark.django_db
def test_finish_and_fail_under_a_lost_lease_write_nothing():
    batch = _batch()
    first = jobs.claim(ImportBatch, batch.pk)
    _age(batch, minutes=5)
    second = jobs.claim(ImportBatch, batch.pk)

    assert not jobs.finish(first, JobStatus.SUCCEEDED, "late")
    assert not jobs.fail(first, "late failure")
    assert not jobs.Lease(first).write(files_done=1, files_total=9)
    row = ImportBatch.objects.get(pk=batch.pk)
    assert (row.status, row.message, row.files_total) == (JobStatus.RUNNING, "", 0)

    assert jobs.finish(second, JobStatus.SUCCEEDED, "done")
    row.refresh_from_db()
    assert (row.status, row.message, row.progress) == (JobStatus.SUCCEEDED, "done", 1.0)
    assert row.finished_at is not None


@pytest.mark.django_db
def test_a_lease_that_lost_its_job_says_so_and_stops_the_work():
    batch = _batch()
    held = jobs.claim(ImportBatch, batch.pk)
    lease = jobs.Lease(held)
    assert lease.write(files_done=1, files_total=2) and not lease.should_stop()
    ImportBatch.objects.filter(pk=batch.pk).update(status=JobStatus.FAILED)
    assert not lease.write(files_done=2, files_total=2)
    assert lease.lost and lease.should_stop()
    with pytest.raises(jobs.JobLost):
        lease.check()


# Cancel


@pytest.mark.django_db
def test_cancel_of_a_pending_job_is_at_once():
    run = _run()
    canceled = jobs.cancel(run)
    assert canceled.status == JobStatus.CANCELED and canceled.finished_at is not None
    assert canceled.started_at is None
    assert jobs.claim(TrainingRun, run.pk) is None, "a queued task finds it canceled"
    with pytest.raises(Conflict, match="nothing to cancel"):
        jobs.cancel(canceled)


@pytest.mark.django_db
def test_cancel_of_a_running_job_asks_its_worker_to_stop_between_steps(jobs_queued):
    batch = _batch()
    steps = []

    def work(job, lease):
        for step in range(1, 4):
            steps.append(step)
            if step == 2:
                assert jobs.cancel(job).status == JobStatus.CANCELING
            lease.write(files_done=step, files_total=3)
            lease.check(f"Canceled after step {step}.")
        return lease.finish(JobStatus.SUCCEEDED, "all steps")

    outcome = jobs.run(ImportBatch, batch.pk, work)

    assert steps == [1, 2]
    assert outcome.status == JobStatus.CANCELED and outcome.message == "Canceled after step 2."
    assert outcome.files_done == 2
    assert jobs_queued == [], "a cancel is not retried"


# Recovery


@pytest.mark.django_db
def test_fail_stale_fails_a_dead_import_batch_and_leaves_a_live_one():
    dead, live, canceling = _batch(), _batch(), _batch()
    for batch in (dead, live, canceling):
        jobs.claim(ImportBatch, batch.pk)
    jobs.cancel(canceling)
    _age(dead, minutes=5)
    _age(canceling, minutes=5)

    counts = jobs.fail_stale(ImportBatch, timeout_s=60)

    assert counts == {"requeued": 0, "failed": 1, "canceled": 1}
    dead.refresh_from_db()
    assert dead.status == JobStatus.FAILED
    assert dead.message == "the worker stopped responding (no heartbeat for 60 s)"
    assert ImportBatch.objects.get(pk=live.pk).status == JobStatus.RUNNING
    assert ImportBatch.objects.get(pk=canceling.pk).status == JobStatus.CANCELED


@pytest.mark.django_db
def test_fail_stale_requeues_a_dead_training_run_up_to_the_limit(
    settings, jobs_queued, django_capture_on_commit_callbacks
):
    settings.JOBS_MAX_ATTEMPTS = 2
    run = _run()
    for attempt in (1, 2):
        assert jobs.claim(TrainingRun, run.pk).attempts == attempt
        _age(run, minutes=5)
        with django_capture_on_commit_callbacks(execute=True):
            counts = jobs.fail_stale(TrainingRun, timeout_s=60)
        run.refresh_from_db()
        if attempt == 1:
            assert counts["requeued"] == 1 and run.status == JobStatus.PENDING
            assert run.lease is None and run.message.startswith("Resuming")
            assert jobs_queued == [run.pk]
        else:
            assert counts["failed"] == 1 and run.status == JobStatus.FAILED
            assert "tries exhausted" in run.message and jobs_queued == [run.pk]


@pytest.mark.django_db
def test_requeue_lost_queues_again_what_no_worker_took(
    settings, jobs_queued, django_capture_on_commit_callbacks
):
    settings.JOBS_REQUEUE_PENDING_S = 600
    forgotten, fresh, uploading = _batch(), _batch(), _batch()
    with django_capture_on_commit_callbacks(execute=True):
        jobs.enqueue(ImportBatch, forgotten.pk)
        jobs.enqueue(ImportBatch, fresh.pk)
    _age(forgotten, minutes=30)
    jobs_queued.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.requeue_lost(ImportBatch) == 1
    assert jobs_queued == [forgotten.pk], "not the fresh one, nor one never queued"
    assert uploading.pk not in jobs_queued
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.requeue_lost(ImportBatch) == 0, "once per period"


@pytest.mark.django_db
def test_recover_covers_every_kind():
    report = jobs.recover(timeout_s=60)
    assert set(report) == {kind.model for kind in jobs.KINDS}
    assert all(counts == dict.fromkeys(counts, 0) for counts in report.values())


# Errors and retries


@pytest.fixture
def sent(monkeypatch):
    """Each message the framework sends: (pk, countdown)."""
    from ichlabel.jobs import registry

    messages = []
    monkeypatch.setattr(
        registry,
        "send_task",
        lambda kind, pk, *, task_id, countdown=None: messages.append((pk, countdown)),
    )
    return messages


@pytest.mark.parametrize(
    "error",
    [jobs.RetriableError("share unreachable"), RetriableDicomError("association aborted")],
    ids=["retriable", "dicom"],
)
@pytest.mark.django_db
def test_a_retriable_error_is_retried_with_backoff_then_fails_at_the_limit(
    error, settings, sent, django_capture_on_commit_callbacks
):
    settings.JOBS_MAX_ATTEMPTS = 3
    settings.JOBS_RETRY_BACKOFF_S = 10
    batch = _batch()

    def work(job, lease):
        raise error

    for attempt in (1, 2):
        with django_capture_on_commit_callbacks(execute=True):
            outcome = jobs.run(ImportBatch, batch.pk, work)
        assert outcome.status == JobStatus.PENDING and outcome.attempts == attempt
        assert outcome.lease is None and "Trying again" in outcome.message
    assert sent == [(batch.pk, 10), (batch.pk, 20)], "backoff doubles"
    with django_capture_on_commit_callbacks(execute=True):
        outcome = jobs.run(ImportBatch, batch.pk, work)
    assert outcome.status == JobStatus.FAILED and outcome.attempts == 3
    assert str(error) in outcome.message and "gave up after 3 tries" in outcome.message
    assert len(sent) == 2


@pytest.mark.django_db
def test_any_other_error_fails_the_job_at_once_with_its_message(
    sent, django_capture_on_commit_callbacks
):
    batch = _batch()

    def work(job, lease):
        raise ValueError("the header has no pixel spacing")

    with django_capture_on_commit_callbacks(execute=True):
        outcome = jobs.run(ImportBatch, batch.pk, work)
    assert outcome.status == JobStatus.FAILED and outcome.attempts == 1
    assert outcome.message == "ValueError: the header has no pixel spacing"
    assert sent == []


# Progress and the heartbeat


@pytest.mark.django_db
def test_progress_is_written_at_most_once_per_interval_and_always_at_the_end(settings):
    settings.JOBS_PROGRESS_INTERVAL_S = 0.3
    lease = jobs.Lease(jobs.claim(ImportBatch, _batch().pk))

    def row():
        return ImportBatch.objects.values_list("progress", "files_done").get(pk=lease.job.pk)

    assert lease.progress(1, 10, files_done=1, files_total=10)
    assert not lease.progress(2, 10, files_done=2, files_total=10)
    assert row() == (pytest.approx(0.1), 1)
    time.sleep(0.35)
    assert lease.progress(3, 10, files_done=3, files_total=10)
    assert lease.progress(10, 10, files_done=10, files_total=10), "the end is always written"
    assert row() == (1.0, 10)


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_stamps_the_job_and_notices_a_cancel_and_a_lost_lease(settings):
    settings.JOBS_HEARTBEAT_INTERVAL_S = 0.05
    batch = _batch()
    job = jobs.claim(ImportBatch, batch.pk)
    _age(batch, minutes=5)

    def wait_for(condition) -> bool:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not condition():
            time.sleep(0.02)
        return condition()

    with jobs.Lease(job) as lease:
        fresh = timezone.now() - timedelta(seconds=5)
        assert wait_for(lambda: ImportBatch.objects.get(pk=batch.pk).heartbeat_at > fresh)
        jobs.cancel(job)
        assert wait_for(lambda: lease.cancel_requested), "read back without a main-thread write"
        ImportBatch.objects.filter(pk=batch.pk).update(lease=uuid.uuid4())
        assert wait_for(lambda: lease.lost)


@pytest.mark.django_db(transaction=True)
def test_a_hung_main_thread_stops_the_heartbeats(settings):
    settings.JOBS_HEARTBEAT_INTERVAL_S = 0.05
    settings.JOBS_STALL_TIMEOUT_S = 0
    batch = _batch()
    job = jobs.claim(ImportBatch, batch.pk)
    _age(batch, minutes=5)
    with jobs.Lease(job):
        time.sleep(0.3)
    assert ImportBatch.objects.get(pk=batch.pk).heartbeat_at < timezone.now() - timedelta(minutes=4)


# The registry


def test_every_job_model_is_a_registered_kind_with_its_task():
    job_models = {m._meta.label for m in apps.get_models() if issubclass(m, jobs.Job)}
    assert job_models == {kind.model for kind in jobs.KINDS}
    for kind in jobs.KINDS:
        assert callable(import_string(kind.task).apply_async)
        if kind.on_stopped:
            assert callable(import_string(kind.on_stopped))
    # Jobs whose finished steps are kept (epochs, mapped slices), a scan's maps (one pass,
    # written whole), builds and export files (made again under a fresh name) carry on after a
    # worker dies.
    assert [kind.model for kind in jobs.KINDS if kind.resumable] == [
        "annotations.ExportJob",
        "modelops.TrainingRun",
        "modelops.SaliencyRun",
        "modelops.ScanSaliencyRun",
        "modelops.ScanScoringRun",
        "modelops.ModelBuild",
    ]


def test_the_recovery_is_scheduled_and_registered():
    from ichlabel.celery import app

    app.loader.import_default_modules()
    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "ichlabel.jobs.tasks.jobs_recover" in schedule
    assert "ichlabel.jobs.tasks.jobs_recover" in app.tasks


def test_a_retriable_error_is_known_by_its_type():
    assert jobs.is_retriable(jobs.RetriableError("x"))
    assert jobs.is_retriable(RetriableDicomError("x"))
    assert not jobs.is_retriable(OSError("x")) and not jobs.is_retriable(ValueError("x"))
