"""scan_import: series in position order, HU kept, idempotent, every refusal with its reason."""

import io
import json
import zipfile
from pathlib import Path

import imagecodecs
import numpy as np
import pydicom
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.encaps import encapsulate
from pydicom.tag import Tag
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)

from annotations.dicom.deid import remap_uid
from annotations.ingest.services import quarantined_series_release
from annotations.models import QuarantinedSeries, Scan, Slice
from annotations.phantoms import SIGNED_16, UNSIGNED_12_1024, write_phantoms
from tests.annotations.factories import hu_slice, run_import, series_datasets, write_series

pytestmark = pytest.mark.django_db


def stored_hu(slice_row: Slice) -> np.ndarray:
    with default_storage.open(slice_row.storage_key) as handle:
        ds = pydicom.dcmread(handle)
    return ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)


def test_phantom_series_are_imported_in_anatomical_order(tmp_path):
    written = write_phantoms(tmp_path / "in", scans=3, seed=11, size=64)
    truth = json.loads((tmp_path / "in" / "truth.json").read_text())

    report = run_import(tmp_path / "in")

    assert report.imported_scans == 3
    assert report.imported_slices == sum(entry["n_slices"] for entry in truth)
    assert [r["reason"] for r in report.rejected] == ["not a DICOM file"]  # truth.json
    for entry in truth:
        scan = Scan.objects.get(
            series_instance_uid=remap_uid(entry["series_instance_uid"], settings.DEID_SECRET)
        )
        slices = list(scan.slices.order_by("position_index"))
        expected = [remap_uid(s["sop_instance_uid"], settings.DEID_SECRET) for s in entry["slices"]]
        assert [s.sop_instance_uid for s in slices] == expected
        zs = [s.z_position_mm for s in slices]
        assert zs == sorted(zs)
        assert scan.slice_count == entry["n_slices"] == len(slices)
        assert scan.center.name == "Center A" and scan.split == "train"
    assert len(written) == 3


def test_hounsfield_units_survive_storage_for_signed_and_unsigned_pixels(tmp_path):
    signed = series_datasets(3, encoding=SIGNED_16)
    unsigned = series_datasets(3, encoding=UNSIGNED_12_1024)
    write_series(tmp_path / "signed", signed)
    write_series(tmp_path / "unsigned", unsigned)

    report = run_import(tmp_path)

    assert report.imported_scans == 2 and not report.rejected
    for row in Slice.objects.all():
        expected = hu_slice(row.position_index)
        if row.rescale_intercept == -1024:  # unsigned storage cannot hold air below -1024
            expected = np.clip(expected, -1024, None)
        np.testing.assert_array_equal(stored_hu(row), expected)


def test_slices_are_ordered_by_position_not_instance_number(tmp_path):
    datasets = series_datasets(6)  # instance numbers run opposite to position

    write_series(tmp_path / "s", datasets)
    run_import(tmp_path)

    slices = Scan.objects.get().slices.order_by("position_index")
    assert [s.instance_number for s in slices] == [6, 5, 4, 3, 2, 1]
    assert [s.z_position_mm for s in slices] == [0.0, 5.0, 10.0, 15.0, 20.0, 25.0]


def test_importing_the_same_files_again_adds_nothing(tmp_path):
    write_series(tmp_path / "s", series_datasets(4))
    first = run_import(tmp_path)

    again = run_import(tmp_path)

    assert (first.imported_scans, first.imported_slices) == (1, 4)
    assert (again.imported_scans, again.imported_slices) == (0, 0)
    assert (again.skipped_scans, again.skipped_slices) == (1, 4)
    assert Scan.objects.count() == 1 and Slice.objects.count() == 4


