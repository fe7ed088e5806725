"""Errors Django answers itself are JSON in the API's one shape under /api/ (no route, a body
over the upload limit, a crash), and elsewhere the site's pages: in its layout, with the user's
navigation and a way to their start page (the 500 page without asking the database)."""

import json
import re

import pytest
from django.test import Client

from ichlabel.errorpages import server_error
from tests.annotations.study_factories import make_scan
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


def nav_links(html: str) -> list[str]:
    nav = re.search(r"<nav>(.*?)</nav>", html, re.S)
    return re.findall(r'href="([^"]+)"', nav.group(1)) if nav else []


def test_refused_and_missing_pages_are_in_the_layout_with_a_way_home(client_in):
    scan = make_scan(slices=1)
    refused = client_in.get(f"/study/scans/{scan.pk}/")
    missing = client_in.get("/no-such-page/")

    assert refused.status_code == 403 and missing.status_code == 404
    for page in (refused, missing):
        html = page.content.decode()
        assert page["Content-Type"].startswith("text/html")
        assert 'class="topbar"' in html and 'href="/" id="error-home"' in html
        # The reader's own navigation: the worklist, none of the coordinators' pages.
        assert "/reading/" in nav_links(html) and "/study/" not in nav_links(html)
        assert "/static/ichlabel/favicon.svg" in html
    assert f"/study/scans/{scan.pk}/" in refused.content.decode()
    assert "/no-such-page/" in missing.content.decode()
    api = client_in.get(f"/api/v1/scans/{scan.pk}/")
    assert api.status_code == 403 and api["Content-Type"] == "application/json"


@pytest.mark.urls("tests.ichlabel.crash_urls")
def test_a_crash_is_the_layouts_500_page_and_json_under_the_api(client_in):
    page = client_in.get("/crash/")
    api = client_in.get("/api/v1/crash/")

    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert 'class="topbar"' in html and 'href="/" id="error-home"' in html
    assert "a bug" not in html  # the exception stays in the log
    assert api.status_code == 500 and api.json()["message"].startswith("Internal error")


def test_the_500_page_renders_without_the_database(rf, django_db_blocker):
    # What crashed may be the database itself: the page asks nothing of it.
    with django_db_blocker.block():
        page = server_error(rf.get("/study/"))

    assert page.status_code == 500 and b'id="error-home"' in page.content


def test_favicon_ico_leads_to_the_sites_icon(client):
    answer = client.get("/favicon.ico")

    assert answer.status_code == 302 and answer["Location"] == "/static/ichlabel/favicon.svg"
