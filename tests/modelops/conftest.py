"""Fixtures of the modelops tests: a small labelled phantom cohort frozen as ground truth."""

import hashlib

import pytest

from tests.conftest import user_with_role

DEMO_ROLES = [
    *[(f"neuro{n}", "neuroradiologist") for n in range(1, 6)],
    ("coordinator", "coordinator"),
    ("mlengineer", "ml_engineer"),
]


def demo_users() -> dict:
    return {name: user_with_role(name, role) for name, role in DEMO_ROLES}


def seed_cohort(scans_per_center: int = 2, size: int = 48):
    """The training demo at test size: 4 training centers, 1 held-out validation center."""
    from modelops.demo import training_demo_seed

    return training_demo_seed(scans_per_center=scans_per_center, size=size, seed=11)


@pytest.fixture
def cohort(db):
    users = demo_users()
    result = seed_cohort()
    return users, result.version


@pytest.fixture
def approved_model(db):
    """An approved small untrained scan model at 32 px on a built snapshot of the phantom
    cohort (``.engineer``: its ML engineer)."""
    import keras

    from annotations.models import JobStatus
    from modelops.ml.model import build_backbone, build_scan_model, build_sequence_head
    from modelops.models import ModelStatus
    from modelops.paths import data_path
    from modelops.snapshots.services import snapshot_build, snapshot_request
    from tests.modelops.registry_factories import make_run, make_version

    users = demo_users()
    truth = seed_cohort().version
    snapshot, _ = snapshot_request(
        ground_truth_id=truth.pk, image_size=32, created_by=users["mlengineer"]
    )
    snapshot = snapshot_build(snapshot_id=snapshot.pk)
    assert snapshot.status == JobStatus.SUCCEEDED, snapshot.message
    version = make_version(run=make_run(snapshot=snapshot, user=users["mlengineer"]), name="b-1")
    keras.utils.set_random_seed(0)
    model = build_scan_model(
        build_backbone("small", 32), build_sequence_head(256, rnn_units=8, attention_units=8)
    )
    model.save(data_path(version.artifact))
    version.artifact_sha256 = hashlib.sha256(data_path(version.artifact).read_bytes()).hexdigest()
    version.status = ModelStatus.APPROVED
    version.save()
    version.engineer = users["mlengineer"]
    return version
