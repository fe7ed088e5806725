"""The modelops API as an ML engineer's client uses it: writes, errors and the shapes it relies
on. Who may call what is in tests/ichlabel/test_permission_matrix.py."""

import hashlib
import uuid

import pytest
from rest_framework.test import APIClient

from annotations.models import GroundTruthVersion, JobStatus
from modelops.models import DatasetSnapshot, ModelVersion, TrainingRun
from modelops.paths import model_artifact_path, relative_to_data
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db

ACTORS = ("ml_engineer", "coordinator", "reader", "anonymous")


@pytest.fixture
def world(jobs_queued):
    people = {
        "ml_engineer": user_with_role("mleng", "ml_engineer"),
        "coordinator": user_with_role("coord", "coordinator"),
        "reader": user_with_role("reader", "neuroradiologist"),
    }
    version = GroundTruthVersion.objects.create(
        name="v1", created_by=people["coordinator"], content_sha256="a" * 64
    )
    snapshot = DatasetSnapshot.objects.create(
        ground_truth=version,
        name="snap",
        image_size=32,
        slice_mm=5.0,
        windows=[[50, 100]],
        key_sha256="b" * 64,
        status=JobStatus.SUCCEEDED,
        files_sha256="c" * 64,
        directory="modelops/snapshots/b",
        manifest={"splits": {"train": {"scans": 2}, "validation": {"scans": 2}}},
        created_by=people["ml_engineer"],
    )
    run = TrainingRun.objects.create(
        name="r", snapshot=snapshot, config={"image_size": 32}, created_by=people["ml_engineer"]
    )
    artifact = model_artifact_path("m1")
    artifact.parent.mkdir(parents=True, exist_ok=True)
    artifact.write_bytes(b"model bytes")
    model = ModelVersion.objects.create(
        name="m1",
        run=run,
        snapshot=snapshot,
        artifact=relative_to_data(artifact),
        artifact_sha256=hashlib.sha256(b"model bytes").hexdigest(),
        artifact_bytes=11,
        config=run.config,
        metrics={"validation": {"any": {"auroc": 0.97}}},
        evaluation={"splits": {}},
    )
    return people, version, snapshot, run, model


def _client(people, actor) -> APIClient:
    client = APIClient()
    if actor != "anonymous":
        client.force_authenticate(people[actor])
    return client


def test_ml_engineers_write(world):
    """Who else may write is in tests/ichlabel/test_permission_matrix.py."""
    people, version, snapshot, run, model = world
    client = _client(people, "ml_engineer")
    responses = [
        client.post(
            "/api/v1/modelops/snapshots/",
            {"ground_truth": version.pk, "image_size": 64},
            format="json",
        ),
        client.post(
            "/api/v1/modelops/runs/",
            {"snapshot": snapshot.pk, "config": {"image_size": 32, "epochs": 1}},
            format="json",
        ),
        client.post(f"/api/v1/modelops/runs/{run.pk}/cancel/"),
        client.post(f"/api/v1/modelops/models/{model.pk}/status/", {"status": "approved"}),
    ]
    codes = [r.status_code for r in responses]
    assert codes == [201, 201, 200, 200], [r.json() for r in responses]


def test_run_start_errors_name_the_field(world):
    people, _, snapshot, _, _ = world
    client = _client(people, "ml_engineer")
    response = client.post(
        "/api/v1/modelops/runs/",
        {"snapshot": snapshot.pk, "config": {"image_size": 32, "rnn": "transformer"}},
        format="json",
    )
    assert response.status_code == 400
    assert "rnn" in response.json()["message"]
    missing = client.post(
        "/api/v1/modelops/runs/", {"snapshot": 99999, "config": {}}, format="json"
    )
    assert missing.status_code == 404


def test_snapshot_request_twice_returns_the_existing_one(world):
    people, version, *_ = world
    client = _client(people, "ml_engineer")
    body = {"ground_truth": version.pk, "image_size": 64}
    first = client.post("/api/v1/modelops/snapshots/", body, format="json")
    again = client.post("/api/v1/modelops/snapshots/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    bad = client.post(
        "/api/v1/modelops/snapshots/", {"ground_truth": version.pk, "image_size": 8}, format="json"
    )
    assert bad.status_code == 400


def test_model_status_follows_its_lifecycle(world):
    people, *_, model = world
    client = _client(people, "ml_engineer")
    url = f"/api/v1/modelops/models/{model.pk}/status/"
    assert client.post(url, {"status": "approved"}).json()["status"] == "approved"
    assert client.post(url, {"status": "retired"}).json()["status"] == "retired"
    refused = client.post(url, {"status": "approved"})
    assert refused.status_code == 409 and "retired" in refused.json()["message"]


def test_artifact_download_matches_its_checksum(world):
    people, *_, model = world
    response = _client(people, "coordinator").get(f"/api/v1/modelops/models/{model.pk}/artifact/")
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == model.artifact_sha256


def test_unknown_run_is_404(world):
    people, *_ = world
    response = _client(people, "ml_engineer").get(f"/api/v1/modelops/runs/{uuid.uuid4()}/")
    assert response.status_code == 404


def test_a_missing_artifact_is_a_404_with_the_reason(world):
    people, *_, model = world
    from modelops.paths import data_path

    data_path(model.artifact).unlink()
    response = _client(people, "ml_engineer").get(f"/api/v1/modelops/models/{model.pk}/artifact/")
    assert response.status_code == 404 and "missing" in response.json()["message"]


@pytest.mark.parametrize("actor", ACTORS)
def test_snapshot_cancel(world, actor):
    people, _, snapshot, *_ = world
    DatasetSnapshot.objects.filter(pk=snapshot.pk).update(status=JobStatus.RUNNING)
    response = _client(people, actor).post(f"/api/v1/modelops/snapshots/{snapshot.pk}/cancel/")
    if actor == "ml_engineer":
        assert response.status_code == 200 and response.json()["status"] == "canceling"
        again = _client(people, actor).post(f"/api/v1/modelops/snapshots/{snapshot.pk}/cancel/")
        assert again.json()["status"] == "canceling"
    else:
        assert response.status_code == 403
