"""Assignment: balanced primary reads, blinded cross-reads, scan-level test reads, capacity,
random order per reader, reassign and unassign."""

import pytest
from django.db import IntegrityError, transaction

from annotations.assignment.services import (
    read_order_key,
    read_reassign,
    read_unassign,
    scan_assignment_filter,
    scans_assign,
)
from annotations.models import (
    AdjudicationItem,
    LabelAudit,
    Read,
    ReadKind,
    ReadLevel,
    ReadStatus,
    Scan,
)
from annotations.reading.selectors import worklist_for_reader
from annotations.reading.services import (
    LabelChange,
    ReadClosed,
    read_assign,
    slice_labels_save,
)
from ichlabel.errors import Conflict, DomainError
from tests.annotations.study_factories import make_scan

pytestmark = pytest.mark.django_db


def assign(coordinator, **kwargs):
    kwargs.setdefault("scans", Scan.objects.all())
    kwargs.setdefault("seed", 7)
    return scans_assign(assigned_by=coordinator, **kwargs)


def test_training_scans_get_one_primary_read_balanced_over_readers(readers, coordinator):
    for _ in range(8):
        make_scan(split="train", center="Center T")

    result = assign(coordinator)

    assert result.assigned_scans == 8
    reads = Read.objects.all()
    assert {read.kind for read in reads} == {ReadKind.PRIMARY}
    assert {read.level for read in reads} == {ReadLevel.SLICE}
    per_reader = [Read.objects.filter(reader=reader).count() for reader in readers]
    assert per_reader == [2, 2, 2, 2]


def test_validation_scans_get_two_cross_reads_by_other_readers(readers, coordinator):
    scans = [make_scan(split="validation") for _ in range(4)]

    assign(coordinator)

    for scan in scans:
        reads = list(scan.reads.all())
        assert sorted(read.kind for read in reads) == ["cross", "cross", "primary"]
        assert len({read.reader_id for read in reads}) == 3
    assert all(Read.objects.filter(reader=r).count() == 3 for r in readers)


def test_test_scans_get_three_scan_level_reads(readers, coordinator):
    scan = make_scan(split="test", center="Center P")

    assign(coordinator)

    assert sorted(scan.reads.values_list("level", flat=True)) == ["scan"] * 3


def test_balancing_counts_the_open_workload_already_held(readers, coordinator):
    busy = make_scan(split="train", center="Center T")
    for reader in readers[:3]:
        read_assign(scan=make_scan(split="train", center="Center T"), reader=reader)
    read_assign(scan=busy, reader=readers[0])

    result = assign(coordinator, scans=Scan.objects.filter(reads__isnull=True))

    assert result.assigned_scans == 0  # every scan has its primary read
    new = make_scan(split="train", center="Center T")
    assign(coordinator, scans=Scan.objects.filter(pk=new.pk))
    assert new.reads.get().reader == readers[3]


def test_capacity_limits_open_reads_and_skips_scans_without_room(readers, coordinator):
    for _ in range(3):
        make_scan(split="validation")

    result = assign(coordinator, readers=readers[:3], capacity=2)

    assert result.assigned_scans == 2
    assert len(result.skipped) == 1 and "readers" in result.skipped[0]["reason"]
    assert all(Read.objects.filter(reader=r).count() <= 2 for r in readers[:3])
    skipped = result.skipped[0]["scan"]
    assert not Read.objects.filter(scan_id=skipped).exists()  # all of a scan's reads or none


def test_per_reader_capacity_overrides_the_default(readers, coordinator):
    for _ in range(4):
        make_scan(split="train", center="Center T")

    assign(coordinator, readers=readers[:2], capacities={readers[0].pk: 1})

    assert Read.objects.filter(reader=readers[0]).count() == 1
    assert Read.objects.filter(reader=readers[1]).count() == 3


def test_dry_run_plans_without_saving(readers, coordinator):
    make_scan(split="validation")

    result = assign(coordinator, dry_run=True)

    assert len(result.planned) == 3 and not Read.objects.exists()


def test_each_reader_reads_in_an_own_seeded_random_order(readers, coordinator):
    for _ in range(12):
        make_scan(split="validation")

    assign(coordinator, readers=readers[:3], seed=11)

    orders = [
        [read.scan_id for read in worklist_for_reader(reader=reader)] for reader in readers[:3]
    ]
    assert all(sorted(order) == sorted(orders[0]) for order in orders)
    assert len({tuple(order) for order in orders}) == 3  # no two readers share an order
    for reader, order in zip(readers[:3], orders, strict=True):
        keys = [read_order_key(seed=11, reader_id=reader.pk, scan_id=s) for s in order]
        assert keys == sorted(keys)


