"""The viewer's overlay through the API: a coordinator releases an approved model's output for a
split, a reader of a released scan then finds the model, asks for a class's maps and gets each
slice's overlay; nothing they receive names who else asked; withdrawn, it is gone for them."""

import json

import pytest
from rest_framework.test import APIClient

from annotations.models import JobStatus
from modelops.models import ModelStatus, ScanSaliencyRun
from modelops.scan_saliency.selectors import scan_saliency_png
from tests.modelops.registry_factories import seed_registry

pytestmark = pytest.mark.django_db

API = "/api/v1/modelops"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def world(jobs_queued):
    registry = seed_registry()
    model = registry["models"][0]
    model.status = ModelStatus.APPROVED
    model.save()
    return {**registry, "model": model, "scan": registry["version"].scan_labels.get().scan}


def _finish(run: ScanSaliencyRun, slices: int) -> None:
    """The run as the worker leaves it: its overlays written, its scores stored."""
    for index in range(slices):
        for method in ("normgrad", "gradcam"):
            path = scan_saliency_png(run, method, index)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\x89PNG\r\n\x1a\n" + f"{method}{index}".encode())
    ScanSaliencyRun.objects.filter(pk=run.pk).update(
        status=JobStatus.SUCCEEDED, progress=1.0, scores={"any": 0.9}
    )


def test_a_reader_lays_a_released_models_maps_over_their_scan(
    world, django_capture_on_commit_callbacks
):
    reader, coordinator = _client(world["reader"]), _client(world["coordinator"])
    scan, model = world["scan"], world["model"]
    output = f"{API}/scans/{scan.pk}/model-output/"
    assert reader.get(output).json()["models"] == []
    refused = reader.post(f"{API}/scans/{scan.pk}/saliency/", {"model_version": model.pk})
    assert refused.status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        released = coordinator.post(
            f"{API}/models/{model.pk}/releases/", {"split": "validation"}, format="json"
        )
    assert released.status_code == 200, released.json()
    assert released.json() == {"released": 1, "already_released": 0}
    listing = reader.get(output).json()
    assert [m["id"] for m in listing["models"]] == [model.pk]
    assert listing["methods"] == ["normgrad", "gradcam"]
    # The release queued the maps of "any"; a reader asks for a subtype's.
    assert [run["hemorrhage_class"] for run in listing["runs"]] == ["any"]
    asked = reader.post(
        listing["request_url"], {"model_version": model.pk, "hemorrhage_class": "iph"}
    )
    assert asked.status_code == 201, asked.json()
    run = ScanSaliencyRun.objects.get(pk=asked.json()["id"])
    _finish(run, scan.slice_count)

    detail = reader.get(f"{API}/scan-saliency/{run.pk}/")
    url = detail.json()["overlay_url"].replace("{method}", "gradcam").replace("{index}", "1")
    overlay = reader.get(url)

    assert detail.json()["status"] == "succeeded" and detail.json()["scores"] == {"any": 0.9}
    assert overlay.status_code == 200 and overlay["Content-Type"] == "image/png"
    assert b"".join(overlay.streaming_content).endswith(b"gradcam1")
    # Nothing the reader gets names a user: who else asked for maps would tell of their reads.
    for payload in (reader.get(output).content, detail.content):
        text = json.dumps(json.loads(payload))
        for name in ("coordinator", "mlengineer", "neuro"):
            assert name not in text
    bad = url.replace("gradcam", "saliency")
    assert reader.get(bad).status_code == 404
    assert reader.get(url.replace("/1.png", "/99.png")).status_code == 404

    withdrawn = coordinator.post(
        f"{API}/models/{model.pk}/releases/withdraw/", {"scans": [scan.pk]}, format="json"
    )
    assert withdrawn.json() == {"withdrawn": 1}
    assert reader.get(url).status_code == 404
    assert reader.get(f"{API}/scan-saliency/{run.pk}/").status_code == 404
    assert reader.get(output).json() == {**listing, "models": [], "runs": []}
    history = coordinator.get(f"{API}/models/{model.pk}/releases/").json()["results"]
    assert [(r["scan"], r["withdrawn_by"]) for r in history] == [(scan.pk, "coordinator")]


def test_only_an_approved_models_output_is_released(world):
    candidate = world["models"][1]
    response = _client(world["coordinator"]).post(
        f"{API}/models/{candidate.pk}/releases/", {"scans": [world["scan"].pk]}, format="json"
    )
    assert response.status_code == 409
    assert "only an approved model" in response.json()["message"]
    empty = _client(world["coordinator"]).post(
        f"{API}/models/{world['model'].pk}/releases/", {"split": "test"}, format="json"
    )
    assert empty.status_code == 400 and "nothing to release" in empty.json()["message"]
