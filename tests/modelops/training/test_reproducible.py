"""A seeded run on the same snapshot gives the same losses and scores on CPU, through the
services (snapshot of imported phantoms, run, evaluation), in this process."""

import pytest

from annotations.models import JobStatus
from modelops.snapshots.services import snapshot_build, snapshot_request
from modelops.training.services import training_run_execute, training_run_start

pytestmark = pytest.mark.django_db(transaction=True)

TINY = {
    "image_size": 32,
    "cnn_epochs": 1,
    "epochs": 1,
    "rnn_units": 8,
    "attention_units": 8,
    "seed": 5,
}


def test_the_same_seed_trains_the_same_model(jobs_queued):
    from tests.modelops.conftest import demo_users, seed_cohort

    users = demo_users()
    version = seed_cohort().version
    snapshot, _ = snapshot_request(
        ground_truth_id=version.pk, image_size=32, created_by=users["mlengineer"]
    )
    snapshot = snapshot_build(snapshot_id=snapshot.pk)
    runs = []
    for _ in range(2):
        run = training_run_start(
            snapshot_id=snapshot.pk, config=TINY, created_by=users["mlengineer"]
        )
        runs.append(training_run_execute(run_id=str(run.pk)))
    first, second = runs
    assert first.status == second.status == JobStatus.SUCCEEDED, (first.message, second.message)
    for a, b in zip(first.history, second.history, strict=True):
        assert (a["stage"], a["epoch"]) == (b["stage"], b["epoch"])
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-6)
        assert a["val_loss"] == pytest.approx(b["val_loss"], abs=1e-6)
    assert first.model_version.metrics == second.model_version.metrics
