"""Exports of a frozen ground-truth version, in the formats the field reads.

Every export is a generator of byte chunks (``iter_*``): the view streams it as it comes and
``export_write`` writes it to any binary file, so the paper's whole development set
(2,255,271 slices) never sits in memory as one string. Rows are read from the database with
server-side cursors in a fixed, byte-wise order, and everything in a file comes from the
frozen version, so the same version exports the same bytes every time.

Kinds (``EXPORT_KINDS``):

``slices.csv``
    One row per slice: patient pseudonym, series UID, slice index, SOP Instance UID, any and
    the five subtypes (0/1).
``rsna.csv``
    The RSNA 2019 Intracranial Hemorrhage Detection challenge layout: ``ID,Label`` and six
    rows per slice, ``ID_<SOPInstanceUID>_<subtype>``.
``scans.csv``
    One row per scan: level, slice count, positive slices, any and the subtypes.
``reader-labels.csv``
    Each reader's raw labels for the version's scans (coordinators only).
``sr.zip``
    One DICOM Comprehensive 3D SR (TID 1500 Measurement Report) per scan and a manifest.

The SR names (``HEMORRHAGE_CODES``, ``build_scan_sr``, ``iter_sr_zip``) load
``annotations.exports.sr`` on first use: it imports highdicom, which takes over a second, and
the URL conf imports this package.
"""

from annotations.exports.base import (
    ExportFilters,
    export_filename,
    export_version_get,
    export_write,
    version_manifest,
)
from annotations.exports.kinds import EXPORT_KINDS, ExportKind, export_kind_get
from annotations.exports.tables import (
    RSNA_SUBTYPES,
    iter_reader_labels_csv,
    iter_rsna_csv,
    iter_scans_csv,
    iter_slices_csv,
)

__all__ = [
    "EXPORT_KINDS",
    "HEMORRHAGE_CODES",
    "RSNA_SUBTYPES",
    "ExportFilters",
    "ExportKind",
    "build_scan_sr",
    "export_filename",
    "export_kind_get",
    "export_version_get",
    "export_write",
    "iter_reader_labels_csv",
    "iter_rsna_csv",
    "iter_scans_csv",
    "iter_slices_csv",
    "iter_sr_zip",
    "version_manifest",
]

_SR_NAMES = frozenset({"HEMORRHAGE_CODES", "build_scan_sr", "iter_sr_zip"})


def __getattr__(name: str):
    # local: highdicom is imported only when an SR name is used (see the docstring)
    if name in _SR_NAMES:
        from annotations.exports import sr

        return getattr(sr, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