def test_new_instances_of_an_imported_series_are_refused_with_the_reason(tmp_path):
    datasets = series_datasets(4)
    write_series(tmp_path / "first", datasets[:3])
    run_import(tmp_path / "first")
    write_series(tmp_path / "second", datasets)

    report = run_import(tmp_path / "second")

    assert report.skipped_slices == 3
    assert len(report.rejected) == 1
    assert "already imported" in report.rejected[0]["reason"]
    assert Scan.objects.get().slice_count == 3


def _edit(keyword, value):
    def apply(index, ds):
        setattr(ds, keyword, value)

    return apply


def _drop_pixels(index, ds):
    del ds.PixelData


def _mpeg2(index, ds):
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"
    ds.PixelData = encapsulate([b"\x00\x00\x01\xb3" + bytes(64)])


def _color(index, ds):
    ds.SamplesPerPixel = 3


def _mr(index, ds):
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    ds.Modality = "MR"


def _multiframe(index, ds):
    ds.NumberOfFrames = 2


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (_mr, "not a CT image"),
        (_edit("Modality", "OT"), "not a CT image (modality: OT)"),
        (_drop_pixels, "no pixel data"),
        (_edit("ImageType", ["ORIGINAL", "PRIMARY", "LOCALIZER"]), "localizer (scout) image"),
        (_mpeg2, "cannot decode transfer syntax MPEG2"),
        (_color, "not a grayscale image"),
        (_multiframe, "multi-frame image"),
        (_edit("SOPClassUID", "1.2.840.10008.5.1.4.1.1.2.1"), "Enhanced CT (multi-frame)"),
    ],
)
def test_each_refused_file_is_reported_with_its_reason(tmp_path, edit, reason):
    write_series(tmp_path / "good", series_datasets(3))
    write_series(tmp_path / "bad", series_datasets(2, edit=edit))

    report = run_import(tmp_path)

    assert report.imported_scans == 1 and report.imported_slices == 3
    assert len(report.rejected) == 2
    assert all(r["reason"].startswith(reason) for r in report.rejected), report.rejected
    assert all("bad" in r["path"] for r in report.rejected)


def test_non_dicom_empty_and_truncated_files_are_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "empty.dcm").write_bytes(b"")
    good = series_datasets(2)
    write_series(tmp_path / "s", good)
    truncated = (tmp_path / "s" / f"{good[0].SOPInstanceUID}.dcm").read_bytes()[:300]
    (tmp_path / "truncated.dcm").write_bytes(truncated)

    report = run_import(tmp_path)

    reasons = {Path(r["path"]).name: r["reason"] for r in report.rejected}
    assert reasons["notes.txt"] == "not a DICOM file"
    assert reasons["empty.dcm"] == "empty file"
    # Cut inside the header: pydicom reads what is there, so the reason names what is missing.
    assert reasons["truncated.dcm"].startswith(
        ("corrupt DICOM file", "missing", "no pixel data", "not a CT image (modality: missing)")
    )
    assert report.imported_slices == 2


def test_inconsistent_geometry_refuses_the_whole_series(tmp_path):
    def sagittal_last(index, ds):
        if index == 2:
            ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]

    write_series(tmp_path / "s", series_datasets(3, edit=sagittal_last))

    report = run_import(tmp_path)

    assert report.imported_scans == 0 and Scan.objects.count() == 0
    assert len(report.rejected) == 3
    assert all("distinct ImageOrientationPatient" in r["reason"] for r in report.rejected)
    assert all(r["reason"].startswith("series refused") for r in report.rejected)


def test_duplicate_positions_refuse_the_series(tmp_path):
    def same_place(index, ds):
        ds.ImagePositionPatient = [-50.0, -50.0, 0.0]

    write_series(tmp_path / "s", series_datasets(3, edit=same_place))

    report = run_import(tmp_path)

    assert report.imported_scans == 0
    assert all("share 1 slice position" in r["reason"] for r in report.rejected)


