"""Consensus: 2-of-3 majority per slice and subtype, scan level from slices, scan-level
majority, single primary reads, nothing final before all reads are done, adjudication
overrides, frozen versions with a content hash, and their comparison."""

import pytest
from django.db import connection

from annotations.adjudication.services import (
    adjudication_item_resolve,
    adjudication_missing_reads_refresh,
    adjudication_split_votes_create,
)
from annotations.assignment.services import read_unassign
from annotations.ground_truth.selectors import ground_truth_compare
from annotations.ground_truth.services import (
    ground_truth_content_sha256,
    ground_truth_freeze,
    ground_truth_release,
)
from annotations.models import (
    FrozenRowError,
    GroundTruthScanLabel,
    GroundTruthSliceLabel,
    GroundTruthVersion,
    ReadKind,
    ReadLevel,
)
from annotations.reading.services import read_assign
from ichlabel.errors import DomainError
from tests.annotations.study_factories import (
    label_and_complete,
    make_scan,
    scan_label_and_complete,
)

pytestmark = pytest.mark.django_db


def three_reads(scan, readers, level=ReadLevel.SLICE):
    kinds = [ReadKind.PRIMARY, ReadKind.CROSS, ReadKind.CROSS]
    return [
        read_assign(scan=scan, reader=reader, kind=kind, level=level)
        for reader, kind in zip(readers, kinds, strict=False)
    ]


def slice_truth(version, scan):
    rows = GroundTruthSliceLabel.objects.filter(version=version, scan=scan).order_by(
        "slice__position_index"
    )
    return [
        {name for name in ("any_ich", "iph", "ivh", "sah", "sdh", "edh") if getattr(row, name)}
        for row in rows
    ]


def scan_truth(version, scan):
    row = GroundTruthScanLabel.objects.get(version=version, scan=scan)
    return {name for name in ("any_ich", "iph", "ivh", "sah", "sdh", "edh") if getattr(row, name)}


@pytest.fixture
def voted_scan(readers):
    """A validation scan read three times: slice 0 SDH 3:0, slice 1 IPH 2:1, slice 2 SAH 1:2,
    slice 3 nothing."""
    scan = make_scan(split="validation", slices=4)
    a, b, c = three_reads(scan, readers)
    label_and_complete(a, {0: {"sdh": True}, 1: {"iph": True}, 2: {"sah": True}})
    label_and_complete(b, {0: {"sdh": True}, 1: {"iph": True}})
    label_and_complete(c, {0: {"sdh": True, "edh": True}, 3: {"no_hemorrhage": True}})
    return scan


def test_slice_majority_of_three_and_scan_positive_if_any_slice_is(voted_scan, coordinator):
    version = ground_truth_freeze(name="v1", created_by=coordinator)

    assert slice_truth(version, voted_scan) == [
        {"any_ich", "sdh"},
        {"any_ich", "iph"},
        set(),
        set(),
    ]
    assert scan_truth(version, voted_scan) == {"any_ich", "sdh", "iph"}
    scan_row = GroundTruthScanLabel.objects.get(version=version, scan=voted_scan)
    assert scan_row.positive_slices == 2 and scan_row.reads == 3 and scan_row.level == "slice"
    assert version.scan_count == 1 and version.slice_count == 4
    assert version.counts["slices"]["positive"] == {
        "any": 2,
        "iph": 1,
        "ivh": 0,
        "sah": 0,
        "sdh": 1,
        "edh": 0,
    }


def test_nothing_is_final_until_all_reads_are_completed(readers, coordinator):
    scan = make_scan(split="validation")
    a, b, _ = three_reads(scan, readers)
    label_and_complete(a, {0: {"iph": True}})
    label_and_complete(b, {0: {"iph": True}})
    train = make_scan(split="train", center="Center T")
    label_and_complete(read_assign(scan=train, reader=readers[0]), {1: {"edh": True}})

    version = ground_truth_freeze(name="partial", created_by=coordinator)

    assert not GroundTruthScanLabel.objects.filter(version=version, scan=scan).exists()
    assert version.pending_scan_count == 1


