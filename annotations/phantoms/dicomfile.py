"""One CT slice as a complete DICOM dataset: CT Image Storage with every attribute a viewer needs.

`build_ct_dataset` is deliberately a plain function with keyword defaults so other tests (import,
de-identification) can craft odd files: pass another `PixelEncoding`, `VendorStyle` or
`PatientInfo`, or `overrides={"Keyword": value}` to set (or, with None, remove) any attribute at
the end.

Pixel encodings differ between vendors, and an importer must never assume one: stored values are
turned into Hounsfield units only through RescaleSlope/RescaleIntercept and PixelRepresentation.
"""

from __future__ import annotations

import io
import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    CTImageStorage,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    generate_uid,
)
from pydicom.valuerep import DS

from .geometry import FIELD_OF_VIEW_MM, SLICE_THICKNESS_MM

# CT numbers a 12-bit scanner can report; everything the phantom paints lies inside.
HU_MIN, HU_MAX = -1024, 3071


@dataclass(frozen=True)
class PixelEncoding:
    """How Hounsfield units are stored: HU = stored * slope + intercept."""

    name: str
    pixel_representation: int  # 0 unsigned, 1 two's complement
    bits_stored: int
    intercept: float
    slope: float = 1.0

    @property
    def stored_range(self) -> tuple[int, int]:
        if self.pixel_representation:
            half = 1 << (self.bits_stored - 1)
            return -half, half - 1
        return 0, (1 << self.bits_stored) - 1

    @property
    def hu_range(self) -> tuple[int, int]:
        """HU this encoding can hold, within the 12-bit CT range."""
        lo, hi = (v * self.slope + self.intercept for v in self.stored_range)
        return max(HU_MIN, math.ceil(lo)), min(HU_MAX, math.floor(hi))

    def representable(self, hu: np.ndarray) -> np.ndarray:
        """HU as a reader of this file will get them back (clipped to the range), as int16."""
        lo, hi = self.hu_range
        return np.clip(np.rint(hu), lo, hi).astype(np.int16)

    def encode(self, hu: np.ndarray) -> np.ndarray:
        """Stored pixel values, little-endian, in the dtype PixelRepresentation implies."""
        hu = self.representable(hu)
        if self.slope == 1 and float(self.intercept).is_integer():  # integer path, the usual case
            stored = hu.astype(np.int32) - int(self.intercept)
        else:
            stored = np.rint((hu.astype(np.float64) - self.intercept) / self.slope)
        lo, hi = self.stored_range
        dtype = "<i2" if self.pixel_representation else "<u2"
        return np.clip(stored, lo, hi).astype(dtype)


SIGNED_16 = PixelEncoding("signed16", 1, 16, 0.0)
SIGNED_12 = PixelEncoding("signed12", 1, 12, 0.0)
UNSIGNED_12_1024 = PixelEncoding("unsigned12-1024", 0, 12, -1024.0)
UNSIGNED_16_1024 = PixelEncoding("unsigned16-1024", 0, 16, -1024.0)
UNSIGNED_16_1000 = PixelEncoding("unsigned16-1000", 0, 16, -1000.0)  # air clips at -1000
UNSIGNED_16_8192 = PixelEncoding("unsigned16-8192", 0, 16, -8192.0)
ENCODINGS = (
    SIGNED_16,
    SIGNED_12,
    UNSIGNED_12_1024,
    UNSIGNED_16_1024,
    UNSIGNED_16_1000,
    UNSIGNED_16_8192,
)


@dataclass(frozen=True)
class VendorStyle:
    """The header habits of one scanner make: names, kernels, default windows, private tags."""

    manufacturer: str = "ICHLABEL PHANTOM"
    model: str = "Synthetic CT"
    series_description: str = "HEAD W/O 5mm"
    study_description: str = "CT HEAD WITHOUT CONTRAST"
    kernel: str = "STANDARD"
    window_center: tuple[float, ...] = (40.0,)
    window_width: tuple[float, ...] = (80.0,)
    kvp: float = 120.0
    tube_current_ma: int = 250
    station_name: str = "CTPHANTOM01"
    spacing_between_slices: bool = True
    private_creator: str | None = None  # a private block, as real vendors write