def test_a_gap_is_imported_and_reported(tmp_path):
    def gap_after_two(index, ds):
        if index >= 2:
            ds.ImagePositionPatient = [-50.0, -50.0, 5.0 * index + 20.0]

    write_series(tmp_path / "s", series_datasets(5, edit=gap_after_two))

    report = run_import(tmp_path)

    scan = Scan.objects.get()
    assert "gap" in scan.flags
    assert report.scans[0]["findings"] and "gap" in report.scans[0]["findings"][0].lower()


def test_the_same_instance_twice_is_imported_once(tmp_path):
    datasets = series_datasets(3)
    write_series(tmp_path / "a", datasets)
    write_series(tmp_path / "copy", datasets[:1])

    report = run_import(tmp_path)

    assert report.imported_slices == 3 and report.skipped_slices == 1
    assert any("same SOP instance" in w for w in report.warnings)


def _encode_each(syntax):
    def apply(index, ds):
        hu = ds.pixel_array
        if syntax in (RLELossless, JPEGLSLossless, JPEG2000Lossless):
            ds.compress(syntax, hu)
        elif syntax == JPEGLosslessSV1:
            frame = imagecodecs.jpeg8_encode(
                hu.astype(np.uint16), lossless=True, predictor=1, bitspersample=12
            )
            _set_encapsulated(ds, syntax, frame)
        elif syntax == JPEGExtended12Bit:
            frame = imagecodecs.jpeg8_encode(hu.astype(np.uint16), level=95, bitspersample=12)
            _set_encapsulated(ds, syntax, frame)
        elif syntax == ExplicitVRBigEndian:
            # pydicom writes OW pixel bytes as they are: swap them to make a true big-endian file
            ds.PixelData = hu.astype(hu.dtype.newbyteorder(">")).tobytes()
            ds.file_meta.TransferSyntaxUID = syntax
        else:
            ds.file_meta.TransferSyntaxUID = syntax

    return apply


def _set_encapsulated(ds, syntax, frame):
    ds.PixelData = encapsulate([frame])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = syntax


@pytest.mark.parametrize(
    ("syntax", "tolerance"),
    [
        (RLELossless, 0),
        (JPEGLSLossless, 0),
        (JPEG2000Lossless, 0),
        (JPEGLosslessSV1, 0),
        (JPEGExtended12Bit, 60),
        (DeflatedExplicitVRLittleEndian, 0),
        (ExplicitVRBigEndian, 0),
    ],
    ids=lambda value: getattr(value, "name", str(value)),
)
def test_compressed_and_big_endian_files_are_decoded_and_stored_little_endian(
    tmp_path, syntax, tolerance
):
    datasets = series_datasets(3, encoding=UNSIGNED_12_1024, edit=_encode_each(syntax))
    write_series(tmp_path / "s", datasets)

    report = run_import(tmp_path)

    assert report.imported_scans == 1, report.rejected
    for row in Scan.objects.get().slices.all():
        with default_storage.open(row.storage_key) as handle:
            stored = pydicom.dcmread(handle)
        assert stored.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
        expected = np.clip(hu_slice(row.position_index), -1024, 3071)
        assert np.abs(stored_hu(row) - expected).max() <= tolerance
    assert run_import(tmp_path).skipped_slices == 3  # decoding kept the keyed SOP UIDs


def test_one_undecodable_slice_refuses_the_series_and_leaves_nothing(tmp_path):
    def broken_third(index, ds):
        ds.compress(JPEG2000Lossless, ds.pixel_array)
        if index == 2:
            ds.PixelData = encapsulate([b"\xff\x4f\xff\x51" + bytes(40)])

    write_series(tmp_path / "s", series_datasets(4, edit=broken_third))

    report = run_import(tmp_path)

    assert report.imported_scans == 0
    assert Scan.objects.count() == 0 and Slice.objects.count() == 0
    assert not any(Path(settings.MEDIA_ROOT).rglob("*.dcm"))
    decode = [r for r in report.rejected if r["reason"].startswith("pixel data cannot be decoded")]
    assert len(decode) == 1  # the bad file, with its own reason
    assert len(report.rejected) == 4  # each file once
    assert sum("could not be read" in r["reason"] for r in report.rejected) == 3


