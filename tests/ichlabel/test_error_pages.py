"""Errors Django answers itself are JSON in the API's one shape under /api/ (no route, a body
over the upload limit), and the site's pages elsewhere."""

import json

import pytest
from django.test import Client

from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_in() -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user_with_role("alice", "neuroradiologist"))
    return client


def test_an_unmatched_api_route_is_a_json_404(client_in):
    answer = client_in.get("/api/v1/no-such-thing/")

    assert answer.status_code == 404 and answer["Content-Type"] == "application/json"
    assert answer.json() == {"message": "No API route /api/v1/no-such-thing/.", "extra": {}}
    page = client_in.get("/no-such-page/")
    assert page.status_code == 404 and "application/json" not in page["Content-Type"]


def test_a_body_over_the_limit_is_a_json_400_naming_it(client_in, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"changes": [{"slice_index": 0, "version": 0}] * 100})

    answer = client_in.post("/api/v1/reads/1/labels/", body, content_type="application/json")

    assert answer.status_code == 400 and answer["Content-Type"] == "application/json"
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in answer.json()["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/reads/99999999999999999999999/",  # beyond 64 bits
        "/api/v1/reads/\u0661\u0662/",  # Arabic-Indic digits
        "/api/v1/modelops/models/1e3/",
    ],
)
def test_an_id_no_database_key_can_hold_is_a_json_404(client_in, path):
    answer = client_in.get(path)

    assert answer.status_code == 404 and answer.json()["message"].startswith("No API route")
