"""De-identification (PS3.15 Annex E basic profile): nothing identifying survives, the rest does.

Pure tests (no database): ``uv run pytest tests/annotations/dicom -p no:django``.
"""

import datetime
import io
import re
import types
import uuid

import numpy as np
import pydicom
import pytest
from pydicom import config
from pydicom.data import get_testdata_file
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from annotations.dicom.deid import (
    Deidentifier,
    burned_in_annotation,
    clean_description,
    date_shift_days,
    patient_pseudonym,
    remap_uid,
)
from tests.annotations.phi import (
    BIRTH_DATE,
    CT_IMAGE_STORAGE,
    MARKER_PREFIX,
    PATIENT_AGE,
    TIME,
    date_spellings,
    plant_phi,
    table_tags,
)

SECRET = b"test-deid-secret"
OTHER_SECRET = b"another-installation"
UID_SYNTAX = re.compile(r"^2\.25\.(0|[1-9][0-9]*)$")
PSEUDONYM_SYNTAX = re.compile(r"^P[A-Z2-7]{12}$")

# What a reader and the model need, none of it identifying: it must come through unchanged.
KEPT_KEYWORDS = (
    "SOPClassUID",
    "Modality",
    "ImageType",
    "Manufacturer",
    "ManufacturerModelName",
    "KVP",
    "ConvolutionKernel",
    "SliceThickness",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "PixelSpacing",
    "SliceLocation",
    "Rows",
    "Columns",
    "SamplesPerPixel",
    "PhotometricInterpretation",
    "BitsAllocated",
    "BitsStored",
    "HighBit",
    "PixelRepresentation",
    "RescaleIntercept",
    "RescaleSlope",
    "WindowCenter",
    "WindowWidth",
    "InstanceNumber",
    "PatientPosition",
)


# -- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def settings():
    """Stands in for pytest-django's ``settings``, which the autouse ``data_dir`` fixture of
    tests/conftest.py asks for: these tests use no Django, and run with ``-p no:django``."""
    return types.SimpleNamespace()


def ct_slice() -> FileDataset:
    """pydicom's CT_small: a GE head-and-neck CT slice with GE private groups, a TIFF preamble,
    real identifiers (name, ID, institution, station, AE title) and dates inside its UIDs."""
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.WindowCenter = "40"
    ds.WindowWidth = "80"
    return ds


def encode(ds: Dataset, *, implicit: bool = False) -> bytes:
    buffer = io.BytesIO()
    if implicit:
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def reread(ds: Dataset, **kwargs) -> FileDataset:
    """Written and read back: elements are raw again, as the importer holds them."""
    return pydicom.dcmread(io.BytesIO(encode(ds, **kwargs)))


def deidentified(ds: Dataset, secret: bytes = SECRET):
    result = Deidentifier(secret).deidentify(ds)
    return result, encode(ds)


def leaks(found: list[str], written: bytes, ds: Dataset) -> list[str]:
    """The strings of ``found`` that occur in the bytes or the text of the dataset."""
    haystacks = (written.lower(), str(ds).lower().encode("utf-8", "replace"))
    return [text for text in found if any(text.lower().encode() in hay for hay in haystacks)]


def walk_tags(ds: Dataset):
    for elem in ds:
        yield elem.tag
        if elem.VR == "SQ":
            for item in elem.value:
                yield from walk_tags(item)


@pytest.fixture
def planted():
    """A CT slice with PHI planted everywhere, as read from a file; its original copy; markers."""
    source = ct_slice()
    originals = _identifiers_of(source)
    found = plant_phi(source) + originals
    ds = reread(source)
    return ds, reread(source), found


