"""Training runs without a worker: validation at the edge, cancel, claims and recovery."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from annotations.models import JobStatus
from ichlabel import jobs
from ichlabel.errors import DomainError
from modelops.models import DatasetSnapshot, ModelVersion, TrainingRun
from modelops.training.services import RunReporter, training_run_cancel, training_run_start

pytestmark = pytest.mark.django_db

MANIFEST = {
    "splits": {
        "train": {"scans": 8, "slices": 200, "positive_scans": 4},
        "validation": {"scans": 4, "slices": 100, "positive_scans": 2},
    }
}


@pytest.fixture
def snapshot(ml_engineer):
    from annotations.models import GroundTruthVersion

    version = GroundTruthVersion.objects.create(name="v", created_by=ml_engineer)
    return DatasetSnapshot.objects.create(
        ground_truth=version,
        name="snap",
        image_size=32,
        slice_mm=5.0,
        windows=[[50, 100]],
        key_sha256=uuid.uuid4().hex * 2,
        status=JobStatus.SUCCEEDED,
        files_sha256="f" * 64,
        directory="modelops/snapshots/x",
        manifest=MANIFEST,
        created_by=ml_engineer,
    )


@pytest.fixture
def queued(jobs_queued):
    """Runs queued in this test (the Celery send is recorded, not delivered)."""
    return jobs_queued


def _claim(run_id) -> TrainingRun | None:
    return jobs.claim(TrainingRun, run_id)


def _recover() -> dict:
    """What the periodic recovery does for training runs."""
    return {
        **jobs.fail_stale(TrainingRun, timeout_s=60),
        "queued_again": jobs.requeue_lost(TrainingRun),
    }


def _start(snapshot, user, **config):
    return training_run_start(
        snapshot_id=snapshot.pk, config={"image_size": 32, **config}, created_by=user
    )


def test_start_validates_the_configuration(
    snapshot, ml_engineer, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = _start(snapshot, ml_engineer, epochs=2, seed=5)
    assert run.status == JobStatus.PENDING
    assert run.config["epochs"] == 2 and run.config["seed"] == 5
    assert run.config["backbone"] == "small", "defaults are filled in and recorded"
    assert queued == [run.pk]
    with pytest.raises(DomainError, match="epochs"):
        _start(snapshot, ml_engineer, epochs=-1)
    with pytest.raises(DomainError, match="learning_rat"):
        _start(snapshot, ml_engineer, learning_rat=0.1)
    with pytest.raises(DomainError, match="differs from the snapshot"):
        training_run_start(
            snapshot_id=snapshot.pk, config={"image_size": 64}, created_by=ml_engineer
        )


def test_start_needs_a_built_snapshot_with_train_and_validation(snapshot, ml_engineer, queued):
    DatasetSnapshot.objects.filter(pk=snapshot.pk).update(status=JobStatus.RUNNING)
    with pytest.raises(DomainError, match="not built"):
        _start(snapshot, ml_engineer)
    DatasetSnapshot.objects.filter(pk=snapshot.pk).update(
        status=JobStatus.SUCCEEDED, manifest={"splits": {"train": MANIFEST["splits"]["train"]}}
    )
    with pytest.raises(DomainError, match="no validation scans"):
        _start(snapshot, ml_engineer)


def test_cancel_a_pending_run_at_once_and_a_running_one_after_its_step(
    snapshot, ml_engineer, queued
):
    pending = _start(snapshot, ml_engineer)
    assert training_run_cancel(run=pending).status == JobStatus.CANCELED
    with pytest.raises(DomainError, match="nothing to cancel"):
        training_run_cancel(run=pending)
    running = _start(snapshot, ml_engineer)
    claimed = _claim(str(running.pk))
    assert claimed.status == JobStatus.RUNNING and claimed.attempts == 1
    assert training_run_cancel(run=running).status == JobStatus.CANCELING
    reporter = RunReporter(claimed)
    reporter.step(stage="cnn", epoch=1, step=10, steps=10, logs={"loss": 0.7})
    assert reporter.should_stop()


def test_a_run_is_claimed_by_one_worker_only(snapshot, ml_engineer, queued):
    run = _start(snapshot, ml_engineer)
    assert _claim(str(run.pk)) is not None
    assert _claim(str(run.pk)) is None, "a fresh heartbeat keeps the run with its worker"


def test_reporter_writes_progress_history_and_curves(snapshot, ml_engineer, queued):
    run = _claim(str(_start(snapshot, ml_engineer, cnn_epochs=2, epochs=2).pk))
    reporter = RunReporter(run)
    # epochs count from 1: halfway through the first of four epochs is 1/8 done
    reporter.step(stage="cnn", epoch=1, step=5, steps=10, logs={"loss": 0.5})
    reporter.step(stage="cnn", epoch=1, step=10, steps=10, logs={"loss": float("nan")})
    run.refresh_from_db()
    assert (run.epoch, run.epochs, run.progress) == (1, 2, pytest.approx(0.25))
    reporter.epoch_end(stage="cnn", epoch=1, epochs=2, logs={"loss": 0.5, "val_loss": 0.6})
    reporter.epoch_end(stage="cnn", epoch=1, epochs=2, logs={"loss": 0.4, "val_loss": None})
    reporter.step(stage="sequence", epoch=1, step=5, steps=10, logs={"loss": 0.3})
    run.refresh_from_db()
    assert run.progress == pytest.approx(2.5 / 4)
    assert run.history == [{"stage": "cnn", "epoch": 1, "loss": 0.4, "val_loss": None}]
    assert run.step_losses == [["cnn", 1, 5, 0.5], ["sequence", 1, 5, 0.3]], "NaN is left out"
    assert not reporter.should_stop()
    # another worker took the run over: this one's writes stop and it is told to stop
    TrainingRun.objects.filter(pk=run.pk).update(lease=uuid.uuid4())
    reporter.step(stage="sequence", epoch=1, step=10, steps=10, logs={"loss": 0.4})
    assert reporter.lost and reporter.should_stop()


def test_a_worker_that_lost_its_run_records_nothing(snapshot, ml_engineer, queued):
    run = _claim(str(_start(snapshot, ml_engineer).pk))
    TrainingRun.objects.filter(pk=run.pk).update(status=JobStatus.FAILED, message="by recovery")
    assert not jobs.finish(run, JobStatus.SUCCEEDED, "late")
    run.refresh_from_db()
    assert run.status == JobStatus.FAILED and run.message == "by recovery"
    other = _claim(str(_start(snapshot, ml_engineer).pk))
    TrainingRun.objects.filter(pk=other.pk).update(status=JobStatus.CANCELING)
    assert jobs.finish(other, JobStatus.SUCCEEDED, "done before the cancel took")
    other.refresh_from_db()
    assert other.status == JobStatus.SUCCEEDED and other.progress == 1.0


def test_scan_level_training_scans_are_refused(snapshot, ml_engineer, queued):
    DatasetSnapshot.objects.filter(pk=snapshot.pk).update(
        manifest={**MANIFEST, "scan_level_splits": ["validation"]}
    )
    with pytest.raises(DomainError, match="scan level in its validation split"):
        _start(snapshot, ml_engineer)


def test_recovery_requeues_stale_runs_then_fails_them(
    snapshot, ml_engineer, queued, settings, django_capture_on_commit_callbacks
):
    settings.JOBS_MAX_ATTEMPTS = 2
    run = _start(snapshot, ml_engineer)
    queued.clear()
    old = timezone.now() - timedelta(minutes=10)
    for attempt in (1, 2):
        _claim(str(run.pk))
        TrainingRun.objects.filter(pk=run.pk).update(heartbeat_at=old)
        with django_capture_on_commit_callbacks(execute=True):
            counts = _recover()
        run.refresh_from_db()
        if attempt == 1:
            assert counts["requeued"] == 1 and run.status == JobStatus.PENDING
            assert "Resuming" in run.message and queued == [run.pk]
        else:
            assert counts["failed"] == 1 and run.status == JobStatus.FAILED
            assert run.attempts == 2


def test_recovery_leaves_live_runs_and_finishes_stale_cancels(snapshot, ml_engineer, queued):
    live = _claim(str(_start(snapshot, ml_engineer).pk))
    stale = _claim(str(_start(snapshot, ml_engineer).pk))
    TrainingRun.objects.filter(pk=stale.pk).update(
        status=JobStatus.CANCELING, heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    counts = _recover()
    assert counts == {"requeued": 0, "failed": 0, "canceled": 1, "queued_again": 0}
    live.refresh_from_db()
    assert live.status == JobStatus.RUNNING


def test_fine_tuning_starts_from_a_matching_model(snapshot, ml_engineer, queued):
    from tests.modelops.registry_factories import make_run, make_version

    base = make_version(run=make_run(snapshot=snapshot, user=ml_engineer), name="base")
    run = training_run_start(
        snapshot_id=snapshot.pk,
        config={"image_size": 32, "mode": "end_to_end"},
        initial_model_id=base.pk,
        created_by=ml_engineer,
    )
    assert run.initial_model == base and run.name == "base-finetune"
    with pytest.raises(DomainError, match="set mode to end_to_end"):
        training_run_start(
            snapshot_id=snapshot.pk,
            config={"image_size": 32},
            initial_model_id=base.pk,
            created_by=ml_engineer,
        )
    with pytest.raises(DomainError, match="rnn, rnn_units must match model base"):
        training_run_start(
            snapshot_id=snapshot.pk,
            config={"image_size": 32, "mode": "end_to_end", "rnn": "lstm", "rnn_units": 8},
            initial_model_id=base.pk,
            created_by=ml_engineer,
        )
    ModelVersion.objects.filter(pk=base.pk).update(status="retired")
    with pytest.raises(DomainError, match="retired"):
        training_run_start(
            snapshot_id=snapshot.pk,
            config={"image_size": 32, "mode": "end_to_end"},
            initial_model_id=base.pk,
            created_by=ml_engineer,
        )


def test_a_resumed_run_keeps_the_curve_of_its_finished_epochs_only(snapshot, ml_engineer, queued):
    run = _start(snapshot, ml_engineer)
    TrainingRun.objects.filter(pk=run.pk).update(
        history=[{"stage": "cnn", "epoch": 1, "loss": 0.5}],
        step_losses=[["cnn", 1, 1, 0.7], ["cnn", 1, 2, 0.5], ["cnn", 2, 1, 0.45]],
    )
    reporter = RunReporter(_claim(str(run.pk)))
    assert reporter.step_points == [["cnn", 1, 1, 0.7], ["cnn", 1, 2, 0.5]]


def test_a_run_queued_long_ago_is_queued_again(
    snapshot, ml_engineer, queued, settings, django_capture_on_commit_callbacks
):
    settings.JOBS_REQUEUE_PENDING_S = 600
    fresh = _start(snapshot, ml_engineer)
    forgotten = _start(snapshot, ml_engineer)
    TrainingRun.objects.filter(pk=forgotten.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=30)
    )
    queued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert _recover()["queued_again"] == 1
    assert queued == [forgotten.pk] and fresh.pk not in queued
    with django_capture_on_commit_callbacks(execute=True):
        assert _recover()["queued_again"] == 0, "once per period"