def test_assigning_again_fills_only_missing_reads(readers, coordinator):
    scan = make_scan(split="validation")
    assign(coordinator)
    cross = scan.reads.filter(kind=ReadKind.CROSS).first()
    read_unassign(read_id=cross.pk, by=coordinator)

    result = assign(coordinator, scans=scan_assignment_filter(Scan.objects, status="understaffed"))

    assert result.assigned_scans == 1 and [p.kind for p in result.planned] == ["cross"]
    assert scan.reads.filter(status__in=["assigned"]).count() == 3


def test_the_database_keeps_one_read_per_reader_and_one_active_primary(readers, coordinator):
    scan = make_scan(split="validation")
    read_assign(scan=scan, reader=readers[0], kind=ReadKind.PRIMARY)

    with pytest.raises(IntegrityError), transaction.atomic():
        Read.objects.create(scan=scan, reader=readers[0], kind=ReadKind.CROSS)
    with pytest.raises(IntegrityError), transaction.atomic():
        Read.objects.create(scan=scan, reader=readers[1], kind=ReadKind.PRIMARY)


def test_an_untouched_read_is_reassigned_in_place(readers, coordinator):
    scan = make_scan(split="train", center="Center T")
    read = read_assign(scan=scan, reader=readers[0])

    moved = read_reassign(read_id=read.pk, reader=readers[1], by=coordinator)

    assert moved.pk == read.pk and moved.reader == readers[1]
    assert not worklist_for_reader(reader=readers[0]).exists()


def test_a_read_with_labels_moves_only_with_force_and_keeps_its_audit(readers, coordinator):
    scan = make_scan(split="train", center="Center T")
    read = read_assign(scan=scan, reader=readers[0])
    slice_labels_save(
        read_id=read.pk,
        reader=readers[0],
        changes=[LabelChange(slice_index=1, values={"sah": True}, expected_version=0)],
    )

    with pytest.raises(Conflict) as refused:
        read_reassign(read_id=read.pk, reader=readers[1], by=coordinator)
    new = read_reassign(read_id=read.pk, reader=readers[1], by=coordinator, force=True)

    assert refused.value.extra == {"needs_force": True}
    read.refresh_from_db()
    assert read.status == ReadStatus.WITHDRAWN and read.withdrawn_by == coordinator
    assert LabelAudit.objects.filter(read=read).count() == 1
    assert new.kind == ReadKind.PRIMARY and new.reader == readers[1]
    assert list(worklist_for_reader(reader=readers[0])) == []


def test_reassigning_to_a_reader_of_the_same_scan_is_refused(readers, coordinator):
    scan = make_scan(split="validation")
    assign(coordinator)
    primary, cross = scan.reads.get(kind="primary"), scan.reads.filter(kind="cross").first()

    with pytest.raises(DomainError):
        read_reassign(read_id=cross.pk, reader=primary.reader, by=coordinator)


def test_unassign_deletes_an_untouched_read_and_queues_the_missing_read(readers, coordinator):
    scan = make_scan(split="validation")
    assign(coordinator)
    cross = scan.reads.filter(kind="cross").first()

    assert read_unassign(read_id=cross.pk, by=coordinator) is None

    assert not Read.objects.filter(pk=cross.pk).exists()
    item = AdjudicationItem.objects.get(scan=scan)
    assert item.reason == "missing_read" and item.status == "open"
    assign(coordinator, scans=Scan.objects.filter(pk=scan.pk))
    item.refresh_from_db()
    assert item.status == "obsolete"


def test_unassign_of_a_read_with_labels_needs_force_and_withdraws(readers, coordinator):
    scan = make_scan(split="train", center="Center T")
    read = read_assign(scan=scan, reader=readers[0])
    slice_labels_save(
        read_id=read.pk,
        reader=readers[0],
        changes=[LabelChange(slice_index=0, values={"iph": True}, expected_version=0)],
    )

    with pytest.raises(DomainError) as refused:
        read_unassign(read_id=read.pk, by=coordinator)
    withdrawn = read_unassign(read_id=read.pk, by=coordinator, force=True, reason="left study")

    assert refused.value.extra == {"needs_force": True}
    assert withdrawn.status == ReadStatus.WITHDRAWN and withdrawn.withdrawn_reason == "left study"
    assert withdrawn.labels.count() == 1
    # The reader's page learns why its save is refused (and stops saving).
    with pytest.raises(ReadClosed) as closed:
        slice_labels_save(
            read_id=read.pk,
            reader=readers[0],
            changes=[LabelChange(slice_index=0, values={}, expected_version=1)],
        )
    assert closed.value.extra == {"read_status": "withdrawn"}


def test_scan_status_filter(readers, coordinator):
    fresh = make_scan(split="train", center="Center T")
    taken = make_scan(split="train", center="Center T")
    read_assign(scan=taken, reader=readers[0])

    def ids(status):
        scans = scan_assignment_filter(Scan.objects.all(), status=status)
        return set(scans.values_list("pk", flat=True))

    assert ids("unassigned") == {fresh.pk}
    assert ids("assigned") == {taken.pk}
    assert ids("completed") == set()