def _identifiers_of(ds: FileDataset) -> list[str]:
    """What CT_small itself holds that identifies: creators, names, IDs, UIDs, dates."""
    values = [
        str(elem.value)
        for elem in ds
        if elem.tag.is_private_creator
        or elem.keyword
        in (
            "PatientName",
            "PatientID",
            "InstitutionName",
            "StationName",
            "StudyInstanceUID",
            "SeriesInstanceUID",
            "SOPInstanceUID",
            "FrameOfReferenceUID",
        )
    ]
    values.append(str(ds.file_meta.SourceApplicationEntityTitle))
    for da in ("20040119", "19970430"):
        values.extend(date_spellings(da))
    return [value for value in values if value.strip()]


# -- nothing identifying survives ---------------------------------------------------------------


def test_no_planted_value_survives_in_the_written_file_or_the_dataset_text(planted):
    ds, _, found = planted
    _, written = deidentified(ds)

    assert leaks(found, written, ds) == []
    assert MARKER_PREFIX.lower().encode() not in written.lower()
    assert MARKER_PREFIX.lower() not in str(reread(ds)).lower()


def test_plant_phi_covers_the_table_and_reports_what_it_planted(planted):
    _, original, found = planted
    planted_tags = {int(elem.tag) for elem in original}
    missing = [
        hex(tag) for tag in table_tags() if tag >> 16 not in (0, 2) and tag not in planted_tags
    ]

    assert missing == []
    assert len([text for text in found if text.startswith(MARKER_PREFIX)]) > 500
    assert {"20210304", "2021-03-04", "2021.03.04"} <= set(found)
    assert str(original.StudyInstanceUID) in found


def test_every_planted_table_attribute_is_removed_emptied_or_replaced(planted):
    ds, original, _ = planted
    Deidentifier(SECRET).deidentify(ds)
    ds = reread(ds)

    for tag in table_tags():
        if tag >> 16 in (0, 2) or tag not in ds:
            continue
        before, after = original[tag], ds[tag]
        if before.VR == "TM" and tag != 0x00100032:
            assert after.value == TIME  # times of day are kept (Modified Dates option)
        elif after.VR == "SQ":
            assert MARKER_PREFIX not in str(after), hex(tag)
        elif not after.is_empty:
            assert str(after.value) != str(before.value), hex(tag)
    assert "PatientBirthTime" not in ds
    assert "PatientAge" not in ds


def test_the_slice_itself_loses_its_identifiers():
    ds = reread(ct_slice())
    _, written = deidentified(ds)

    for text in ("CompressedSamples", "1CT1", "JFK IMAGING", "CT01_OC0", "CLUNIE1", "GEMS_"):
        assert text.lower().encode() not in written.lower(), text
    assert written[:4] == b"\x00" * 4  # the TIFF header in the preamble is gone
    assert b"II*\x00" not in written[:128]


def test_private_attributes_are_removed_at_every_level(planted):
    ds, _, _ = planted
    Deidentifier(SECRET).deidentify(ds)

    assert [tag for tag in walk_tags(reread(ds)) if tag.is_private] == []


def test_curves_and_overlays_are_removed_whole(planted):
    ds, original, _ = planted
    assert 0x60003000 in original and 0x50002500 in original
    Deidentifier(SECRET).deidentify(ds)

    overlays = [elem.tag for elem in reread(ds) if elem.tag.group & 0xFF00 in (0x5000, 0x6000)]
    assert overlays == []


def test_file_meta_keeps_only_what_describes_the_file(planted):
    ds, _, _ = planted
    Deidentifier(SECRET).deidentify(ds)
    meta = reread(ds).file_meta

    for keyword in (
        "SourceApplicationEntityTitle",
        "SendingApplicationEntityTitle",
        "ReceivingApplicationEntityTitle",
        "PrivateInformationCreatorUID",
        "PrivateInformation",
    ):
        assert keyword not in meta
    assert meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert meta.TransferSyntaxUID == ExplicitVRLittleEndian


# -- UIDs -----------------------------------------------------------------------------------------


