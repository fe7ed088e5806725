"""Series as a node receives them: a phantom head CT written as DICOM files and read back with
pydicom (instances in file order, not slice order), with the phantom's truth: each slice's z
and SOP Instance UID from inferior to superior, as the app's importer orders them."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut

from annotations.phantoms import write_phantoms

PHANTOM_SIZE = 64


@dataclass(frozen=True)
class PhantomSeries:
    datasets: list[pydicom.Dataset]  # as the files lie, not in slice order
    truth: dict[str, Any]

    @property
    def sop_uids(self) -> list[str]:
        """The slices' SOP Instance UIDs from inferior to superior (the phantom's truth)."""
        return [s["sop_instance_uid"] for s in self.truth["slices"]]

    @property
    def z_mm(self) -> np.ndarray:
        return np.array([s["z_mm"] for s in self.truth["slices"]], dtype=np.float64)

    def hu(self) -> np.ndarray:
        """The slices in HU from inferior to superior, read as the app reads stored slices."""
        by_uid = {str(ds.SOPInstanceUID): ds for ds in self.datasets}
        return np.stack(
            [
                np.asarray(apply_modality_lut(by_uid[u].pixel_array, by_uid[u]), np.float32)
                for u in self.sop_uids
            ]
        )


def phantom_series(directory: Path, *, seed: int = 7) -> PhantomSeries:
    """One phantom scan of 64 x 64 pixels written under ``directory`` and read back."""
    (written,) = write_phantoms(directory, scans=1, seed=seed, size=PHANTOM_SIZE)
    datasets = [pydicom.dcmread(path) for path in sorted(written.files)]
    truth = json.loads((directory / "truth.json").read_text())[0]
    return PhantomSeries(datasets, truth)
