"""A reader's finished work: completed reads listed on the worklist and shown read-only with the
released ground truth of their scan (the reader's blinded view only, and only their own reads);
a withdrawn read's page says so; a change to a completed or withdrawn read is refused with a
409 that names why, on every endpoint that changes a read."""

import json
import re

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from annotations.ground_truth.services import ground_truth_freeze, ground_truth_release
from annotations.models import Read, ReadLevel, ReadStatus
from annotations.reading.services import read_assign
from tests.annotations.study_factories import label_and_complete, make_scan
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db

CLASSES = {"any", "iph", "ivh", "sah", "sdh", "edh"}


@pytest.fixture
def study():
    reader = user_with_role("reader", "neuroradiologist")
    other = user_with_role("other", "neuroradiologist")
    coordinator = user_with_role("coord", "coordinator")
    released_scan = make_scan(split="train", center="Center T", slices=3)
    done = label_and_complete(
        read_assign(scan=released_scan, reader=reader), {1: {"iph": True}, 2: {"sdh": True}}
    )
    version = ground_truth_freeze(name="v1", created_by=coordinator)
    ground_truth_release(version_id=version.pk, released_by=coordinator)
    # Completed after the release: in no released version yet.
    later = label_and_complete(read_assign(scan=make_scan(split="train", slices=2), reader=reader))
    open_read = read_assign(scan=make_scan(split="train", slices=2), reader=reader)
    withdrawn = read_assign(scan=make_scan(split="train", slices=2), reader=reader)
    Read.objects.filter(pk=withdrawn.pk).update(
        status=ReadStatus.WITHDRAWN, withdrawn_at=timezone.now(), withdrawn_by=coordinator
    )
    theirs = label_and_complete(read_assign(scan=make_scan(split="train"), reader=other))
    return {
        "reader": reader,
        "other": other,
        "done": done,
        "later": later,
        "open": open_read,
        "withdrawn": withdrawn,
        "theirs": theirs,
    }


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def inline(html: str, element_id: str):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    return json.loads(match.group(1)) if match else None


def test_the_worklist_lists_open_reads_to_work_on_and_completed_ones_to_view(study):
    html = page_client(study["reader"]).get("/reading/").content.decode()
    open_table, completed_table = html.split('id="completed-reads"')

    assert f'data-read="{study["open"].pk}"' in open_table
    assert f'data-read="{study["done"].pk}"' not in open_table
    for read, truth in ((study["done"], "released in v1"), (study["later"], "not released yet")):
        row = completed_table.split(f'data-read="{read.pk}"')[1].split("</tr>")[0]
        assert truth in row
        assert f'href="/reading/{read.pk}/"' in row and ">View<" in row
    assert f'data-read="{study["withdrawn"].pk}"' not in html
    assert f'data-read="{study["theirs"].pk}"' not in html


def test_a_completed_read_carries_its_released_ground_truth_and_nothing_withheld(study):
    client = page_client(study["reader"])
    done = client.get(f"/reading/{study['done'].pk}/").content.decode()
    later = client.get(f"/reading/{study['later'].pk}/").content.decode()
    opened = client.get(f"/reading/{study['open'].pk}/").content.decode()

    truth = inline(done, "ground-truth-data")
    assert inline(done, "read-data")["status"] == "completed"
    assert set(truth) == {"version", "scan", "slices"}
    assert set(truth["version"]) == {"id", "name", "released_at", "scan_count"}
    assert truth["version"]["name"] == "v1" and truth["version"]["scan_count"] == 1
    assert set(truth["scan"]) == CLASSES | {"scan", "read", "level", "positive_slices"}
    assert truth["scan"]["read"] == study["done"].pk and truth["scan"]["sdh"] is True
    assert [(row["slice_index"], row["iph"], row["sdh"]) for row in truth["slices"]] == [
        (0, False, False), (1, True, False), (2, False, True),
    ]  # fmt: skip
    assert all(set(row) == CLASSES | {"slice_index"} for row in truth["slices"])
    # No released version holds the later scan; an open read is never shown a truth.
    assert inline(later, "ground-truth-data") is None
    assert inline(opened, "ground-truth-data") is None


def test_another_readers_completed_read_does_not_exist_and_a_withdrawn_one_says_so(study):
    reader, other = page_client(study["reader"]), page_client(study["other"])

    withdrawn = reader.get(f"/reading/{study['withdrawn'].pk}/")
    theirs = reader.get(f"/reading/{study['theirs'].pk}/")
    not_theirs_withdrawn = other.get(f"/reading/{study['withdrawn'].pk}/")
    coordinator = page_client(user_with_role("coord2", "coordinator"))

    assert withdrawn.status_code == 200
    body = withdrawn.content.decode()
    assert "withdrawn from you" in body and 'id="reader"' not in body
    assert "read-data" not in body
    assert theirs.status_code == 404
    assert not_theirs_withdrawn.status_code == 404
    assert coordinator.get(f"/reading/{study['done'].pk}/").status_code == 403


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("labels/", {"changes": [{"slice_index": 0, "version": 0, "iph": True}]}),
        ("flags/", {"version": 0, "artifact": True}),
        ("progress/", {"viewed": [0], "slice_index": 0, "seconds": 1}),
        ("complete/", {"unseen_ok": True}),
        ("scan-label/", {"version": 0, "iph": True}),
    ],
)
@pytest.mark.parametrize("which", ["done", "withdrawn"])
def test_a_change_to_a_finished_read_is_refused_naming_why(study, which, path, body):
    read = study[which]
    if path == "scan-label/":
        Read.objects.filter(pk=read.pk).update(level=ReadLevel.SCAN)

    response = api_client(study["reader"]).post(
        f"/api/v1/reads/{read.pk}/{path}", body, format="json"
    )

    expected = {"done": "completed", "withdrawn": "withdrawn"}[which]
    assert response.status_code == 409, response.json()
    assert response.json()["extra"] == {"read_status": expected}
    assert expected in response.json()["message"]