@dataclass(frozen=True)
class PatientInfo:
    """Fake but realistic patient and visit identifiers (all synthetic)."""

    name: str = "PHANTOM^CASE0000"
    patient_id: str = "PH0000"
    birth_date: str = "19600101"
    sex: str = "O"
    age: str = "064Y"
    study_date: str = "20240101"
    study_time: str = "120000"
    accession_number: str = "PHA0000000"
    institution_name: str = "Phantom General Hospital"
    institution_address: str = "1 Synthetic Road, Nowhere"
    referring_physician: str = "REFERRER^PHANTOM"
    operators_name: str = "OPERATOR^PHANTOM"
    study_id: str = "1"
    other: Mapping[str, object] = field(default_factory=dict)


def build_ct_dataset(
    pixels_hu: np.ndarray,
    *,
    position_mm: tuple[float, float, float] | None = None,
    pixel_spacing_mm: float | None = None,
    slice_thickness_mm: float = SLICE_THICKNESS_MM,
    instance_number: int = 1,
    study_uid: str | None = None,
    series_uid: str | None = None,
    sop_uid: str | None = None,
    frame_of_reference_uid: str | None = None,
    series_number: int = 2,
    encoding: PixelEncoding = SIGNED_16,
    vendor: VendorStyle = VendorStyle(),
    patient: PatientInfo = PatientInfo(),
    implicit_vr: bool = False,
    overrides: Mapping[str, object] | None = None,
) -> Dataset:
    """One axial CT slice with file meta, ready for `write_dataset`.

    pixels_hu is a 2-D array of Hounsfield units (rows x columns); it is rounded, clipped to what
    `encoding` can hold and stored as slope/intercept-encoded integers. Missing UIDs are random; the
    default position centres the image on the isocentre at z = 0; the default pixel spacing keeps a
    230 mm field of view.
    """
    pixels_hu = np.asarray(pixels_hu)
    if pixels_hu.ndim != 2:
        raise ValueError("pixels_hu must be a 2-D array")
    rows, cols = pixels_hu.shape
    spacing = pixel_spacing_mm or round(FIELD_OF_VIEW_MM / max(rows, cols), 6)
    if position_mm is None:
        position_mm = (-spacing * (cols - 1) / 2, -spacing * (rows - 1) / 2, 0.0)
    sop_uid = sop_uid or generate_uid()
    ds = Dataset()
    ds.file_meta = _file_meta(sop_uid, implicit_vr)
    _set_sop_and_patient(ds, sop_uid, patient)
    _set_study_and_series(ds, patient, vendor, study_uid, series_uid, series_number)
    _set_equipment_and_acquisition(ds, vendor, patient, instance_number)
    _set_plane(ds, position_mm, spacing, slice_thickness_mm, frame_of_reference_uid, vendor)
    _set_pixels(ds, pixels_hu, encoding, vendor)
    for keyword, value in {**patient.other, **(overrides or {})}.items():
        if value is None:
            if keyword in ds:
                delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    return ds


def _file_meta(sop_uid: str, implicit_vr: bool) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit_vr else ExplicitVRLittleEndian
    return meta


def _set_sop_and_patient(ds: Dataset, sop_uid: str, patient: PatientInfo) -> None:
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop_uid
    ds.InstanceCreationDate = patient.study_date
    ds.InstanceCreationTime = patient.study_time
    ds.PatientName = patient.name
    ds.PatientID = patient.patient_id
    ds.PatientBirthDate = patient.birth_date
    ds.PatientSex = patient.sex
    ds.PatientAge = patient.age


