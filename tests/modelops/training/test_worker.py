"""Training end to end through real Celery workers on the ``train`` queue: the snapshot, the
run, evaluation and registration, fine-tuning, saliency maps and a signed build of the model;
and a run whose worker is killed resumes from its checkpoint on a new worker."""

import os
import signal

import pytest

from annotations.models import JobStatus
from ichlabel import jobs
from modelops.builds.services import model_build_request
from modelops.disagreements.selectors import model_scan_scores
from modelops.disagreements.services import scan_scoring_request
from modelops.models import (
    DatasetSnapshot,
    ModelBuild,
    ModelScanScore,
    SaliencyRun,
    ScanScoringRun,
    TrainingRun,
)
from modelops.paths import run_dir
from modelops.registry.services import model_version_verify
from modelops.saliency.services import saliency_run_request
from modelops.snapshots.services import snapshot_request
from modelops.training.services import training_run_start
from tests.conftest import (
    celery_worker_env,
    celery_worker_spawn,
    celery_worker_stop,
    wait_for,
)
from tests.modelops.conftest import demo_users, seed_cohort

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TINY = {
    "image_size": 32,
    "cnn_epochs": 1,
    "epochs": 1,
    "batch_size": 16,
    "rnn_units": 8,
    "attention_units": 8,
    "augment": False,
    "seed": 3,
}


@pytest.fixture
def train_worker(worker, worker_data_dir):
    """Starts workers on the ``train`` queue; each is stopped at the end of the test."""
    started = []

    def start():
        env = celery_worker_env(worker_data_dir)
        process = celery_worker_spawn(
            env, queues="train", log_path=worker_data_dir / "train-worker.log", name="train"
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            celery_worker_stop(process)


def _snapshot(users):
    version = seed_cohort().version
    snapshot, _ = snapshot_request(
        ground_truth_id=version.pk, image_size=32, created_by=users["mlengineer"]
    )
    return wait_for(
        lambda: DatasetSnapshot.objects.get(pk=snapshot.pk),
        lambda s: s.finished,
        "the snapshot build",
        120,
    )


def _run(run_id) -> TrainingRun:
    return TrainingRun.objects.select_related("model_version").get(pk=run_id)


def test_a_run_trains_evaluates_and_registers_through_the_workers(train_worker):
    users = demo_users()
    train_worker()
    snapshot = _snapshot(users)
    assert snapshot.status == JobStatus.SUCCEEDED, snapshot.message
    assert snapshot.scans_done == snapshot.scans_total == 10
    run = training_run_start(snapshot_id=snapshot.pk, config=TINY, created_by=users["mlengineer"])
    run = wait_for(lambda: _run(run.pk), lambda r: r.finished, "the training run", 300)
    assert run.status == JobStatus.SUCCEEDED, run.message
    assert run.attempts == 1 and run.progress == 1.0
    assert {entry["stage"] for entry in run.history} >= {"cnn"}
    assert run.step_losses, "per-step losses are recorded for the curve"
    model = run.model_version
    assert model.status == "candidate" and model_version_verify(model)
    report = model.evaluation
    assert set(report["splits"]) == {"train", "validation"}
    assert report["threshold_split"] == "validation"
    assert [row["hemorrhage_class"] for row in report["splits"]["validation"]["rows"]] == [
        "any",
        "iph",
        "ivh",
        "sah",
        "sdh",
        "edh",
    ]
    assert model.metrics["validation"]["any"]["auroc"] is not None
    # Every snapshot scan's scores are kept at registration; a scoring run on the same workers
    # scores a scan whose scores are gone as registration did.
    kept = dict(ModelScanScore.objects.filter(model_version=model).values_list("scan_id", "split"))
    assert len(kept) == snapshot.scans_total and set(kept.values()) == {"train", "validation"}
    lost = min(kept)
    before = model_scan_scores(model_version=model, scan_ids=[lost])[lost]
    ModelScanScore.objects.filter(model_version=model, scan_id=lost).delete()
    scoring = scan_scoring_request(
        model_version=model, scans=[lost], requested_by=users["mlengineer"]
    )
    scoring = wait_for(
        lambda: ScanScoringRun.objects.get(pk=scoring.pk), lambda r: r.finished, "scoring", 120
    )
    assert scoring.status == JobStatus.SUCCEEDED, scoring.message
    after = model_scan_scores(model_version=model, scan_ids=[lost])[lost]
    assert all(abs(after[name] - before[name]) < 2e-3 for name in before), (before, after)
    logs = run_dir(run.pk)
    log = (logs / "train.log").read_text()
    assert "attempt 1" in log and "cnn epoch 1/1 done: loss" in log
    assert any((logs / "tensorboard").rglob("events.out.tfevents.*"))

    # End-to-end fine-tuning of the two-stage model just registered.
    tuned = training_run_start(
        snapshot_id=snapshot.pk,
        config={**TINY, "mode": "end_to_end"},
        initial_model_id=model.pk,
        created_by=users["mlengineer"],
    )
    tuned = wait_for(lambda: _run(tuned.pk), lambda r: r.finished, "the fine-tuning run", 300)
    assert tuned.status == JobStatus.SUCCEEDED, tuned.message
    assert [entry["stage"] for entry in tuned.history] == ["end_to_end"]
    assert tuned.model_version.artifact_sha256 != model.artifact_sha256

    # Saliency maps of the registered model, on the same workers.
    saliency, _ = saliency_run_request(
        model_version=model, split="train", per_subtype=1, created_by=users["mlengineer"]
    )
    saliency = wait_for(
        lambda: SaliencyRun.objects.get(pk=saliency.pk), lambda r: r.finished, "the maps", 300
    )
    assert saliency.status == JobStatus.SUCCEEDED, saliency.message
    assert saliency.slices_done == saliency.slices_total > 0
    assert saliency.localization["outlined_maps"] == 2 * saliency.slices_total

    # Approved, the trained model becomes a signed build for the nodes, on the same workers.
    model.status = "approved"
    model.save()
    build = model_build_request(model_version=model, created_by=users["mlengineer"])
    build = wait_for(
        lambda: ModelBuild.objects.get(pk=build.pk), lambda b: b.finished, "build", 300
    )
    assert build.status == JobStatus.SUCCEEDED, build.message
    check = build.manifest["runtime"]["check"]
    assert check["max_abs_diff"] <= check["tolerance"] and check["scans"] >= 2


def test_a_run_whose_worker_dies_resumes_from_its_checkpoint(train_worker):
    users = demo_users()
    first = train_worker()
    snapshot = _snapshot(users)
    config = {**TINY, "cnn_epochs": 2, "epochs": 2}
    run = training_run_start(snapshot_id=snapshot.pk, config=config, created_by=users["mlengineer"])
    wait_for(lambda: _run(run.pk), lambda r: len(r.history) >= 1, "the first epoch", 300)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert _run(run.pk).status == JobStatus.RUNNING, "nobody has noticed yet"
    train_worker()
    # What the periodic check does once heartbeats have stopped for the timeout.
    assert jobs.fail_stale(TrainingRun, timeout_s=0)["requeued"] == 1
    run = wait_for(lambda: _run(run.pk), lambda r: r.finished, "the resumed run", 300)
    assert run.status == JobStatus.SUCCEEDED, run.message
    assert run.attempts == 2
    assert "resumed" in run.message
    epochs = [(entry["stage"], entry["epoch"]) for entry in run.history]
    assert len(epochs) == len(set(epochs)) == 4, epochs