def test_a_training_scans_single_primary_read_is_its_ground_truth(readers, coordinator):
    scan = make_scan(split="train", center="Center T", slices=3)
    label_and_complete(read_assign(scan=scan, reader=readers[0]), {2: {"ivh": True, "iph": True}})

    version = ground_truth_freeze(name="train", created_by=coordinator)

    assert slice_truth(version, scan) == [set(), set(), {"any_ich", "ivh", "iph"}]


def test_scan_level_reads_take_the_scan_level_majority(readers, coordinator):
    scan = make_scan(split="test", center="Center P")
    a, b, c = three_reads(scan, readers, level=ReadLevel.SCAN)
    scan_label_and_complete(a, {"sah": True, "sdh": True})
    scan_label_and_complete(b, {"sah": True})
    scan_label_and_complete(c, {"no_hemorrhage": True})

    version = ground_truth_freeze(name="test", created_by=coordinator)

    assert scan_truth(version, scan) == {"any_ich", "sah"}
    assert not GroundTruthSliceLabel.objects.filter(version=version).exists()
    row = GroundTruthScanLabel.objects.get(version=version, scan=scan)
    assert row.level == "scan" and row.positive_slices is None


def test_split_votes_are_queued_on_request_and_a_decision_overrides_the_vote(
    voted_scan, coordinator
):
    added = adjudication_split_votes_create(subtypes=["iph", "sah"], created_by=coordinator)
    again = adjudication_split_votes_create(subtypes=["iph", "sah"], created_by=coordinator)

    assert (added, again) == (2, 0)
    items = {item.label: item for item in voted_scan.adjudication_items.all()}
    assert (items["iph"].slice.position_index, items["iph"].positive_votes) == (1, 2)
    assert (items["sah"].slice.position_index, items["sah"].total_votes) == (2, 3)
    adjudication_item_resolve(
        item_id=items["iph"].pk, decided_by=coordinator, reason="mass, not blood", value=False
    )
    adjudication_item_resolve(
        item_id=items["sah"].pk, decided_by=coordinator, reason="sulcal blood", value=True
    )
    with pytest.raises(DomainError):
        adjudication_item_resolve(
            item_id=items["sah"].pk, decided_by=coordinator, reason="again", value=False
        )

    version = ground_truth_freeze(name="adjudicated", created_by=coordinator)

    assert slice_truth(version, voted_scan) == [
        {"any_ich", "sdh"},
        set(),
        {"any_ich", "sah"},
        set(),
    ]
    assert version.counts["slices"]["adjudicated"] == 2
    items["iph"].refresh_from_db()
    assert items["iph"].decided_by == coordinator and items["iph"].decision_reason


def test_a_withdrawn_read_is_queued_and_the_decision_makes_the_scan_final(readers, coordinator):
    scan = make_scan(split="validation", slices=3)
    a, b, c = three_reads(scan, readers)
    label_and_complete(a, {0: {"iph": True}})
    label_and_complete(b, {0: {"iph": True}})
    label_and_complete(c, {1: {"sdh": True}})
    read_unassign(read_id=c.pk, by=coordinator, force=True, reason="reader left")
    item = scan.adjudication_items.get(reason="missing_read")
    with pytest.raises(DomainError):  # two of three reads: not final
        ground_truth_freeze(name="before", created_by=coordinator)

    adjudication_item_resolve(
        item_id=item.pk,
        decided_by=coordinator,
        reason="two reads agree; slice 2 reviewed",
        slices=[{"slice_index": 0, "iph": True}, {"slice_index": 2, "edh": True}],
    )
    second = ground_truth_freeze(name="after", created_by=coordinator)

    assert slice_truth(second, scan) == [{"any_ich", "iph"}, set(), {"any_ich", "edh"}]
    assert adjudication_missing_reads_refresh() == {"created": 0, "obsolete": 0}


def test_freezing_with_nothing_final_is_refused_and_leaves_nothing(readers, coordinator):
    scan = make_scan(split="validation")
    three_reads(scan, readers)

    with pytest.raises(DomainError):
        ground_truth_freeze(name="empty", created_by=coordinator)

    assert not GroundTruthVersion.objects.exists()


