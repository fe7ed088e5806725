"""Reading a scan's lesion masks back."""

import io

import numpy as np
from django.core.files.storage import default_storage

from annotations.models import LesionMask, MaskSource

# Which masks to trust first when a scan has several.
SOURCE_ORDER = (MaskSource.PHANTOM,)


def lesion_masks_of_scan(scan_id: int) -> np.ndarray | None:
    """The scan's masks (slices, rows, columns, subtypes), slices from inferior to superior;
    None when the scan has none."""
    from annotations.phantoms.masks import load_lesion_masks  # local: see services

    masks = {m.source: m for m in LesionMask.objects.filter(scan_id=scan_id)}
    for source in SOURCE_ORDER:
        if source in masks:
            with default_storage.open(masks[source].storage_key, "rb") as handle:
                return load_lesion_masks(io.BytesIO(handle.read()))
    return None