def test_instance_uids_are_remapped_consistently_and_well_known_uids_kept():
    original = ct_slice()
    first, second, other = reread(original), reread(original), reread(original)
    Deidentifier(SECRET).deidentify(first)
    Deidentifier(SECRET).deidentify(second)
    Deidentifier(OTHER_SECRET).deidentify(other)

    for keyword in (
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "SOPInstanceUID",
        "FrameOfReferenceUID",
    ):
        new = str(first.get(keyword))
        assert new == remap_uid(str(original.get(keyword)), SECRET)
        assert new == str(second.get(keyword))
        assert new != str(other.get(keyword))
        assert UID_SYNTAX.match(new) and len(new) <= 64
    assert first.file_meta.MediaStorageSOPInstanceUID == first.SOPInstanceUID
    assert first.SOPClassUID == CT_IMAGE_STORAGE
    assert first.file_meta.MediaStorageSOPClassUID == CT_IMAGE_STORAGE
    assert first.file_meta.ImplementationClassUID == original.file_meta.ImplementationClassUID


def test_remap_uid_gives_valid_uuid_derived_uids():
    uids = {remap_uid(f"1.2.840.99999.{n}", SECRET) for n in range(2000)}

    assert len(uids) == 2000
    for uid in uids:
        assert UID_SYNTAX.match(uid) and len(uid) <= 64
        value = int(uid[5:])
        assert value < 2**128
        assert uuid.UUID(int=value).version == 8
    assert remap_uid("1.2.3\x00", SECRET) == remap_uid("1.2.3", SECRET)
    assert remap_uid("1.2.3", SECRET.decode()) == remap_uid("1.2.3", SECRET)
    assert remap_uid("1.2.3", SECRET) != remap_uid("1.2.3", OTHER_SECRET)


def test_references_inside_kept_sequences_are_remapped_and_cleaned(planted):
    ds, original, _ = planted
    result = Deidentifier(SECRET).deidentify(ds)
    ds = reread(ds)

    item, before = ds.ReferencedImageSequence[0], original.ReferencedImageSequence[0]
    assert item.ReferencedSOPClassUID == CT_IMAGE_STORAGE
    assert item.ReferencedSOPInstanceUID == remap_uid(before.ReferencedSOPInstanceUID, SECRET)
    assert "InstitutionName" not in item  # X at any depth
    assert item.PatientID == ""  # another record's ID is not this patient's: emptied
    shifted = _day(before.StudyDate) + datetime.timedelta(days=result.date_shift_days)
    assert _day(item.StudyDate) == shifted
    purpose = item.PurposeOfReferenceCodeSequence[0]
    assert purpose.CodeMeaning == "Localizer"
    assert purpose.PersonName == "ANONYMIZED"  # D at the second level


def test_dummy_sequences_keep_no_free_text(planted):
    ds, original, _ = planted
    Deidentifier(SECRET).deidentify(ds)
    ds = reread(ds)

    item = ds.ContentSequence[0]  # D: the TextValue is not in the table, yet cannot survive
    assert item.TextValue == "ANONYMIZED"
    assert item.CodeMeaning == "ANONYMIZED"
    assert original.ContentSequence[0].TextValue.startswith(MARKER_PREFIX)


# -- pseudonyms, dates, what the database keeps --------------------------------------------------


def test_pseudonym_and_date_shift_are_per_patient():
    first, second, other = ct_slice(), ct_slice(), ct_slice()
    plant_phi(first)
    plant_phi(second)
    plant_phi(other, variant=1)
    second.SOPInstanceUID = "1.2.3.4.5"
    deidentifier = Deidentifier(SECRET)
    results = [deidentifier.deidentify(reread(ds)) for ds in (first, second, other)]

    assert results[0].pseudonym == results[1].pseudonym
    assert results[0].date_shift_days == results[1].date_shift_days
    assert results[0].pseudonym != results[2].pseudonym
    assert results[0].pseudonym == patient_pseudonym(first.PatientID, SECRET)
    assert results[0].date_shift_days == date_shift_days(first.PatientID, SECRET)
    assert Deidentifier(OTHER_SECRET).deidentify(reread(first)).pseudonym != results[0].pseudonym


