"""Builds through the services: only an approved model, numbers that only grow, the ONNX file
checked against Keras on the snapshot's scans (padded batch included), the test scan with the
scores the node's health check expects, and a manifest signed with the installation's key that a
node verifies with the public key alone."""

import stat
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from annotations.models import JobStatus
from ichlabel.errors import Conflict, InvalidInput
from modelops.builds.export import onnx_predict, onnx_session
from modelops.builds.manifest import load_public_key, public_key_pem, verify_build
from modelops.builds.selectors import build_dir
from modelops.builds.services import model_build_execute, model_build_request
from modelops.builds.signing import verifying_key
from modelops.models import ModelStatus
from tests.modelops.registry_factories import seed_registry

pytestmark = pytest.mark.django_db


def test_a_build_is_checked_against_keras_signed_and_verifies(approved_model, settings):
    build = model_build_request(model_version=approved_model, created_by=approved_model.engineer)

    build = model_build_execute(build_id=build.pk)

    assert build.status == JobStatus.SUCCEEDED, build.message
    manifest = build.manifest
    check = manifest["runtime"]["check"]
    assert check["scans"] == 3 and check["batched_with_padding"]
    assert check["max_abs_diff"] <= check["tolerance"] == 1e-4
    assert manifest["model"] == {
        "id": approved_model.pk,
        "name": "b-1",
        "artifact_sha256": approved_model.artifact_sha256,
    }
    assert manifest["snapshot"]["key_sha256"] == approved_model.snapshot.key_sha256
    assert manifest["ground_truth"]["sha256"] == approved_model.snapshot.ground_truth.content_sha256
    assert manifest["preprocessing"]["image_size"] == 32
    assert set(manifest["thresholds"]) == set(manifest["classes"])
    # A node pins the public key (PEM) and verifies the build with it alone.
    pinned = load_public_key(public_key_pem(verifying_key()))
    directory = build_dir(build.number)
    assert verify_build(directory, pinned, active_number=None, now=timezone.now()) == manifest
    # The health check: the test scan through the ONNX file gives the recorded scores.
    scan = np.load(directory / "test_scan.npy").astype(np.float32) / np.float32(255.0)
    scores, slices = onnx_predict(onnx_session(directory / "model.onnx"), [scan])
    expected = manifest["health_check"]
    np.testing.assert_allclose(scores[0], expected["scan_scores"], atol=1e-6)
    np.testing.assert_allclose(slices[0], expected["slice_scores"], atol=1e-6)
    # The signing key is a file of the installation, readable by its owner only.
    assert stat.S_IMODE(settings.BUILD_SIGNING_KEY_FILE.stat().st_mode) == 0o600
    assert build.key_id == manifest["key_id"]


def test_only_an_approved_model_is_built_and_numbers_only_grow(jobs_queued):
    registry = seed_registry()  # no export here: a registered version is enough
    engineer, approved_model = registry["engineer"], registry["models"][0]
    approved_model.status = ModelStatus.APPROVED
    approved_model.save()
    first = model_build_request(model_version=approved_model, created_by=engineer, valid_days=30)
    second = model_build_request(model_version=approved_model, created_by=engineer)

    assert second.number == first.number + 1
    assert first.expires_at - first.created_at == pytest.approx(
        timedelta(days=30), abs=timedelta(seconds=60)
    )
    with pytest.raises(InvalidInput, match="valid_days"):
        model_build_request(model_version=approved_model, created_by=engineer, valid_days=0)
    approved_model.status = ModelStatus.RETIRED
    approved_model.save()
    with pytest.raises(Conflict, match="only an approved model is built"):
        model_build_request(model_version=approved_model, created_by=engineer)