def _set_study_and_series(
    ds: Dataset,
    patient: PatientInfo,
    vendor: VendorStyle,
    study_uid: str | None,
    series_uid: str | None,
    series_number: int,
) -> None:
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = patient.study_date
    ds.StudyTime = ds.SeriesTime = ds.AcquisitionTime = ds.ContentTime = patient.study_time
    ds.AccessionNumber = patient.accession_number
    ds.ReferringPhysicianName = patient.referring_physician
    ds.StudyID = patient.study_id
    ds.StudyDescription = vendor.study_description
    ds.Modality = "CT"
    ds.SeriesInstanceUID = series_uid or generate_uid()
    ds.SeriesNumber = series_number
    ds.SeriesDescription = vendor.series_description
    ds.BodyPartExamined = "HEAD"
    ds.PatientPosition = "HFS"  # head first supine: gravity points to posterior (+y)
    ds.OperatorsName = patient.operators_name


def _set_equipment_and_acquisition(
    ds: Dataset, vendor: VendorStyle, patient: PatientInfo, instance_number: int
) -> None:
    ds.Manufacturer = vendor.manufacturer
    ds.ManufacturerModelName = vendor.model
    ds.InstitutionName = patient.institution_name
    ds.InstitutionAddress = patient.institution_address
    ds.StationName = vendor.station_name
    ds.DeviceSerialNumber = f"PH{zlib.crc32(vendor.station_name.encode()) % 10**6:06d}"
    ds.SoftwareVersions = "ichlabel-phantom 1"
    ds.KVP = DS(vendor.kvp, auto_format=True)
    ds.XRayTubeCurrent = vendor.tube_current_ma
    ds.ConvolutionKernel = vendor.kernel
    ds.AcquisitionNumber = 1
    ds.InstanceNumber = instance_number
    ds.BurnedInAnnotation = "NO"
    ds.ImageComments = "SYNTHETIC PHANTOM - NOT PATIENT DATA"


def _set_plane(
    ds: Dataset,
    position: tuple[float, float, float],
    spacing: float,
    thickness: float,
    frame_uid: str | None,
    vendor: VendorStyle,
) -> None:
    ds.FrameOfReferenceUID = frame_uid or generate_uid()
    ds.PositionReferenceIndicator = ""
    ds.ImagePositionPatient = [DS(v, auto_format=True) for v in position]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [DS(spacing, auto_format=True)] * 2
    ds.SliceThickness = DS(thickness, auto_format=True)
    if vendor.spacing_between_slices:
        ds.SpacingBetweenSlices = DS(thickness, auto_format=True)
    ds.SliceLocation = DS(position[2], auto_format=True)


def _set_pixels(
    ds: Dataset, pixels_hu: np.ndarray, encoding: PixelEncoding, vendor: VendorStyle
) -> None:
    stored = encoding.encode(pixels_hu)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = stored.shape
    ds.BitsAllocated = 16
    ds.BitsStored = encoding.bits_stored
    ds.HighBit = encoding.bits_stored - 1
    ds.PixelRepresentation = encoding.pixel_representation
    ds.RescaleIntercept = DS(encoding.intercept, auto_format=True)
    ds.RescaleSlope = DS(encoding.slope, auto_format=True)
    ds.RescaleType = "HU"
    ds.WindowCenter = _ds_values(vendor.window_center)
    ds.WindowWidth = _ds_values(vendor.window_width)
    if vendor.private_creator:
        block = ds.private_block(0x0009, vendor.private_creator, create=True)
        block.add_new(0x01, "LO", vendor.model)
    ds.PixelData = stored.tobytes()


def _ds_values(values: tuple[float, ...]) -> DS | list[DS]:
    items = [DS(v, auto_format=True) for v in values]
    return items[0] if len(items) == 1 else items


def write_dataset(ds: Dataset, path: Path) -> None:
    """Write a Part 10 file (preamble, file meta, then the transfer syntax the meta names)."""
    ds.save_as(path, enforce_file_format=True)


def dataset_bytes(ds: Dataset) -> bytes:
    """The Part 10 file as bytes, for tests that want files in memory."""
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()
