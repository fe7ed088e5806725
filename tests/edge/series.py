"""Series as a node receives them: a phantom head CT written as DICOM files and read back with
pydicom (instances in file order, not slice order), with the phantom's truth: each slice's z
and SOP Instance UID from inferior to superior, as the app's importer orders them. And series as
a PACS holds them (``pacs_series``): phantoms to be found, and beside them series the rules or
the contrast guard must leave."""

import json
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from ichlabel_edge.watching import Series, SeriesWatcher
from pydicom import dcmread
from pydicom.pixels import apply_modality_lut
from pydicom.uid import generate_uid

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


@dataclass(frozen=True)
class SeriesFiles:
    study_instance_uid: str
    series_instance_uid: str
    files: list[Path]

    @property
    def sop_instance_uids(self) -> set[str]:
        return {str(dcmread(f, stop_before_pixels=True).SOPInstanceUID) for f in self.files}


@dataclass(frozen=True)
class PacsSeries:
    phantoms: list[SeriesFiles]  # to be scored
    others: list[SeriesFiles]  # localizer, contrast by description, contrast by agent

    @property
    def all(self) -> list[SeriesFiles]:
        return self.phantoms + self.others


def _derived(source: list[Path], directory: Path, **changes: Any) -> SeriesFiles:
    """A new series in the same study made of copies of ``source`` slices with ``changes``."""
    directory.mkdir()
    series_uid = generate_uid()
    for index, file in enumerate(source):
        ds = dcmread(file)
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.SeriesNumber = 90 + len(list(directory.parent.iterdir()))
        for keyword, value in changes.items():
            setattr(ds, keyword, value)
        ds.save_as(directory / f"{index}.dcm")
    return SeriesFiles(str(ds.StudyInstanceUID), series_uid, sorted(directory.iterdir()))


def pacs_series(root: Path) -> PacsSeries:
    """Two phantom series dated today (a watcher looks at recent studies), and beside them a
    localizer (ImageType LOCALIZER), a contrast series (by its description) and one whose only
    hint is its ContrastBolusAgent, written under ``root``."""
    write_phantoms(root / "phantoms", scans=2, seed=11, size=64)
    today = date.today().strftime("%Y%m%d")
    phantoms = []
    for folder in sorted(p for p in (root / "phantoms").iterdir() if p.is_dir()):
        files = sorted(folder.iterdir())
        for file in files:
            ds = dcmread(file)
            ds.StudyDate = today
            ds.save_as(file)
        first = dcmread(files[0], stop_before_pixels=True)
        phantoms.append(
            SeriesFiles(str(first.StudyInstanceUID), str(first.SeriesInstanceUID), files)
        )
    made = root / "made"
    made.mkdir()
    one, two = phantoms[0].files, phantoms[1].files
    others = [
        _derived(one[:2], made / "localizer", ImageType=["ORIGINAL", "PRIMARY", "LOCALIZER"]),
        _derived(
            two[:4],
            made / "contrast",
            SeriesDescription="HEAD W/ CONTRAST 5mm",
            ContrastBolusAgent="IOPAMIDOL",
        ),
        _derived(one[:4], made / "agent", ContrastBolusAgent="OMNIPAQUE 350"),
    ]
    return PacsSeries(phantoms, others)


def stable_series(watcher: SeriesWatcher, since: date | None = None) -> list[Series]:
    """``new_series`` after the series have had time to settle (a first poll, a wait, a poll)."""
    since = since or date.today()
    watcher.new_series(since)
    time.sleep(watcher.stable_s + 0.2)
    return watcher.new_series(since)
