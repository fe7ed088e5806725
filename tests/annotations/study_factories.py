"""Scans, slices and completed reads as database rows (no DICOM files): fast fixtures for
assignment, consensus and adjudication, which never open an image."""

import itertools

from annotations.models import Center, Patient, Read, Scan, Slice
from annotations.reading.services import (
    LabelChange,
    read_complete,
    scan_label_save,
    slice_labels_save,
)

_numbers = itertools.count(1)


def make_scan(*, center: str = "Center V", split: str = "validation", slices: int = 4) -> Scan:
    number = next(_numbers)
    center_obj, _ = Center.objects.get_or_create(name=center, defaults={"split": split})
    patient = Patient.objects.create(pseudonym=f"P{number:06d}")
    scan = Scan.objects.create(
        patient=patient,
        center=center_obj,
        split=split,
        study_instance_uid=f"2.25.{number}",
        series_instance_uid=f"2.25.{number}.1",
        slice_count=slices,
        rows=32,
        columns=32,
    )
    Slice.objects.bulk_create(
        Slice(
            scan=scan,
            position_index=index,
            sop_instance_uid=f"2.25.{number}.1.{index + 1}",
            z_position_mm=5.0 * index,
            pixel_spacing_row_mm=0.5,
            pixel_spacing_column_mm=0.5,
            rows=32,
            columns=32,
            storage_key=f"test/{number}/{index}.dcm",
            file_size=1,
            sha256="0" * 64,
        )
        for index in range(slices)
    )
    return scan


def label_and_complete(read: Read, labels: dict[int, dict[str, bool]] | None = None) -> Read:
    """Label some slices of a slice-level read (others stay unlabelled: negative) and finish."""
    if labels:
        slice_labels_save(
            read_id=read.pk,
            reader=read.reader,
            changes=[
                LabelChange(slice_index=index, values=values, expected_version=0)
                for index, values in labels.items()
            ],
        )
    return read_complete(read_id=read.pk, reader=read.reader, unseen_ok=True)


def scan_label_and_complete(read: Read, values: dict[str, bool]) -> Read:
    """Label a scan-level read's scan and finish."""
    scan_label_save(read_id=read.pk, reader=read.reader, values=values, expected_version=0)
    return read_complete(read_id=read.pk, reader=read.reader, unseen_ok=True)
