"""Fixtures of the saliency tests: a small scan model registered on the phantom cohort."""

import hashlib

import keras
import pytest

from modelops.ml.model import build_backbone, build_scan_model, build_sequence_head
from modelops.paths import data_path
from tests.modelops.conftest import demo_users, seed_cohort
from tests.modelops.registry_factories import make_run, make_snapshot, make_version


@pytest.fixture
def model_version(db):
    """A small untrained scan model at 32 px, registered on a snapshot of the phantom cohort
    (whose scans carry the phantoms' lesion masks)."""
    users = demo_users()
    truth = seed_cohort().version
    snapshot = make_snapshot(version=truth, user=users["mlengineer"], image_size=32)
    run = make_run(snapshot=snapshot, user=users["mlengineer"])
    version = make_version(run=run, name="saliency-test")
    keras.utils.set_random_seed(0)
    backbone = build_backbone("small", 32)
    model = build_scan_model(backbone, build_sequence_head(256, rnn_units=8, attention_units=8))
    model.save(data_path(version.artifact))
    version.artifact_sha256 = hashlib.sha256(data_path(version.artifact).read_bytes()).hexdigest()
    version.save()
    version.engineer = users["mlengineer"]
    return version
