"""A stored scan's pixels in Hounsfield units, as snapshot builds and saliency runs read them."""

import numpy as np
from django.core.files.storage import default_storage

from annotations.models import Slice
from ichlabel import jobs


def scan_hu(scan_id: int) -> tuple[np.ndarray, np.ndarray, list[Slice]]:
    """The scan's slices (slices, rows, columns) in HU from inferior to superior, their z
    positions in mm, and the Slice rows in that order."""
    slices = list(Slice.objects.filter(scan_id=scan_id).order_by("z_position_mm", "id"))
    if not slices:
        raise ValueError("the scan has no slices in storage")
    hu = np.stack([slice_hu(s) for s in slices])
    return hu, np.array([s.z_position_mm for s in slices], dtype=np.float64), slices


def slice_hu(slice_: Slice) -> np.ndarray:
    """One stored slice in HU. A storage fault that may pass is a ``jobs.RetriableError``."""
    # local: pydicom and its pixel handlers load in the jobs only, not at the web app's start-up
    import pydicom.config
    from pydicom.pixels import apply_modality_lut

    # As in the importer: no validation warnings, which would quote values.
    pydicom.config.settings.reading_validation_mode = pydicom.config.IGNORE
    try:
        with default_storage.open(slice_.storage_key, "rb") as handle:
            ds = pydicom.dcmread(handle)
    except FileNotFoundError:
        raise  # gone from storage: trying again will not bring it back
    except OSError as error:  # a network share or bucket that failed: may pass
        raise jobs.RetriableError(f"storage: {type(error).__name__}: {error}") from error
    return np.asarray(apply_modality_lut(ds.pixel_array, ds), dtype=np.float32)
