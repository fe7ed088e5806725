"""Scan-level labels: own open scan-level reads only, versions, audit, completion rule."""

import pytest
from django.core.exceptions import ValidationError

from annotations.models import ReadLevel, ScanLabelAudit
from annotations.reading.services import read_assign, read_complete, scan_label_save
from ichlabel.errors import Conflict, DomainError
from tests.annotations.study_factories import make_scan
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def read():
    reader = user_with_role("neuro", "neuroradiologist")
    scan = make_scan(split="test", center="Center P")
    return read_assign(scan=scan, reader=reader, level=ReadLevel.SCAN)


def test_saves_are_versioned_and_audited(read):
    first = scan_label_save(
        read_id=read.pk, reader=read.reader, values={"ivh": True}, expected_version=0
    )
    second = scan_label_save(
        read_id=read.pk,
        reader=read.reader,
        values={"ivh": False, "no_hemorrhage": True},
        expected_version=1,
    )

    assert (first.version, second.version) == (1, 2) and not second.any
    audits = list(ScanLabelAudit.objects.filter(read=read).order_by("version"))
    assert audits[0].before is None and audits[1].before["ivh"] is True
    assert audits[1].actor == read.reader


def test_a_stale_save_is_refused_with_the_current_values(read):
    scan_label_save(read_id=read.pk, reader=read.reader, values={"sdh": True}, expected_version=0)

    with pytest.raises(Conflict) as conflict:
        scan_label_save(
            read_id=read.pk, reader=read.reader, values={"edh": True}, expected_version=0
        )

    assert conflict.value.extra["values"]["sdh"] is True


def test_another_reader_cannot_save_and_completion_needs_a_label(read):
    other = user_with_role("neuro-b", "neuroradiologist")

    with pytest.raises(type(read).DoesNotExist):
        scan_label_save(read_id=read.pk, reader=other, values={}, expected_version=0)
    with pytest.raises(DomainError):
        read_complete(read_id=read.pk, reader=read.reader, unseen_ok=True)
    scan_label_save(
        read_id=read.pk, reader=read.reader, values={"no_hemorrhage": True}, expected_version=0
    )
    assert read_complete(read_id=read.pk, reader=read.reader, unseen_ok=True).status == "completed"


def test_a_slice_level_read_takes_no_scan_label():
    reader = user_with_role("neuro-c", "neuroradiologist")
    read = read_assign(scan=make_scan(split="validation"), reader=reader)

    with pytest.raises(DomainError):
        scan_label_save(read_id=read.pk, reader=reader, values={"iph": True}, expected_version=0)


def test_a_save_changes_only_the_labels_it_names(read):
    scan_label_save(read_id=read.pk, reader=read.reader, values={"sdh": True}, expected_version=0)
    with pytest.raises(ValidationError):
        scan_label_save(read_id=read.pk, reader=read.reader, values={}, expected_version=1)

    label = scan_label_save(
        read_id=read.pk, reader=read.reader, values={"iph": True}, expected_version=1
    )

    assert (label.version, label.sdh, label.iph) == (2, True, True)
