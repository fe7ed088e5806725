"""Saliency runs: request, execute on a ``train`` worker, cancel.

``saliency_run_request`` returns the run that already exists for the same model version, split,
sample size and seed (maps are computed once), or creates and queues one; a failed or canceled
run asked for again carries on where it stopped. The run is a resumable job of ``ichlabel.jobs``:
the sample is drawn once, at the first claim, and stored; each sampled slice is then mapped and
marked done in its own transaction, so a worker that dies loses at most one slice's work and the
next worker skips what is done.

For each sampled slice the worker reads the scan from storage, preprocesses it as the model's
snapshot did (resampling to its slice thickness, windows, size), and takes the gradient of the
model's slice-level score of the sampled subtype for that slice (``modelops.ml.saliency``). Both
maps are stored (``render``: float16 and a PNG overlay, named by each map's token) and, where
the scan has lesion masks, scored for localization (``modelops.metrics.localization``); the
deletion curve needs no mask and is scored for every map.
"""

import numpy as np
from django.db import IntegrityError, transaction

from annotations.lesion_masks.selectors import lesion_masks_of_scan
from annotations.models import JobStatus, Split
from annotations.vocabulary import SUBTYPES
from ichlabel import jobs
from ichlabel.errors import InvalidInput
from modelops.models import (
    SALIENCY_MAX_PER_SUBTYPE,
    ModelVersion,
    SaliencyMap,
    SaliencyMethod,
    SaliencyRun,
    SaliencySlice,
)
from modelops.paths import data_path
from modelops.saliency.render import save_map
from modelops.saliency.selectors import (
    saliency_dir,
    saliency_localization_rows,
    saliency_positive_slices,
)

DELETION_STEPS = 20
POINTING_TOLERANCE_MM = 15.0
# The model's scores are probabilities, so a deletion curve's area lies in [0, 1].
SCORE_RANGE = (0.0, 1.0)


class SaliencySliceError(Exception):
    """One sampled slice could not be read or mapped; the message names it."""


def saliency_run_request(
    *, model_version: ModelVersion, split: str, per_subtype: int, seed: int = 0, created_by
) -> tuple[SaliencyRun, bool]:
    """The run for this sample, and whether it was created or started again now."""
    if split not in Split.values:
        raise InvalidInput(f"Unknown split {split!r}; use one of {', '.join(Split.values)}.")
    if not 1 <= per_subtype <= SALIENCY_MAX_PER_SUBTYPE:
        raise InvalidInput(f"per_subtype must be 1 to {SALIENCY_MAX_PER_SUBTYPE}.")
    if seed < 0:
        raise InvalidInput("seed must be 0 or more.")
    if not saliency_positive_slices(model_version.snapshot.ground_truth_id, split).exists():
        raise InvalidInput(
            f"The {split} split of {model_version.snapshot.ground_truth.name} has no slice "
            "labelled with a hemorrhage: there is nothing to map."
        )
    fields = {"model_version": model_version, "split": split, "per_subtype": per_subtype}
    try:
        with transaction.atomic():
            run, created = SaliencyRun.objects.get_or_create(
                **fields, seed=seed, defaults={"created_by": created_by}
            )
    except IntegrityError:  # another request created it first
        run, created = SaliencyRun.objects.get(**fields, seed=seed), False
    restarted = not created and jobs.restart(run)
    if created or restarted:
        jobs.enqueue(SaliencyRun, run.pk)
        run.refresh_from_db()
    return run, created or restarted


def saliency_run_cancel(*, run: SaliencyRun) -> SaliencyRun:
    return jobs.cancel(run, running_message="Cancel requested; stopping after the current slice.")


def saliency_run_execute(*, run_id: int) -> SaliencyRun | None:
    return jobs.run(SaliencyRun, run_id, _execute)


def _execute(run: SaliencyRun, lease: jobs.Lease) -> SaliencyRun:
    from modelops.ml.predict import load_model
    from modelops.ml.saliency import SaliencyModel

    if not run.slices.exists():
        total = _sample_into(run)
        lease.write(slices_total=total)
        run.slices_total = total
    version = run.model_version
    model = SaliencyModel(load_model(data_path(version.artifact)))
    done = run.slices.filter(done=True).count()
    pending = run.slices.filter(done=False).select_related("slice", "run__model_version__snapshot")
    for item in pending:
        lease.check(f"Canceled after {done} of {run.slices_total} slices; their maps are kept.")
        try:
            _map_slice(item, model)
        except Exception as error:
            if jobs.is_retriable(error):
                raise  # the run is tried again and carries on here
            raise SaliencySliceError(
                f"scan {item.scan_id}, slice {item.slice.position_index + 1}: "
                f"{type(error).__name__}: {error}"
            ) from error
        done += 1
        lease.progress(done, run.slices_total, slices_done=done)
    summary = localization_summary_of(run)
    return lease.finish(
        JobStatus.SUCCEEDED,
        f"{done} slices mapped by both methods.",
        slices_done=done,
        localization=summary,
    )