def test_pseudonym_format_and_namespaces():
    pseudonym = patient_pseudonym("12345", SECRET)

    assert PSEUDONYM_SYNTAX.match(pseudonym) and len(pseudonym) <= 16
    assert patient_pseudonym(" 12345 ", SECRET) == pseudonym
    assert patient_pseudonym("12345", SECRET, issuer="center B") != pseudonym
    assert patient_pseudonym("12345", OTHER_SECRET) != pseudonym
    assert Deidentifier(SECRET).deidentify(_minimal("12345"), issuer="center B").pseudonym == (
        patient_pseudonym("12345", SECRET, issuer="center B")
    )


def test_date_shifts_stay_within_ten_years_and_never_zero():
    shifts = [date_shift_days(f"patient-{n}", SECRET) for n in range(3000)]

    assert all(-3650 <= shift <= -365 for shift in shifts)
    assert len(set(shifts)) > 1000


def test_pseudonym_written_and_identity_removed_recorded(planted):
    ds, _, _ = planted
    result = Deidentifier(SECRET).deidentify(ds)
    ds = reread(ds)

    assert ds.PatientName == result.pseudonym
    assert ds.PatientID == result.pseudonym
    assert ds.PatientBirthDate == ""  # Type 2: present, empty
    assert ds.PatientSex == ""
    assert ds.PatientIdentityRemoved == "YES"
    assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
    assert "Basic Application Confidentiality Profile" in str(ds.DeidentificationMethod)
    codes = {(item.CodeValue, item.CodingSchemeDesignator) for item in ds[0x00120064].value}
    assert codes == {("113100", "DCM"), ("113105", "DCM"), ("113107", "DCM")}


def test_type2_attributes_stay_present_and_empty(planted):
    ds, _, _ = planted
    Deidentifier(SECRET).deidentify(ds)
    ds = reread(ds)

    for keyword in ("AccessionNumber", "ReferringPhysicianName", "StudyID", "ContrastBolusAgent"):
        assert keyword in ds and ds[keyword].is_empty, keyword
    for keyword in (
        "InstitutionName",
        "StationName",
        "OperatorsName",
        "DeviceSerialNumber",
        "ProtocolName",
        "StudyDescription",
        "ReferencedStudySequence",
        "RequestAttributesSequence",
        "OtherPatientIDsSequence",
        "TimezoneOffsetFromUTC",
    ):
        assert keyword not in ds, keyword


def test_intervals_between_a_patients_dates_are_preserved():
    head = _minimal("P-1")
    head.StudyDate, head.SeriesDate, head.AcquisitionDate = "20190715", "20190715", "20190716"
    head.AcquisitionDateTime = "20190716101112.5+0100"
    later = _minimal("P-1")
    later.StudyDate = "20200122"
    deidentifier = Deidentifier(SECRET)
    result = deidentifier.deidentify(head)
    deidentifier.deidentify(later)
    shift = datetime.timedelta(days=result.date_shift_days)

    assert _day(head.StudyDate) == datetime.date(2019, 7, 15) + shift
    assert _day(head.AcquisitionDate) - _day(head.SeriesDate) == datetime.timedelta(days=1)
    interval = datetime.date(2020, 1, 22) - datetime.date(2019, 7, 15)
    assert _day(later.StudyDate) - _day(head.StudyDate) == interval
    assert head.AcquisitionDateTime == head.AcquisitionDate + "101112.5"  # offset dropped
    assert head.StudyTime == "101112"
    assert result.acquisition_date == datetime.date(2019, 7, 16) + shift


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2019.07.15", "shifted"),  # ACR-NEMA spelling, still read
        ("20191345", ""),
        ("garbage", ""),
        ("", ""),
    ],
)
def test_unreadable_dates_are_emptied(value, expected):
    ds = _minimal("P-2")
    _set(ds, "StudyDate", value)
    result = Deidentifier(SECRET).deidentify(ds)

    if expected == "shifted":
        shifted = datetime.date(2019, 7, 15) + datetime.timedelta(days=result.date_shift_days)
        assert _day(reread(ds).StudyDate) == shifted
    else:
        assert reread(ds).StudyDate == ""


