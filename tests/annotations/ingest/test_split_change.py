"""Moving a center to another split: the consequences a coordinator confirms (scans, reads per
reading role, reads still needed, frozen ground-truth versions that keep their split) and the
refusal while the move would break a running reading round."""

import pytest
from rest_framework.test import APIClient

from annotations.assignment.services import read_unassign, scans_assign
from annotations.ground_truth.services import ground_truth_freeze
from annotations.ingest.services import center_split_set
from annotations.ingest.split_change import center_split_change
from annotations.models import Center, GroundTruthScanLabel, Read, Scan
from annotations.reading.services import read_assign
from ichlabel.errors import Conflict
from tests.annotations.study_factories import (
    label_and_complete,
    make_scan,
    scan_label_and_complete,
)

pytestmark = pytest.mark.django_db


def _assign(coordinator, center: str) -> list[Read]:
    scans_assign(scans=Scan.objects.filter(center__name=center), assigned_by=coordinator, seed=3)
    return list(Read.objects.filter(scan__center__name=center).order_by("id"))


def test_consequences_count_scans_reads_per_role_and_frozen_versions(readers, coordinator):
    done, running = (make_scan(center="Center T", split="train", slices=3) for _ in range(2))
    make_scan(center="Center T", split="train", slices=3)  # never assigned
    read_done = read_assign(scan=done, reader=readers[0])
    label_and_complete(read_done, {0: {"iph": True}})
    read_assign(scan=running, reader=readers[1])
    version = ground_truth_freeze(name="v1", created_by=coordinator)
    center = Center.objects.get(name="Center T")

    change = center_split_change(center=center, split="validation")

    assert (change.scans, change.slices) == (3, 9)
    assert [(r.role, r.open, r.completed) for r in change.reads] == [("Primary read", 1, 1)]
    assert (change.reads_per_scan_before, change.reads_per_scan_after) == (1, 3)
    # Two assigned scans lack their two cross-reads; the unassigned one is ordinary work.
    assert (change.scans_needing_reads, change.reads_to_assign) == (2, 4)
    assert [(v.name, v.scans, v.splits, v.released) for v in change.ground_truth_versions] == [
        ("v1", 1, ["train"], False)
    ]
    assert not change.refused

    center_split_set(center=center, split="validation", by=coordinator)

    assert set(Scan.objects.filter(center=center).values_list("split", flat=True)) == {"validation"}
    # The frozen version keeps the split it froze.
    assert GroundTruthScanLabel.objects.get(version=version).split == "train"


def test_open_scan_level_test_reads_refuse_a_move_to_validation(readers, coordinator):
    make_scan(center="Center P", split="test")
    reads = _assign(coordinator, "Center P")
    center = Center.objects.get(name="Center P")

    change = center_split_change(center=center, split="validation")

    assert change.refused
    assert [(r.role, r.open) for r in change.reads] == [("Scan-level read of the test set", 3)]
    assert change.refusals == [
        "3 reads (scan-level read of the test set) assigned and not finished on this center's "
        "scans: as validation scans they would be read slice by slice. Let them finish or "
        "unassign them on the Reading page first."
    ]
    with pytest.raises(Conflict) as refused:
        center_split_set(center=center, split="validation")
    assert refused.value.extra["reasons"] == change.refusals
    assert Center.objects.get(pk=center.pk).split == "test"
    assert set(Scan.objects.values_list("split", flat=True)) == {"test"}

    # Finished reads never block: the round is over, the reads are kept.
    for read in reads:
        scan_label_and_complete(read, {"sah": True})
    change = center_split_change(center=center, split="validation")
    assert not change.refused and change.completed_at_other_level == 3
    center_split_set(center=center, split="validation")
    assert Center.objects.get(pk=center.pk).split == "validation"


def test_open_cross_reads_refuse_a_move_to_training_but_not_to_test_levels_alike(
    readers, coordinator
):
    make_scan(center="Center V", split="validation")
    reads = _assign(coordinator, "Center V")
    center = Center.objects.get(name="Center V")

    to_train = center_split_change(center=center, split="train")
    assert to_train.refusals == [
        "2 cross-reads assigned and not finished on this center's scans: a training scan has "
        "one primary read and no cross-reads. Let them finish or unassign them on the Reading "
        "page first."
    ]
    # Slice-level reads cannot become scan-level test reads either.
    assert center_split_change(center=center, split="test").refused

    # Once the open cross-reads are gone (unassigned: no work yet) the move goes through.
    for read in reads:
        if read.kind == "cross":
            read_unassign(read_id=read.pk, by=coordinator)
    assert not center_split_change(center=center, split="train").refused
    center_split_set(center=center, split="train")


def test_the_same_split_is_no_change_and_never_refused(readers, coordinator):
    make_scan(center="Center P", split="test")
    _assign(coordinator, "Center P")

    change = center_split_change(center=Center.objects.get(name="Center P"), split="test")

    assert not change.changes and not change.refused


def test_api_previews_then_refuses_with_the_reason_and_moves_when_allowed(readers, coordinator):
    make_scan(center="Center P", split="test")
    _assign(coordinator, "Center P")
    center = Center.objects.get(name="Center P")
    client = APIClient()
    client.force_authenticate(coordinator)

    preview = client.get(f"/api/v1/centers/{center.pk}/split/change/", {"split": "train"})
    assert preview.status_code == 200
    body = preview.json()
    assert body["refused"] is True and body["from_split"] == "test" and body["scans"] == 1
    assert body["reads"][0]["role"] == "Scan-level read of the test set"
    assert body["reads"][0]["open"] == 3

    refused = client.post(f"/api/v1/centers/{center.pk}/split/", {"split": "train"}, "json")
    assert refused.status_code == 409
    assert refused.json()["extra"]["reasons"] == body["refusals"]
    assert "cannot move to the training split now" in refused.json()["message"]

    unknown = client.get(f"/api/v1/centers/{center.pk}/split/change/", {"split": "nope"})
    assert unknown.status_code == 400
    missing = client.get(f"/api/v1/centers/{center.pk}/split/change/")
    assert missing.status_code == 400

    Read.objects.all().delete()
    moved = client.post(f"/api/v1/centers/{center.pk}/split/", {"split": "train"}, "json")
    assert moved.status_code == 200 and moved.json()["split"] == "train"


def test_the_admin_refuses_the_same_move_with_the_reasons(readers, coordinator, client):
    from django.contrib.auth.models import User

    make_scan(center="Center P", split="test")
    _assign(coordinator, "Center P")
    center = Center.objects.get(name="Center P")
    client.force_login(User.objects.create_superuser("root", "", "pw"))
    url = f"/admin/annotations/center/{center.pk}/change/"

    response = client.post(url, {"name": "Center P", "split": "validation"})

    assert response.status_code == 200  # the form again, with the reason
    assert "would be read slice by slice" in response.content.decode()
    assert Center.objects.get(pk=center.pk).split == "test"

    response = client.post(url, {"name": "Center P", "split": "test"})
    assert response.status_code == 302
