"""A generated phantom scan: the HU volume, the per-pixel lesion labels and the per-slice truth.

The volume holds exactly the HU a reader will get back from the files (rounded and clipped to what
the scan's pixel encoding can store), in slice position order from inferior to superior. Files,
instance numbers and file names deliberately follow other orders (see conventions.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.valuerep import DS

from .conventions import HeaderConvention
from .dicomfile import PatientInfo, build_ct_dataset, write_dataset
from .geometry import SLICE_THICKNESS_MM, HeadShape
from .hemorrhage import SUBTYPES, Lesion
from .masks import masks_from_labels

# A slice is positive for a subtype when the lesion covers at least this area on it (and at least
# MIN_LESION_PIXELS pixels): a few pixels, about what a reader could point at, whatever the matrix.
MIN_LESION_AREA_MM2 = 12.0
MIN_LESION_PIXELS = 3


@dataclass(frozen=True)
class SliceTruth:
    """Truth for one slice: which subtypes it shows, and how many pixels each covers."""

    position: int  # 0 = most inferior
    z_mm: float
    instance_number: int
    sop_instance_uid: str
    file: str
    lesion_pixels: dict[str, int]
    flags: dict[str, bool]

    @property
    def any(self) -> bool:
        return any(self.flags.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "position": self.position,
            "z_mm": self.z_mm,
            "instance_number": self.instance_number,
            "sop_instance_uid": self.sop_instance_uid,
            "file": self.file,
            "any": self.any,
            **self.flags,
            "lesion_pixels": self.lesion_pixels,
        }


def min_lesion_pixels(spacing_mm: float) -> int:
    return max(MIN_LESION_PIXELS, int(np.ceil(MIN_LESION_AREA_MM2 / spacing_mm**2)))


def slice_flags(labels: np.ndarray, spacing_mm: float) -> tuple[dict[str, int], dict[str, bool]]:
    """Per-subtype pixel counts of one label slice, and whether each reaches the threshold."""
    if not labels.any():  # most slices: skip the count
        counts = np.zeros(len(SUBTYPES) + 1, dtype=np.int64)
    else:
        counts = np.bincount(labels.ravel(), minlength=len(SUBTYPES) + 1)
    pixels = {s: int(counts[i + 1]) for i, s in enumerate(SUBTYPES)}
    threshold = min_lesion_pixels(spacing_mm)
    return pixels, {s: n >= threshold for s, n in pixels.items()}


@dataclass
class PhantomScan:
    """One synthetic head CT series; `write` puts its DICOM files in a folder."""

    name: str
    index: int
    seed: int
    center: str | None
    shape: HeadShape
    convention: HeaderConvention
    patient: PatientInfo
    study_uid: str
    series_uid: str
    frame_uid: str
    lesions: list[Lesion]
    volume_hu: np.ndarray  # int16 (slices, rows, cols), inferior to superior
    tissue: np.ndarray  # uint8 anatomy.Tissue codes; lesion blood is LESION_BASE + lesion index
    labels: np.ndarray  # uint8: 0 no blood, i + 1 for SUBTYPES[i]
    slices: list[SliceTruth]

    @property
    def n_slices(self) -> int:
        return self.volume_hu.shape[0]

    @property
    def subtypes(self) -> set[str]:
        """Subtypes positive on at least one slice."""
        return {s for sl in self.slices for s, on in sl.flags.items() if on}

    @property
    def positive(self) -> bool:
        return bool(self.subtypes)

    def lesion_masks(self) -> np.ndarray:
        """Boolean (n_slices, rows, columns, 5): the pixels of each subtype, SUBTYPES order.

        The same pixels the slice truth counts (`lesion_pixels`), in position order; see masks.py.
        """
        return masks_from_labels(self.labels)

    def position_mm(self, k: int) -> tuple[float, float, float]:
        origin = self.shape.origin_mm
        return (origin, origin, self.shape.z_mm(k))

    def dataset(self, k: int) -> Dataset:
        """The DICOM dataset of slice k (position order)."""
        sl = self.slices[k]
        return build_ct_dataset(
            self.volume_hu[k],
            position_mm=self.position_mm(k),
            pixel_spacing_mm=self.shape.spacing_mm,
            slice_thickness_mm=SLICE_THICKNESS_MM,
            instance_number=sl.instance_number,
            study_uid=self.study_uid,
            series_uid=self.series_uid,
            sop_uid=sl.sop_instance_uid,
            frame_of_reference_uid=self.frame_uid,
            series_number=2 + self.index % 3,
            encoding=self.convention.encoding,
            vendor=self.convention.vendor,
            patient=self.patient,
            implicit_vr=self.convention.implicit_vr,
        )

    def datasets(self) -> Iterator[Dataset]:
        for k in range(self.n_slices):
            yield self.dataset(k)

    def write(self, directory: Path) -> list[Path]:
        """Write one file per slice into `directory` (created); returns paths in position order.

        The files are exactly `dataset(k)` for each k; to save time one dataset is built and only
        the attributes that differ between slices are replaced before each write.
        """
        directory.mkdir(parents=True, exist_ok=True)
        ds = self.dataset(0)
        paths = []
        for k, sl in enumerate(self.slices):
            if k:
                self._retarget(ds, k)
            path = directory / sl.file
            write_dataset(ds, path)
            paths.append(path)
        return paths

    def _retarget(self, ds: Dataset, k: int) -> None:
        """Turn slice 0's dataset into slice k's (UID, instance, position, pixels)."""
        sl = self.slices[k]
        ds.file_meta.MediaStorageSOPInstanceUID = sl.sop_instance_uid
        ds.SOPInstanceUID = sl.sop_instance_uid
        ds.InstanceNumber = sl.instance_number
        position = self.position_mm(k)
        ds.ImagePositionPatient = [DS(v, auto_format=True) for v in position]
        ds.SliceLocation = DS(position[2], auto_format=True)
        ds.PixelData = self.convention.encoding.encode(self.volume_hu[k]).tobytes()

    def truth(self) -> dict[str, object]:
        """This scan's entry of truth.json (schema in the package docstring)."""
        subtypes = self.subtypes
        return {
            "scan": self.name,
            "index": self.index,
            "seed": self.seed,
            "center": self.center,
            "synthetic": True,
            "patient_id": self.patient.patient_id,
            "patient_name": self.patient.name,
            "study_instance_uid": self.study_uid,
            "series_instance_uid": self.series_uid,
            "frame_of_reference_uid": self.frame_uid,
            "n_slices": self.n_slices,
            "rows": int(self.volume_hu.shape[1]),
            "columns": int(self.volume_hu.shape[2]),
            "pixel_spacing_mm": self.shape.spacing_mm,
            "slice_thickness_mm": SLICE_THICKNESS_MM,
            "any": bool(subtypes),
            **{s: s in subtypes for s in SUBTYPES},
            "convention": self.convention.describe(),
            "lesions": [lesion.describe() for lesion in self.lesions],
            "slices": [sl.as_dict() for sl in self.slices],
        }


def file_name(naming: str, sop_uid: str, instance_number: int) -> str:
    """A file name that does not sort in slice order (hashed) or sorts by instance (export)."""
    if naming == "export":
        return f"IM{instance_number:06d}"
    return hashlib.sha1(sop_uid.encode("ascii")).hexdigest()[:16] + ".dcm"