@pytest.mark.parametrize(
    ("age", "birth", "study", "band"),
    [
        ("067Y", "", "", "60-69"),
        ("090Y", "", "", "90+"),
        ("104Y", "", "", "90+"),
        ("009M", "", "", "0-9"),
        ("", "19490716", "20190715", "60-69"),  # the day before the 70th birthday
        ("", "19490715", "20190715", "70-79"),
        ("", "", "20190715", ""),
        ("bad", "", "", ""),
    ],
)
def test_age_band(age, birth, study, band):
    ds = _minimal("P-3")
    for keyword, value in (("PatientAge", age), ("PatientBirthDate", birth), ("StudyDate", study)):
        _set(ds, keyword, value)

    assert Deidentifier(SECRET).deidentify(ds).age_band == band
    assert "PatientAge" not in ds


@pytest.mark.parametrize(("sex", "expected"), [("F", "F"), ("m ", "M"), ("O", "O"), ("X", "")])
def test_sex(sex, expected):
    ds = _minimal("P-4")
    _set(ds, "PatientSex", sex)

    assert Deidentifier(SECRET).deidentify(ds).sex == expected


def test_result_of_the_planted_slice(planted):
    ds, _, found = planted
    result = Deidentifier(SECRET).deidentify(ds)

    assert result.age_band == "60-69"  # from PatientAge 067Y
    assert result.sex == "F"
    assert result.series_description == ""  # it held the patient's name
    assert "SeriesDescription" not in ds
    assert result.acquisition_date is not None
    assert leaks(found, repr(result).encode(), Dataset()) == []
    assert PATIENT_AGE not in repr(result) and BIRTH_DATE not in repr(result)


# -- descriptors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "identifiers", "kept"),
    [
        ("HEAD 5mm", (), True),
        ("Brain 0.625 (axial) STD_recon-2", (), True),
        ("AXIAL SMITH", ("SMITH^JOHN",), False),
        ("john head", ("SMITH^JOHN",), False),
        ("HEADAB12345", ("AB12345",), False),
        ("HEAD 20190715", (), False),
        ("HEAD 04.03.2021", (), False),
        ("HEAD 4-3-21", (), False),
        ("HEAD, axial", (), False),
        ("Schädel", (), False),
        ("X" * 65, (), False),
        ("", (), False),
    ],
)
def test_clean_description(text, identifiers, kept):
    assert clean_description(text, identifiers) == (text if kept else "")


def test_a_clean_series_description_is_kept_in_the_file_and_the_result():
    ds = reread(ct_slice())
    ds.SeriesDescription = "HEAD 5mm STND"
    result = Deidentifier(SECRET).deidentify(ds)

    assert result.series_description == "HEAD 5mm STND"
    assert reread(ds).SeriesDescription == "HEAD 5mm STND"


def test_a_description_holding_a_non_ascii_name_is_dropped():
    ds = _minimal("P-5")
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = "Müller^Hans"
    ds.SeriesDescription = "HEAD HANS"
    ds = reread(ds)

    assert Deidentifier(SECRET).deidentify(ds).series_description == ""
    assert "SeriesDescription" not in ds


# -- what must not change -----------------------------------------------------------------------


def test_pixels_and_geometry_are_unchanged(planted):
    ds, original, _ = planted
    pixels = original.pixel_array.copy()
    Deidentifier(SECRET).deidentify(ds)
    ds = reread(ds)

    assert ds.PixelData == original.PixelData
    assert np.array_equal(ds.pixel_array, pixels)
    for keyword in KEPT_KEYWORDS:
        assert ds[keyword].value == original[keyword].value, keyword


