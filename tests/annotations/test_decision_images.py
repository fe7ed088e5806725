"""The images for those who decide: an adjudication item names the slices it is about with
every read's labels of each, the scan page carries the same for coordinators (not for ML
engineers), and readers reach neither, nor the files of a scan they do not read."""

import json
import re

import pytest
from rest_framework.test import APIClient

from annotations.adjudication.services import (
    adjudication_missing_reads_refresh,
    adjudication_split_votes_create,
)
from annotations.assignment.services import read_unassign
from annotations.models import AdjudicationItem, ReadKind, ReadLevel
from annotations.reading.services import read_assign
from tests.annotations.study_factories import label_and_complete, make_scan
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db

IPH = {"iph": True}
SAH = {"sah": True}


@pytest.fixture
def study(coordinator):
    """A scan three readers read: two marked IPH on slice 1, all three SAH on slice 2 save one,
    one said "no hemorrhage" on slice 3."""
    scan = make_scan(slices=5)
    readers = [user_with_role(f"reader{n}", "neuroradiologist") for n in range(3)]
    kinds = [ReadKind.PRIMARY, ReadKind.CROSS, ReadKind.CROSS]
    reads = [
        read_assign(scan=scan, reader=reader, kind=kind, level=ReadLevel.SLICE)
        for reader, kind in zip(readers, kinds, strict=True)
    ]
    label_and_complete(reads[0], {1: IPH, 2: SAH})
    label_and_complete(reads[1], {1: IPH, 2: SAH})
    label_and_complete(reads[2], {2: {"sah": False}, 3: {"no_hemorrhage": True}})
    adjudication_split_votes_create(subtypes=["iph"], created_by=coordinator)
    return {"scan": scan, "readers": readers, "reads": reads}


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_split_vote_shows_its_slice_with_every_readers_labels(study, coordinator):
    item = AdjudicationItem.objects.get(scan=study["scan"], label="iph")

    detail = as_user(coordinator).get(f"/api/v1/adjudication/{item.pk}/").json()

    assert [row["slice_index"] for row in detail["slices"]] == [1]
    votes = detail["slices"][0]["votes"]
    assert [(vote["reader"], vote["values"] and vote["values"]["iph"]) for vote in votes] == [
        ("reader0", True),
        ("reader1", True),
        ("reader2", None),  # no label of the slice
    ]


def test_a_missing_read_shows_the_slices_any_reader_marked(study, coordinator):
    read_unassign(read_id=study["reads"][2].pk, by=coordinator, force=True)
    adjudication_missing_reads_refresh()
    item = AdjudicationItem.objects.get(scan=study["scan"], reason="missing_read")

    detail = as_user(coordinator).get(f"/api/v1/adjudication/{item.pk}/").json()

    # Slice 3's "no hemorrhage" and slice 2's taken-back SAH of reader2 are no question.
    assert [row["slice_index"] for row in detail["slices"]] == [1, 2]
    sah = {vote["reader"]: vote["values"]["sah"] for vote in detail["slices"][1]["votes"]}
    assert sah == {"reader0": True, "reader1": True, "reader2": False}


def scan_page_votes(client, scan) -> list | None:
    html = client.get(f"/study/scans/{scan.pk}/").content.decode()
    found = re.search(r'<script id="slice-votes" type="application/json">(.*?)</script>', html)
    return json.loads(found.group(1)) if found else None


def test_the_scan_page_lists_the_marked_slices_for_coordinators_only(study, coordinator, client):
    client.force_login(coordinator)
    votes = scan_page_votes(client, study["scan"])
    client.force_login(user_with_role("ml", "ml_engineer"))

    assert votes is not None and [row["slice_index"] for row in votes] == [1, 2]
    assert [vote["reader"] for vote in votes[0]["votes"]] == ["reader0", "reader1", "reader2"]
    assert scan_page_votes(client, study["scan"]) is None


def test_readers_see_neither_the_votes_nor_another_scans_images(study, client):
    stranger = user_with_role("stranger", "neuroradiologist")
    item = AdjudicationItem.objects.get(scan=study["scan"], label="iph")
    api = as_user(stranger)

    assert api.get(f"/api/v1/adjudication/{item.pk}/").status_code == 403
    assert api.get(f"/api/v1/scans/{study['scan'].pk}/slices/1/file").status_code == 404
    client.force_login(study["readers"][0])  # even a reader of the scan
    assert client.get(f"/study/scans/{study['scan'].pk}/").status_code == 403
    assert as_user(study["readers"][0]).get(f"/api/v1/adjudication/{item.pk}/").status_code == 403
