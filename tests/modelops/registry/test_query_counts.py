"""Statements per request of the model list (the registry's API and the models workspace that
shows it with the snapshots and runs) and of a model version's page, pinned.

Each request costs the same for 2 model versions as for 6 (each from its own run on its own
snapshot): a query per row (an N+1) changes the figure and fails here. The figures were
measured when this test was written; a change that adds a statement on purpose updates its
figure and says why.
"""

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from annotations.models import GroundTruthVersion
from modelops.models import ModelVersion
from tests.annotations.study_factories import make_scan
from tests.conftest import user_with_role
from tests.modelops.registry_factories import make_run, make_snapshot, seed_registry

pytestmark = pytest.mark.django_db

ROWS = (2, 6)

# Roles; the page's count; the versions with their run, snapshot and ground truth.
MODEL_LIST_API = 3
# Session, user, roles; the inference nodes (for their alerts); the snapshots; the runs' count;
# the versions; the runs' page (with their snapshots and model versions).
WORKSPACE_PAGE = 8
# Session, user, roles; the version (with run, snapshot, ground truth); the saliency form's
# three splits; the output card's released scans and its scans per split and center; the
# saliency runs; the builds (with who made each).
VERSION_PAGE = 11


@pytest.fixture
def engineer():
    return user_with_role("mleng", "ml_engineer")


def registry_of(engineer, rows: int) -> None:
    version = GroundTruthVersion.objects.create(
        name="v1", created_by=engineer, content_sha256="a" * 64
    )
    for index in range(rows):
        snapshot = make_snapshot(
            version=version, user=engineer, name=f"v1-{index}", image_size=64 + 16 * index
        )
        run = make_run(snapshot=snapshot, user=engineer, name=f"run-{index}")
        ModelVersion.objects.create(
            name=f"model-{index}",
            run=run,
            snapshot=snapshot,
            artifact=f"modelops/models/model-{index}.keras",
            artifact_sha256="b" * 64,
            artifact_bytes=1,
            config=run.config,
            metrics={"validation": {"any": {"auroc": 0.9}}},
            evaluation={"splits": {}},
        )


@pytest.mark.parametrize("rows", ROWS)
def test_model_list_api(engineer, rows, django_assert_num_queries):
    registry_of(engineer, rows)
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=engineer.pk))

    with django_assert_num_queries(MODEL_LIST_API):
        response = client.get("/api/v1/modelops/models/")

    assert response.status_code == 200 and response.json()["count"] == rows


@pytest.mark.parametrize("rows", ROWS)
def test_models_workspace_page(engineer, rows, client, django_assert_num_queries):
    registry_of(engineer, rows)
    client.force_login(engineer)

    with django_assert_num_queries(WORKSPACE_PAGE):
        response = client.get("/models/")

    assert response.status_code == 200
    assert all(f"model-{index}".encode() in response.content for index in range(rows))


@pytest.mark.parametrize("centers", ROWS)
def test_version_page(centers, client, django_assert_num_queries):
    """The output card's rows (one per split and center) cost no statement each."""
    registry = seed_registry()
    for index in range(centers):
        make_scan(center=f"Center {index}", split="test")
    client.force_login(registry["coordinator"])

    with django_assert_num_queries(VERSION_PAGE):
        response = client.get(f"/models/versions/{registry['models'][0].pk}/")

    assert response.status_code == 200
    assert response.content.decode().count('<tr data-split="test"') == centers
