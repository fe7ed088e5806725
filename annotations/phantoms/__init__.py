"""Synthetic head-CT phantoms with per-slice hemorrhage truth (numpy + pydicom only, no Django).

Real head CTs cannot be downloaded here, so this package makes the demo and test data: axial 5 mm
series from skull base to vertex in Hounsfield units (scalp, skull, grey and white matter,
ventricles, sulci, cisterns, noise), with IPH, IVH, SAH, SDH and EDH drawn with their typical
shape, place and density, alone or mixed, and negatives. Results on phantoms are synthetic, never
clinical performance.

Modules: geometry (head shape, per-scan grids), anatomy (tissues of one slice), hemorrhage
(lesions), dicomfile (one slice as a CT Image Storage dataset), conventions (vendor header habits),
scan (PhantomScan and its truth), generate (the mix, patients, writing a folder), masks (lesion
masks per pixel, their file format), seeding (named streams).

truth.json is a list with one object per scan, in scan index order:
    scan, index, seed, center, synthetic (true), patient_id, patient_name, study_instance_uid,
    series_instance_uid, frame_of_reference_uid (the original UIDs, before any import remaps them),
    n_slices, rows, columns, pixel_spacing_mm, slice_thickness_mm, any, iph, ivh, sah, sdh, edh
    (scan level: OR over slices), convention {encoding, pixel_representation, bits_stored,
    rescale_intercept, rescale_slope, manufacturer, series_description, transfer_syntax,
    instance_order, file_naming}, lesions [planned lesion parameters, informative], and
    slices: [{position, z_mm, instance_number, sop_instance_uid, file, any, iph, ivh, sah, sdh, edh,
    lesion_pixels {subtype: count}}] from inferior to superior (increasing z), and, only when the
    folder was written with masks=True, masks: the scan's lesion mask file relative to the folder
    of truth.json ("masks/<scan>.npz"; read it with load_lesion_masks: boolean (n_slices, rows,
    columns, 5) in position and SUBTYPES order, the pixels lesion_pixels counts).
A slice is positive for a subtype when the lesion covers >= 12 mm^2 and >= 3 pixels on it.
"""

from .anatomy import Tissue
from .conventions import VENDORS, HeaderConvention, choose_convention
from .dicomfile import (
    ENCODINGS,
    SIGNED_12,
    SIGNED_16,
    UNSIGNED_12_1024,
    UNSIGNED_16_1000,
    UNSIGNED_16_1024,
    UNSIGNED_16_8192,
    PatientInfo,
    PixelEncoding,
    VendorStyle,
    build_ct_dataset,
    dataset_bytes,
    write_dataset,
)
from .generate import (
    WrittenScan,
    generate_scan,
    masks_path,
    patient_info,
    scan_name,
    scan_subtypes,
    write_phantoms,
)
from .hemorrhage import SUBTYPES
from .masks import (
    MASKS_DIR,
    load_lesion_masks,
    masks_from_labels,
    pack_lesion_masks,
    unpack_lesion_masks,
    write_lesion_masks,
)
from .scan import PhantomScan, SliceTruth

__all__ = [
    "ENCODINGS",
    "MASKS_DIR",
    "SIGNED_12",
    "SIGNED_16",
    "SUBTYPES",
    "UNSIGNED_12_1024",
    "UNSIGNED_16_1000",
    "UNSIGNED_16_1024",
    "UNSIGNED_16_8192",
    "VENDORS",
    "HeaderConvention",
    "PatientInfo",
    "PhantomScan",
    "PixelEncoding",
    "SliceTruth",
    "Tissue",
    "VendorStyle",
    "WrittenScan",
    "build_ct_dataset",
    "choose_convention",
    "dataset_bytes",
    "generate_scan",
    "load_lesion_masks",
    "masks_from_labels",
    "masks_path",
    "pack_lesion_masks",
    "patient_info",
    "scan_name",
    "scan_subtypes",
    "unpack_lesion_masks",
    "write_dataset",
    "write_lesion_masks",
    "write_phantoms",
]