def test_burned_in_annotation_is_quarantined_then_released_by_review(tmp_path, coordinator):
    write_series(tmp_path / "s", series_datasets(3, edit=_edit("BurnedInAnnotation", "YES")))

    report = run_import(tmp_path)

    assert report.imported_scans == 0 and Scan.objects.count() == 0
    assert len(report.quarantined) == 3
    item = QuarantinedSeries.objects.get()
    held = Path(settings.QUARANTINE_DIR) / item.directory
    assert len(list(held.iterdir())) == 3

    released = quarantined_series_release(item=item, user=coordinator)

    assert released.imported_scans == 1
    item.refresh_from_db()
    assert item.status == "released" and not held.exists()


def test_zip_archives_are_read_without_unpacking(tmp_path):
    datasets = series_datasets(3)
    write_series(tmp_path / "s", datasets)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in (tmp_path / "s").iterdir():
            zf.write(path, f"study/{path.name}")
        zf.writestr("study/README.txt", "exported")

    report = run_import(archive)

    assert report.imported_slices == 3
    assert report.rejected == [
        {"path": f"{archive}!study/README.txt", "reason": "not a DICOM file"}
    ]


def test_split_given_for_import_is_kept_on_the_scans(tmp_path):
    write_series(tmp_path / "s", series_datasets(2))

    report = run_import(tmp_path, center="Center E", split="validation")

    scan = Scan.objects.get()
    assert scan.split == "validation" and scan.center.split == "validation"
    assert report.warnings == []


def test_stored_files_read_as_valid_dicom_with_the_remapped_uids(tmp_path):
    datasets = series_datasets(2)
    write_series(tmp_path / "s", datasets)

    run_import(tmp_path)

    row = Slice.objects.order_by("position_index").first()
    with default_storage.open(row.storage_key) as handle:
        raw = handle.read()
    stored = pydicom.dcmread(io.BytesIO(raw))
    assert stored.SOPInstanceUID == row.sop_instance_uid
    assert stored.file_meta.MediaStorageSOPInstanceUID == row.sop_instance_uid
    assert stored.SeriesInstanceUID == row.scan.series_instance_uid
    assert stored.PatientIdentityRemoved == "YES"
    assert datasets[0].SOPInstanceUID.encode() not in raw


