"""What a coordinator is told before changing work: the work a read holds before it is
reassigned or unassigned (kept on a withdrawn read, or nothing to keep), and who sees what
before a ground-truth version is released."""

import pytest
from rest_framework.test import APIClient

from annotations.assignment.services import read_unassign, scans_assign
from annotations.ground_truth.services import ground_truth_freeze, ground_truth_release
from annotations.models import Read, ReadStatus, Scan
from annotations.reading.services import LabelChange, read_flags_set, slice_labels_save
from tests.annotations.study_factories import label_and_complete, make_scan

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_read_change_counts_the_work_the_read_holds_and_what_its_scan_keeps(readers, coordinator):
    scan = make_scan(split="validation", slices=4)
    scans_assign(scans=Scan.objects.all(), assigned_by=coordinator, seed=5)
    read = Read.objects.get(scan=scan, kind="primary")
    # Two slices carry a label; a third was labelled and taken back (it labels nothing).
    slice_labels_save(
        read_id=read.pk,
        reader=read.reader,
        changes=[
            LabelChange(slice_index=0, values={"iph": True}, expected_version=0),
            LabelChange(slice_index=1, values={"no_hemorrhage": True}, expected_version=0),
            LabelChange(slice_index=2, values={"sah": True}, expected_version=0),
        ],
    )
    slice_labels_save(
        read_id=read.pk,
        reader=read.reader,
        changes=[LabelChange(slice_index=2, values={"sah": False}, expected_version=1)],
    )
    read_flags_set(
        read_id=read.pk, reader=read.reader, flags={"artifact": True}, note="", expected_version=0
    )

    body = _client(coordinator).get(f"/api/v1/study-reads/{read.pk}/change/").json()

    assert body["labelled_slices"] == 2
    assert body["flags"] == ["artifact"]
    assert body["has_work"] is True and body["scan_labelled"] is False
    assert body["role"] == "Primary read" and body["reader"] == read.reader.username
    assert (body["scan_reads_left"], body["scan_reads_required"]) == (2, 3)
    others = Read.objects.filter(scan=scan).exclude(pk=read.pk)
    assert body["scan_readers"] == sorted(others.values_list("reader_id", flat=True))

    untouched = others.first()
    body = _client(coordinator).get(f"/api/v1/study-reads/{untouched.pk}/change/").json()
    assert body["has_work"] is False and body["labelled_slices"] == 0
    assert body["role"] == "Cross-read"

    # A withdrawn read cannot be changed again: it does not exist here.
    read_unassign(read_id=read.pk, by=coordinator, force=True, reason="on leave")
    assert Read.objects.get(pk=read.pk).status == ReadStatus.WITHDRAWN
    gone = _client(coordinator).get(f"/api/v1/study-reads/{read.pk}/change/")
    assert gone.status_code == 404


def test_scan_level_reads_are_named_as_reads_of_the_test_set(readers, coordinator):
    make_scan(split="test", center="Center P")
    scans_assign(scans=Scan.objects.all(), assigned_by=coordinator, seed=5)

    roles = {
        _client(coordinator).get(f"/api/v1/study-reads/{read.pk}/change/").json()["role"]
        for read in Read.objects.all()
    }

    assert roles == {"Scan-level read of the test set"}


def test_release_consequences_say_which_readers_see_what_and_refuse_a_second_release(
    readers, coordinator
):
    final = make_scan(split="validation", slices=2)
    other = make_scan(split="validation", slices=2)
    scans_assign(scans=Scan.objects.all(), assigned_by=coordinator, seed=5)
    for read in Read.objects.filter(scan=final):
        label_and_complete(read, {0: {"iph": True}})
    # One read of the other scan is finished: that scan is not final, not in the version.
    label_and_complete(Read.objects.filter(scan=other).first())
    version = ground_truth_freeze(name="v1", created_by=coordinator)
    url = f"/api/v1/ground-truth/{version.pk}/release/consequences/"

    body = _client(coordinator).get(url).json()

    assert body["scans"] == 1 and body["slices"] == 2
    assert (body["readers"], body["reader_scans"]) == (3, 3)
    assert body["scans_still_read"] == 0 and body["refusal"] == ""

    ground_truth_release(version_id=version.pk, released_by=coordinator)
    assert _client(coordinator).get(url).json()["refusal"] == "This version is released already."
