"""Storing a scan's lesion masks."""

import tempfile
from pathlib import Path

import numpy as np
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction

from annotations.models import LesionMask, Scan
from annotations.vocabulary import SUBTYPES
from ichlabel.errors import InvalidInput


def lesion_mask_attach(*, scan: Scan, masks: np.ndarray, source: str) -> LesionMask:
    """Store ``masks`` (boolean, (slices, rows, columns, subtypes) with slices from inferior to
    superior) as the scan's masks from ``source``, replacing earlier ones from that source."""
    # local: the phantoms package loads pydicom, which the web app does not load at start-up
    from annotations.phantoms.masks import write_lesion_masks

    expected = (scan.slice_count, scan.rows, scan.columns, len(SUBTYPES))
    masks = np.asarray(masks)
    if masks.dtype != bool or masks.shape != expected:
        raise InvalidInput(
            f"Lesion masks of scan {scan.pk} must be boolean of shape {expected}, "
            f"not {masks.dtype} {masks.shape}."
        )
    key = f"lesion_masks/{scan.pk}/{source}.npz"
    with tempfile.TemporaryDirectory() as directory:
        path = write_lesion_masks(Path(directory) / "masks.npz", masks)
        with transaction.atomic():
            if default_storage.exists(key):
                default_storage.delete(key)
            with open(path, "rb") as handle:
                stored = default_storage.save(key, File(handle))
            mask, _ = LesionMask.objects.update_or_create(
                scan=scan, source=source, defaults={"storage_key": stored}
            )
    return mask