def test_versions_are_frozen(voted_scan, coordinator):
    version = ground_truth_freeze(name="v1", created_by=coordinator)
    row = GroundTruthSliceLabel.objects.filter(version=version).first()

    row.iph = not row.iph
    with pytest.raises(FrozenRowError):
        row.save()
    with pytest.raises(FrozenRowError):
        GroundTruthSliceLabel.objects.filter(version=version).update(iph=True)
    with pytest.raises(FrozenRowError):
        GroundTruthScanLabel.objects.filter(version=version).delete()
    version.name = "renamed"
    with pytest.raises(FrozenRowError):
        version.save()
    with pytest.raises(FrozenRowError):
        GroundTruthVersion.objects.filter(pk=version.pk).update(note="changed")
    with pytest.raises(DomainError):
        ground_truth_freeze(name="v1", created_by=coordinator)


def test_the_content_hash_depends_on_the_labels_only(voted_scan, coordinator):
    first = ground_truth_freeze(name="v1", created_by=coordinator)
    second = ground_truth_freeze(name="v2", created_by=coordinator)

    assert first.content_sha256 == second.content_sha256
    assert len(first.content_sha256) == 64
    assert ground_truth_content_sha256(version_id=first.pk) == first.content_sha256

    item_count = adjudication_split_votes_create(subtypes=["sah"], created_by=coordinator)
    item = voted_scan.adjudication_items.get()
    adjudication_item_resolve(item_id=item.pk, decided_by=coordinator, reason="r", value=True)
    third = ground_truth_freeze(name="v3", created_by=coordinator)

    assert item_count == 1 and third.content_sha256 != first.content_sha256


def test_the_hash_is_the_documented_canonical_listing(voted_scan, coordinator):
    import hashlib

    version = ground_truth_freeze(name="v1", created_by=coordinator)
    scan_row = GroundTruthScanLabel.objects.get(version=version)
    fields = ("any_ich", "iph", "ivh", "sah", "sdh", "edh")

    def bits(row):
        return "".join("1" if getattr(row, name) else "0" for name in fields)

    lines = [f"scan|{voted_scan.series_instance_uid}|slice|{bits(scan_row)}"]
    slices = GroundTruthSliceLabel.objects.filter(version=version).select_related("slice")
    lines += sorted(f"slice|{row.slice.sop_instance_uid}|{bits(row)}" for row in slices)
    expected = hashlib.sha256("".join(f"{line}\n" for line in lines).encode()).hexdigest()

    assert version.content_sha256 == expected, connection.vendor


def test_compare_counts_what_changed_per_class(voted_scan, readers, coordinator):
    first = ground_truth_freeze(name="v1", created_by=coordinator)
    adjudication_split_votes_create(subtypes=["sah"], created_by=coordinator)
    item = voted_scan.adjudication_items.get()
    adjudication_item_resolve(item_id=item.pk, decided_by=coordinator, reason="r", value=True)
    extra = make_scan(split="train", center="Center T", slices=2)
    label_and_complete(read_assign(scan=extra, reader=readers[0]))
    second = ground_truth_freeze(name="v2", created_by=coordinator)

    diff = ground_truth_compare(version_a=first, version_b=second)

    assert diff["identical"] is False
    assert diff["slices"]["changed"] == 1 and diff["slices"]["only_in_b"] == 2
    assert diff["slices"]["changed_by_class"] == {
        "any": 1,
        "iph": 0,
        "ivh": 0,
        "sah": 1,
        "sdh": 0,
        "edh": 0,
    }
    (row,) = diff["slices"]["changed_rows"]
    assert row["slice_index"] == 2 and row["a"]["sah"] is False and row["b"]["sah"] is True
    assert diff["scans"]["changed"] == 1 and diff["scans"]["changed_by_class"]["sah"] == 1


def test_release_happens_once(voted_scan, coordinator):
    version = ground_truth_freeze(name="v1", created_by=coordinator)

    released = ground_truth_release(version_id=version.pk, released_by=coordinator)

    assert released.released and released.released_by == coordinator
    with pytest.raises(DomainError):
        ground_truth_release(version_id=version.pk, released_by=coordinator)
