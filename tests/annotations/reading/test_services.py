"""Reads and slice labels: ownership, optimistic concurrency, audit, completion."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from annotations.models import LabelAudit, Read, SliceLabel
from annotations.reading.services import (
    LabelChange,
    LabelConflict,
    read_assign,
    read_complete,
    read_flags_set,
    read_progress_record,
    slice_labels_save,
)
from ichlabel.errors import Conflict, DomainError
from tests.annotations.factories import run_import, series_datasets, write_series
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db

IPH = {"iph": True}


@pytest.fixture
def scan(tmp_path):
    write_series(tmp_path / "s", series_datasets(6))
    run_import(tmp_path)
    from annotations.models import Scan

    return Scan.objects.get()


@pytest.fixture
def reader():
    return user_with_role("neuro-a", "neuroradiologist")


@pytest.fixture
def read(scan, reader):
    return read_assign(scan=scan, reader=reader)


def change(index, values=IPH, version=0):
    return LabelChange(slice_index=index, values=values, expected_version=version)


def test_a_range_of_slices_is_labelled_at_once_and_audited(read, reader):
    saved = slice_labels_save(
        read_id=read.pk, reader=reader, changes=[change(i) for i in (1, 2, 3)]
    )

    assert [label.version for label in saved] == [1, 1, 1]
    assert all(label.iph and label.any for label in saved)
    audits = list(LabelAudit.objects.filter(read=read))
    assert len(audits) == 3
    assert audits[0].before is None and audits[0].after["iph"] is True
    assert audits[0].actor == reader
    read.refresh_from_db()
    assert read.status == "in_progress" and read.started_at is not None


def test_a_range_mixing_new_and_labelled_slices_costs_the_same_few_statements(
    read, reader, django_assert_max_num_queries
):
    slice_labels_save(read_id=read.pk, reader=reader, changes=[change(1), change(2)])

    # Lock+fetch, upsert, audit insert and the transaction: not one statement per slice.
    with django_assert_max_num_queries(5):
        saved = slice_labels_save(
            read_id=read.pk,
            reader=reader,
            changes=[change(i, {"sdh": True}, version=1 if i in (1, 2) else 0) for i in range(6)],
        )

    assert [(label.slice.position_index, label.version) for label in saved] == [
        (0, 1),
        (1, 2),
        (2, 2),
        (3, 1),
        (4, 1),
        (5, 1),
    ]
    stored = SliceLabel.objects.filter(read=read).order_by("slice__position_index")
    # A change keeps what it does not name: slices 1 and 2 keep their iph.
    assert [(label.sdh, label.iph, label.version) for label in stored] == [
        (True, False, 1),
        (True, True, 2),
        (True, True, 2),
        *[(True, False, 1)] * 3,
    ]
    assert LabelAudit.objects.filter(read=read).count() == 8


def test_stale_version_is_refused_with_the_current_values(read, reader):
    slice_labels_save(read_id=read.pk, reader=reader, changes=[change(2)])
    slice_labels_save(read_id=read.pk, reader=reader, changes=[change(2, {"sdh": True}, 1)])

    with pytest.raises(LabelConflict) as refused:
        slice_labels_save(read_id=read.pk, reader=reader, changes=[change(2, {"edh": True}, 1)])

    conflict = refused.value.extra["conflicts"][0]
    assert conflict["slice_index"] == 2 and conflict["version"] == 2
    assert conflict["values"]["sdh"] is True and conflict["values"]["edh"] is False
    label = SliceLabel.objects.get(read=read)
    assert label.sdh and not label.edh and label.version == 2


def test_a_conflict_on_one_slice_saves_none_of_the_range(read, reader):
    slice_labels_save(read_id=read.pk, reader=reader, changes=[change(4)])

    with pytest.raises(LabelConflict):
        slice_labels_save(read_id=read.pk, reader=reader, changes=[change(3), change(4)])

    assert SliceLabel.objects.filter(read=read).count() == 1
    assert LabelAudit.objects.filter(read=read).count() == 1


def test_saving_the_same_values_again_changes_nothing(read, reader):
    slice_labels_save(read_id=read.pk, reader=reader, changes=[change(0)])

    again = slice_labels_save(read_id=read.pk, reader=reader, changes=[change(0, IPH, 1)])

    assert again[0].version == 1
    assert LabelAudit.objects.filter(read=read).count() == 1


def test_no_hemorrhage_excludes_subtypes_in_the_service_and_the_database(read, reader):
    with pytest.raises(ValidationError):
        slice_labels_save(
            read_id=read.pk,
            reader=reader,
            changes=[change(0, {"iph": True, "no_hemorrhage": True})],
        )
    label = slice_labels_save(
        read_id=read.pk, reader=reader, changes=[change(0, {"no_hemorrhage": True})]
    )[0]

    label.iph = True
    with pytest.raises(IntegrityError), transaction.atomic():
        label.save()


def test_another_readers_read_does_not_exist_for_them(read):
    other = user_with_role("neuro-b", "neuroradiologist")

    with pytest.raises(Read.DoesNotExist):
        slice_labels_save(read_id=read.pk, reader=other, changes=[change(0)])


def test_a_slice_outside_the_scan_is_refused(read, reader):
    with pytest.raises(ValidationError, match="no slice 6"):
        slice_labels_save(read_id=read.pk, reader=reader, changes=[change(6)])


def test_completing_warns_about_slices_never_shown(read, reader):
    read_progress_record(
        read_id=read.pk, reader=reader, viewed=[0, 1, 2], slice_index=2, seconds=30
    )

    with pytest.raises(DomainError) as refused:
        read_complete(read_id=read.pk, reader=reader)
    done = read_complete(read_id=read.pk, reader=reader, unseen_ok=True)

    assert refused.value.extra["unseen_slices"] == [3, 4, 5]
    assert done.status == "completed" and done.finished_at >= done.started_at
    assert done.time_spent_s == 30


def test_a_completed_read_never_changes(read, reader):
    read_progress_record(read_id=read.pk, reader=reader, viewed=range(6), slice_index=5, seconds=1)
    read_complete(read_id=read.pk, reader=reader)

    with pytest.raises(DomainError, match="completed"):
        slice_labels_save(read_id=read.pk, reader=reader, changes=[change(0)])


def test_progress_time_per_report_is_bounded(read, reader):
    updated = read_progress_record(
        read_id=read.pk, reader=reader, viewed=[0, 99], slice_index=99, seconds=36000
    )

    assert updated.time_spent_s == 120
    assert updated.viewed_slices == [0] and updated.last_slice_index == 5


def test_flags_use_their_own_version(read, reader):
    first = read_flags_set(
        read_id=read.pk,
        reader=reader,
        flags={"postoperative": True},
        note=" crani ",
        expected_version=0,
    )

    with pytest.raises(Conflict) as refused:
        read_flags_set(read_id=read.pk, reader=reader, flags={}, note="", expected_version=0)

    assert first.flag_postoperative and first.note == "crani" and first.version == 1
    assert refused.value.extra["flags"]["postoperative"] is True


def test_assignment_needs_a_neuroradiologist_and_happens_once(scan, read, reader):
    coordinator = user_with_role("coord-x", "coordinator")

    with pytest.raises(ValidationError):
        read_assign(scan=scan, reader=coordinator)
    with pytest.raises(DomainError, match="already reads"):
        read_assign(scan=scan, reader=reader)