@pytest.mark.parametrize("implicit", [False, True])
def test_either_little_endian_encoding_round_trips(implicit):
    ds = reread(ct_slice(), implicit=implicit)
    result = Deidentifier(SECRET).deidentify(ds)
    back = reread(ds)

    assert back.file_meta.TransferSyntaxUID == (
        ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    )
    assert back.PatientID == result.pseudonym
    assert [item.CodeValue for item in back.DeidentificationMethodCodeSequence] == [
        "113100",
        "113105",
        "113107",
    ]
    assert np.array_equal(back.pixel_array, ct_slice().pixel_array)


def test_a_dataset_built_in_memory_is_handled_like_one_read_from_a_file(planted):
    _, original, _ = planted
    from_file = reread(original)
    in_memory = reread(original)
    list(in_memory.iterall())  # converts every raw element, nested ones too, to a DataElement
    Deidentifier(SECRET).deidentify(from_file)
    Deidentifier(SECRET).deidentify(in_memory)

    assert str(reread(in_memory)) == str(reread(from_file))


def test_a_bare_dataset_without_file_meta():
    ds = _minimal("P-6")
    ds.SeriesInstanceUID = "1.2.3.4"
    Deidentifier(SECRET).deidentify(ds)

    assert ds.SeriesInstanceUID == remap_uid("1.2.3.4", SECRET)
    assert ds.DeidentificationMethodCodeSequence[0].CodeValue == "113100"


def test_deferred_values_are_read_before_they_are_judged(planted, tmp_path):
    _, original, found = planted
    path = tmp_path / "slice.dcm"
    path.write_bytes(encode(original))
    ds = pydicom.dcmread(path, defer_size=16)
    Deidentifier(SECRET).deidentify(ds)

    assert leaks(found, encode(ds), ds) == []


# -- burned-in annotation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("burned_in", "image_type", "expected"),
    [
        ("YES", ["ORIGINAL", "PRIMARY", "AXIAL"], True),
        ("yes ", ["ORIGINAL", "PRIMARY", "AXIAL"], True),
        ("NO", ["ORIGINAL", "PRIMARY", "AXIAL"], False),
        (None, ["ORIGINAL", "PRIMARY", "AXIAL"], False),
        (None, ["DERIVED", "SECONDARY", "SCREEN SAVE"], True),
    ],
)
def test_burned_in_annotation(burned_in, image_type, expected):
    ds = _minimal("P-7")
    ds.ImageType = image_type
    if burned_in is not None:
        _set(ds, "BurnedInAnnotation", burned_in)

    assert burned_in_annotation(ds) is expected


# -- helpers ------------------------------------------------------------------------------------


def _minimal(patient_id: str) -> FileDataset:
    """A small CT dataset with file meta, never read from a file."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = "1.2.3.4.5.6"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("", Dataset(), file_meta=meta, preamble=b"\x00" * 128)
    ds.SOPClassUID = CT_IMAGE_STORAGE
    ds.SOPInstanceUID = "1.2.3.4.5.6"
    ds.StudyInstanceUID = "1.2.3.4"
    ds.Modality = "CT"
    ds.PatientID = patient_id
    ds.PatientName = "DOE^JANE"
    ds.StudyDate = "20190715"
    ds.StudyTime = "101112"
    ds.ReferencedImageSequence = Sequence()
    return ds


def _set(ds: Dataset, keyword: str, value: str) -> None:
    """Set a value as a file may carry it, invalid ones included, without pydicom's warning:
    it quotes the value, and the project's log must never receive one."""
    tag = tag_for_keyword(keyword)
    ds[tag] = DataElement(tag, dictionary_VR(tag), value, validation_mode=config.IGNORE)


def _day(da: str) -> datetime.date:
    return datetime.datetime.strptime(str(da), "%Y%m%d").date()
