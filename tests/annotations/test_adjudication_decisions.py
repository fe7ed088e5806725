"""The resolved adjudication list shows what was decided: a split vote's subtype present or
absent, a missing read's subtypes over its slices, a scan-level scan's classes; on the queue
page and in the list API."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from annotations.adjudication.services import (
    adjudication_item_resolve,
    adjudication_missing_reads_refresh,
    adjudication_split_votes_create,
)
from annotations.models import AdjudicationItem, ReadKind, ReadLevel
from annotations.reading.services import read_assign
from tests.annotations.study_factories import (
    label_and_complete,
    make_scan,
    scan_label_and_complete,
)

pytestmark = pytest.mark.django_db


def test_resolved_items_show_their_decision(coordinator, readers):
    voted = make_scan(center="Center V", split="validation", slices=3)
    for reader, kind, labels in zip(
        readers[:3],
        (ReadKind.PRIMARY, ReadKind.CROSS, ReadKind.CROSS),
        ({1: {"sdh": True}}, {1: {"sdh": True}}, {}),
        strict=True,
    ):
        label_and_complete(read_assign(scan=voted, reader=reader, kind=kind), labels)
    short = make_scan(center="Center V", split="validation", slices=4)
    label_and_complete(read_assign(scan=short, reader=readers[0]), {0: {"sah": True}})
    scan_level = make_scan(center="Center P", split="test", slices=2)
    read = read_assign(scan=scan_level, reader=readers[0], level=ReadLevel.SCAN)
    scan_label_and_complete(read, {"sah": True})
    adjudication_split_votes_create(subtypes=["sdh"], created_by=coordinator)
    adjudication_missing_reads_refresh()
    split_vote = AdjudicationItem.objects.get(scan=voted)
    missing = AdjudicationItem.objects.get(scan=short)
    missing_scan = AdjudicationItem.objects.get(scan=scan_level)
    still_open = make_scan(center="Center V", split="validation", slices=2)
    label_and_complete(read_assign(scan=still_open, reader=readers[1]))
    adjudication_missing_reads_refresh()

    decide = {"decided_by": coordinator, "reason": "checked on the images"}
    adjudication_item_resolve(item_id=split_vote.pk, value=False, **decide)
    adjudication_item_resolve(
        item_id=missing.pk,
        slices=[{"slice_index": 0, "sah": True}, {"slice_index": 2, "sah": True, "iph": True}],
        **decide,
    )
    adjudication_item_resolve(item_id=missing_scan.pk, scan_values={"sah": True}, **decide)
    api = APIClient()
    api.force_authenticate(coordinator)
    listed = api.get("/api/v1/adjudication/").json()["results"]
    page = Client()
    page.force_login(coordinator)
    html = page.get("/study/adjudication/?status=all").content.decode()

    decisions = {row["id"]: row["decision_text"] for row in listed}
    assert decisions == {
        split_vote.pk: "SDH absent",
        missing.pk: "IPH, SAH on 2 of 4 slices",
        missing_scan.pk: "SAH",
        AdjudicationItem.objects.get(scan=still_open).pk: "",
    }
    for text in ("SDH absent", "IPH, SAH on 2 of 4 slices", "<strong>SAH</strong>"):
        assert text in html
    assert html.count("checked on the images") == 3
