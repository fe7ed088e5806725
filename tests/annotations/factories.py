"""Small CT series on disk for import tests, built with the phantom package's dataset builder."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from annotations.phantoms import PatientInfo, build_ct_dataset, write_dataset


def hu_slice(index: int, size: int = 32) -> np.ndarray:
    """A recognisable HU pattern per slice: a gradient plus the slice index."""
    ramp = np.linspace(-1000, 1500, size * size).reshape(size, size)
    return np.round(ramp + 7 * index).astype(np.int16)


def series_datasets(
    count: int = 5,
    *,
    size: int = 32,
    spacing_mm: float = 5.0,
    z0: float = 0.0,
    patient: PatientInfo | None = None,
    edit: Callable[[int, Dataset], None] | None = None,
    **kwargs,
) -> list[Dataset]:
    """``count`` axial slices of one series, instance numbers reversed against position."""
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    datasets = []
    for index in range(count):
        ds = build_ct_dataset(
            hu_slice(index, size),
            position_mm=(-50.0, -50.0, z0 + spacing_mm * index),
            instance_number=count - index,
            study_uid=study,
            series_uid=series,
            frame_of_reference_uid=frame,
            patient=patient or PatientInfo(),
            **kwargs,
        )
        if edit is not None:
            edit(index, ds)
        datasets.append(ds)
    return datasets


def write_series(folder: Path, datasets: list[Dataset]) -> list[Path]:
    """Write the files in an order unrelated to position (names by SOP UID)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for ds in datasets:
        path = folder / f"{ds.SOPInstanceUID}.dcm"
        write_dataset(ds, path)
        paths.append(path)
    return paths


def run_import(*paths, center: str = "Center A", split: str | None = None):
    """Import local paths as the command line does; return the report."""
    from annotations.ingest.services import center_get_or_create, import_batch_import_paths
    from annotations.models import ImportBatch

    center_obj = center_get_or_create(name=center, split=split)
    _, report = import_batch_import_paths(
        paths=list(paths), center=center_obj, split=split, source=ImportBatch.Source.CLI
    )
    return report


def import_middle_slices(
    tmp_path: Path, scans: int, *, seed: int, center: str, split: str | None = None
) -> list:
    """Import the three middle slices of each of ``scans`` 64-pixel phantom scans into
    ``center``, as a site would: short series with the hemorrhage the phantom placed there;
    return the Scans in import order."""
    import json
    import shutil

    from annotations.models import Scan
    from annotations.phantoms import write_phantoms

    out = tmp_path / "phantoms"
    write_phantoms(out, scans=scans, seed=seed, size=64)
    chosen = tmp_path / "middle-slices"
    for entry in json.loads((out / "truth.json").read_text()):
        folder = chosen / entry["scan"]
        folder.mkdir(parents=True)
        middle = len(entry["slices"]) // 2
        for item in entry["slices"][middle - 1 : middle + 2]:
            shutil.copy(out / entry["scan"] / item["file"], folder / item["file"])
    report = run_import(chosen, center=center, split=split)
    assert report.imported_scans == scans, report
    return list(Scan.objects.filter(center__name=center).order_by("id"))


def import_phantom_slices(
    tmp_path: Path, count: int, *, seed: int, center: str = "Center A", split: str | None = None
):
    """Import the first ``count`` slices (from the skull base up) of a 64-pixel phantom scan,
    a short series the viewer tests can page through; return the Scan."""
    import json
    import shutil

    from annotations.models import Scan
    from annotations.phantoms import write_phantoms

    out = tmp_path / "phantoms"
    write_phantoms(out, scans=1, seed=seed, size=64)
    truth = json.loads((out / "truth.json").read_text())[0]
    chosen = tmp_path / f"first-{count}"
    chosen.mkdir()
    for item in truth["slices"][:count]:
        shutil.copy(out / truth["scan"] / item["file"], chosen / item["file"])
    report = run_import(chosen, center=center, split=split)
    assert report.imported_scans == 1, report
    return Scan.objects.latest("id")
