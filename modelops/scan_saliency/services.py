"""Scan maps: request (once per model, scan and class) and execute on a ``train`` worker.

``scan_saliency_request`` returns the run that exists for the model version, scan and class, or
creates and queues one; a failed or canceled run asked for again is queued anew. The worker
preprocesses the scan as the model's snapshot did, takes the gradient of the model's scan-level
score of the class back to every slice's feature maps in one pass (``modelops.ml.saliency``,
scaled over the scan, so slices the score hardly depends on stay faint), and writes each method's
maps (float16) and one PNG overlay per stored slice: a slice shows the map of the model's slice
nearest to it along z (thin slices are resampled into thicker ones for the model).
"""

import numpy as np
from django.db import IntegrityError, transaction

from annotations.models import JobStatus, Scan
from annotations.vocabulary import HEMORRHAGE_CLASSES
from ichlabel import jobs
from ichlabel.errors import InvalidInput
from modelops.models import ModelVersion, ScanSaliencyRun
from modelops.paths import data_path
from modelops.saliency.render import npy_bytes, overlay_png, write_whole
from modelops.scan_saliency.selectors import scan_saliency_dir


def scan_saliency_request(
    *, model_version: ModelVersion, scan: Scan, label: str, requested_by
) -> tuple[ScanSaliencyRun, bool]:
    """The maps of ``label`` for the scan, and whether they were queued now."""
    if label not in HEMORRHAGE_CLASSES:
        raise InvalidInput(f"Unknown class {label!r}; use one of {', '.join(HEMORRHAGE_CLASSES)}.")
    fields = {"model_version": model_version, "scan": scan, "label": label}
    try:
        with transaction.atomic():
            run, created = ScanSaliencyRun.objects.get_or_create(
                **fields, defaults={"created_by": requested_by}
            )
    except IntegrityError:  # another request created it first
        run, created = ScanSaliencyRun.objects.get(**fields), False
    queued = created or jobs.restart(run, progress=0.0)
    if queued:
        jobs.enqueue(ScanSaliencyRun, run.pk)
        run.refresh_from_db()
    return run, queued


def scan_saliency_execute(*, run_id: int) -> ScanSaliencyRun | None:
    return jobs.run(ScanSaliencyRun, run_id, _execute)


def _execute(run: ScanSaliencyRun, lease: jobs.Lease) -> ScanSaliencyRun:
    from modelops.ml.predict import load_model, prepare_scan
    from modelops.ml.saliency import SaliencyModel, Target
    from modelops.scan_pixels import scan_hu

    snapshot = run.model_version.snapshot
    hu, z_mm, slices = scan_hu(run.scan_id)
    lease.progress(1, 4)
    images, z = prepare_scan(
        hu,
        z_mm,
        image_size=snapshot.image_size,
        windows=[tuple(w) for w in snapshot.windows],
        slice_mm=snapshot.slice_mm,
    )
    model = SaliencyModel(load_model(data_path(run.model_version.artifact)))
    scores = dict(zip(HEMORRHAGE_CLASSES, model.scan_scores(images).tolist(), strict=True))
    lease.check("Canceled before the maps were computed.")
    lease.progress(2, 4)
    result = model.maps(images, Target(run.label, level="scan"), scale="scan")
    lease.check("Canceled before the maps were written.")
    lease.progress(3, 4)
    # The model's slice nearest each stored slice (they differ where thin slices were merged).
    nearest = [int(np.argmin(np.abs(z - s.z_position_mm))) for s in slices]
    for method, maps in result.by_method().items():
        _write(
            run,
            method,
            maps,
            {s.position_index: step for s, step in zip(slices, nearest, strict=True)},
        )
    return lease.finish(
        JobStatus.SUCCEEDED,
        f"Both maps of {len(slices)} slices for {run.label}.",
        progress=1.0,
        scores=scores,
    )


def _write(run: ScanSaliencyRun, method: str, maps: np.ndarray, steps: dict[int, int]) -> None:
    """``<method>.npy`` and a PNG per stored slice, by its position index."""
    directory = scan_saliency_dir(run.pk) / method
    directory.mkdir(parents=True, exist_ok=True)
    write_whole(directory.parent / f"{method}.npy", npy_bytes(maps))
    for position_index, step in steps.items():
        write_whole(directory / f"{position_index}.png", overlay_png(maps[step]))
