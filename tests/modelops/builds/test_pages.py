"""The version page's card of builds: the Build form for ML engineers while the model is
approved, every build with its check, expiry, key and files, and the form's refusals."""

import pytest
from django.utils import timezone

from modelops.models import ModelBuild, ModelStatus
from tests.modelops.registry_factories import seed_registry

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry(jobs_queued):
    registry = seed_registry()
    model = registry["models"][0]
    model.status = ModelStatus.APPROVED
    model.save()
    ModelBuild.objects.create(
        model_version=model,
        number=4,
        expires_at=timezone.now(),
        created_by=registry["engineer"],
        status="succeeded",
        key_id="0123456789abcdef",
        manifest={"runtime": {"check": {"max_abs_diff": 3.2e-7, "scans": 3}}},
    )
    return registry


def test_engineers_build_an_approved_model_and_see_its_builds(
    client, registry, jobs_queued, django_capture_on_commit_callbacks
):
    model = registry["models"][0]
    client.force_login(registry["engineer"])

    page = client.get(f"/models/versions/{model.pk}/").content.decode()

    assert 'id="build-form"' in page
    assert "max difference 3.2e-07 on 3 scans" in page and "0123456789abcdef" in page
    first = ModelBuild.objects.get(number=4)
    assert f"/api/v1/modelops/builds/{first.pk}/files/model.onnx" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/models/versions/{model.pk}/builds/", {"valid_days": "30"})
    assert response.status_code == 302
    build = ModelBuild.objects.get(number=5)
    assert build.model_version == model and jobs_queued == [build.pk]
    page = client.get(f"/models/versions/{model.pk}/").content.decode()
    assert "Build 5 is queued" in page and 'data-build="5"' in page


def test_the_form_refuses_what_the_service_refuses(client, registry):
    model, candidate = registry["models"]
    client.force_login(registry["engineer"])

    for days in ("0", "x", "٣"):
        client.post(f"/models/versions/{model.pk}/builds/", {"valid_days": days})
    client.post(f"/models/versions/{candidate.pk}/builds/", {"valid_days": "30"})

    assert ModelBuild.objects.count() == 1
    page = client.get(f"/models/versions/{candidate.pk}/").content.decode()
    assert 'id="build-closed"' in page and 'id="build-form"' not in page
    assert "only an approved model is built" in page


def test_coordinators_watch_builds_and_may_not_make_one(client, registry):
    model = registry["models"][0]
    client.force_login(registry["coordinator"])

    page = client.get(f"/models/versions/{model.pk}/").content.decode()

    assert 'id="build-table"' in page and 'id="build-form"' not in page
    assert (
        client.post(f"/models/versions/{model.pk}/builds/", {"valid_days": "30"}).status_code == 403
    )
    assert ModelBuild.objects.count() == 1