def test_jpeg_baseline_eight_bit_slices_are_decoded(tmp_path):
    """An 8-bit lossy export (some teaching-file and PACS exports do this) still imports."""

    def to_jpeg_baseline(index, ds):
        hu = np.clip(hu_slice(index), -1024, 3056)
        stored = ((hu + 1024) // 16).astype(np.uint8)
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
        ds.RescaleSlope, ds.RescaleIntercept = 16, -1024
        _set_encapsulated(ds, JPEGBaseline8Bit, imagecodecs.jpeg8_encode(stored, level=95))

    write_series(tmp_path / "s", series_datasets(3, edit=to_jpeg_baseline))

    report = run_import(tmp_path)

    assert report.imported_scans == 1, report.rejected
    for row in Scan.objects.get().slices.all():
        expected = np.clip(hu_slice(row.position_index), -1024, 3056)
        assert np.median(np.abs(stored_hu(row) - expected)) <= 16


def test_a_series_imported_under_another_center_stays_there_with_a_warning(tmp_path):
    write_series(tmp_path / "s", series_datasets(2))
    run_import(tmp_path, center="Center A")

    report = run_import(tmp_path, center="Center B")

    assert report.skipped_scans == 1
    assert Scan.objects.get().center.name == "Center A"
    assert any("imported before under center Center A" in w for w in report.warnings)


def test_oversized_files_are_refused_before_they_are_read(tmp_path, settings):
    write_series(tmp_path / "s", series_datasets(2))
    settings.IMPORT_MAX_FILE_BYTES = 1024
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("huge.dcm", b"\0" * 4096)

    report = run_import(tmp_path)

    assert report.imported_slices == 0
    assert len(report.rejected) == 3
    assert all(r["reason"].startswith("file too large for a CT slice") for r in report.rejected)


def _raw(keyword, text):
    """Write a value as raw bytes, as a broken device would (pydicom refuses to set it)."""

    def apply(index, ds):
        tag = Tag(keyword)
        data = text.encode() + (b" " if len(text) % 2 else b"")
        ds[tag] = RawDataElement(tag, dictionary_VR(tag), len(data), data, 0, False, True)

    return apply


def test_an_unreadable_instance_number_is_ignored(tmp_path):
    write_series(tmp_path / "s", series_datasets(2, edit=_raw("InstanceNumber", "nan")))

    report = run_import(tmp_path)

    assert report.imported_slices == 2 and report.rejected == []
    assert list(Slice.objects.values_list("instance_number", flat=True)) == [None, None]


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (_raw("ImagePositionPatient", "a\\b\\c"), "series refused: missing"),
        (_edit("RescaleSlope", 0), "RescaleSlope must be a finite, non-zero number"),
        (_raw("RescaleSlope", "abc"), "RescaleSlope or RescaleIntercept is not a number"),
    ],
    ids=["text-position", "zero-slope", "text-slope"],
)
def test_malformed_values_refuse_their_series_and_spare_the_others(tmp_path, edit, reason):
    write_series(tmp_path / "good", series_datasets(3))
    write_series(tmp_path / "bad", series_datasets(2, edit=edit))

    report = run_import(tmp_path)

    assert report.imported_scans == 1 and report.imported_slices == 3
    bad = [r for r in report.rejected if "bad" in r["path"]]
    assert len(bad) == 2
    assert any(r["reason"].startswith(reason) for r in bad), bad


def test_a_sop_instance_stored_in_another_series_refuses_the_series(tmp_path):
    first = series_datasets(2)
    write_series(tmp_path / "a", first)
    run_import(tmp_path / "a")

    def reuse_sop(index, ds):
        if index == 0:
            ds.SOPInstanceUID = first[0].SOPInstanceUID
            ds.file_meta.MediaStorageSOPInstanceUID = first[0].SOPInstanceUID

    write_series(tmp_path / "b", series_datasets(2, edit=reuse_sop))
    report = run_import(tmp_path / "b")

    assert report.imported_scans == 0 and Scan.objects.count() == 1
    assert all("already stored in another scan" in r["reason"] for r in report.rejected)
    assert Slice.objects.count() == 2


def test_two_different_files_with_one_sop_uid_refuse_the_series(tmp_path):
    datasets = series_datasets(3)
    clash = series_datasets(1, z0=100.0)[0]
    clash.SOPInstanceUID = datasets[1].SOPInstanceUID
    clash.SeriesInstanceUID = datasets[1].SeriesInstanceUID
    write_series(tmp_path / "a", datasets)
    write_series(tmp_path / "b", [clash])

    report = run_import(tmp_path)

    assert report.imported_scans == 0
    assert all("share a SOP instance UID but differ" in r["reason"] for r in report.rejected)


def test_bare_datasets_without_a_file_header_are_imported(tmp_path):
    """Some archives hold datasets without preamble and file meta (ACR-NEMA style)."""
    datasets = series_datasets(2, implicit_vr=True)
    folder = tmp_path / "bare"
    folder.mkdir()
    for number, ds in enumerate(datasets):
        del ds.file_meta
        ds.save_as(folder / f"IM{number}", implicit_vr=True, little_endian=True)

    report = run_import(tmp_path)

    assert report.imported_slices == 2, report.rejected
    row = Slice.objects.first()
    np.testing.assert_array_equal(stored_hu(row), hu_slice(row.position_index))