def saliency_sample(
    *, version_id: int, split: str, per_subtype: int, seed: int
) -> list[tuple[int, int, str]]:
    """(scan id, slice id, subtype) of up to ``per_subtype`` positive slices per subtype, each
    from a different scan, drawn with ``seed``. The rarest subtype draws first, so a scan with
    several subtypes is not spent on a common one while a rare one goes short."""
    positives: dict[str, dict[int, list[int]]] = {subtype: {} for subtype in SUBTYPES}
    rows = saliency_positive_slices(version_id, split).values_list("scan_id", "slice_id", *SUBTYPES)
    for scan_id, slice_id, *flags in rows.order_by("scan_id", "slice_id"):
        for subtype, flag in zip(SUBTYPES, flags, strict=True):
            if flag:
                positives[subtype].setdefault(scan_id, []).append(slice_id)
    rng = np.random.default_rng(seed)
    used: set[int] = set()
    sample = []
    for subtype in sorted(SUBTYPES, key=lambda s: (len(positives[s]), SUBTYPES.index(s))):
        scans = [scan for scan in sorted(positives[subtype]) if scan not in used]
        for index in rng.permutation(len(scans))[:per_subtype]:
            scan = scans[index]
            slices = positives[subtype][scan]
            sample.append((scan, slices[int(rng.integers(len(slices)))], subtype))
            used.add(scan)
    return sample


def _sample_into(run: SaliencyRun) -> int:
    sample = saliency_sample(
        version_id=run.model_version.snapshot.ground_truth_id,
        split=run.split,
        per_subtype=run.per_subtype,
        seed=run.seed,
    )
    with transaction.atomic():
        for position, (scan_id, slice_id, subtype) in enumerate(sample):
            item = SaliencySlice.objects.create(
                run=run, scan_id=scan_id, slice_id=slice_id, subtype=subtype, position=position
            )
            SaliencyMap.objects.bulk_create(
                [SaliencyMap(item=item, method=method) for method in SaliencyMethod.values]
            )
    return len(sample)


def _map_slice(item: SaliencySlice, model) -> None:
    """Both maps of one sampled slice, their files and figures; the slice is then done."""
    from modelops.metrics.localization import deletion_auc
    from modelops.ml.predict import prepare_scan
    from modelops.ml.saliency import Target
    from modelops.scan_pixels import scan_hu

    snapshot = item.run.model_version.snapshot
    hu, z_mm, slices = scan_hu(item.scan_id)
    images, z = prepare_scan(
        hu,
        z_mm,
        image_size=snapshot.image_size,
        windows=[tuple(w) for w in snapshot.windows],
        slice_mm=snapshot.slice_mm,
    )
    # The model's slice that holds the sampled one (the same slice unless thin slices were
    # resampled into thicker ones).
    step = int(np.argmin(np.abs(z - item.slice.z_position_mm)))
    target = Target(item.subtype, level="slice", slice_index=step)
    result = model.maps(images, target)
    scorer = model.slice_scorer(images, target, step)
    mask = _lesion_mask(item, slices, snapshot.image_size)
    directory = saliency_dir(item.run_id)
    figures = {}
    for saliency_map in item.maps.all():
        values = result.by_method()[saliency_map.method][step]
        save_map(values, directory, str(saliency_map.token))
        figures[saliency_map.pk] = {
            "deletion_auc": deletion_auc(
                scorer, images[step], values, steps=DELETION_STEPS, batched=True
            ),
            **_localization(values, mask, item.slice, snapshot.image_size),
        }
    with transaction.atomic():
        for pk, values in figures.items():
            SaliencyMap.objects.filter(pk=pk).update(**values)
        SaliencySlice.objects.filter(pk=item.pk).update(score=result.score, done=True)


def _lesion_mask(item: SaliencySlice, slices: list, size: int) -> np.ndarray | None:
    """The sampled subtype's mask on the sampled slice, at the model's size; None without one."""
    from modelops.ml.preprocess import resize

    masks = lesion_masks_of_scan(item.scan_id)
    if masks is None or len(masks) != len(slices):
        return None
    index = next(i for i, s in enumerate(slices) if s.pk == item.slice_id)
    mask = masks[index, :, :, SUBTYPES.index(item.subtype)].astype(np.float32)
    # Bilinear, then at least half covered: the mask at the resolution the map is scored at.
    return resize(mask[..., None], size)[..., 0] >= 0.5


def _localization(values: np.ndarray, mask: np.ndarray | None, slice_, size: int) -> dict:
    from modelops.metrics.localization import energy_pointing_game, pointing_game

    if mask is None or not mask.any():
        return {}
    spacing = (
        slice_.pixel_spacing_row_mm * slice_.rows / size,
        slice_.pixel_spacing_column_mm * slice_.columns / size,
    )
    return {
        "pointing_hit": pointing_game(
            values, mask, spacing_mm=spacing, tolerance_mm=POINTING_TOLERANCE_MM
        ),
        "energy_inside": energy_pointing_game(values, mask),
    }


def localization_summary_of(run: SaliencyRun) -> dict:
    """The run's figures, JSON-ready: ``outlined``, the localization summary of the maps whose
    slice has a lesion mask (per method and subtype, and per method overall); ``deletion``, the
    mean deletion AUC of every map per method, masks or not."""
    from modelops.metrics.localization import localization_summary, mean_ci

    rows = saliency_localization_rows(run)
    outlined = [row for row in rows if row["pointing_hit"] is not None]
    deletion = {}
    for method in SaliencyMethod.values:
        values = [r["deletion_auc"] for r in rows if r["method"] == method]
        values = [v for v in values if v is not None and np.isfinite(v)]
        auc = mean_ci(values, clip=SCORE_RANGE)
        deletion[method] = {"n": len(values), "deletion_auc": auc.as_dict()}
    return {
        "maps": len(rows),
        "outlined_maps": len(outlined),
        "outlined": [
            row.as_dict() for row in localization_summary(outlined, deletion_range=SCORE_RANGE)
        ],
        "deletion": deletion,
    }
