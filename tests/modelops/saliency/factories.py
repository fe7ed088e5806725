"""A finished saliency run straight in the database (no model): two sampled slices of the
registry's ground truth (their files stored), both maps each with figures, and their overlay
files."""

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from annotations.models import JobStatus
from modelops.models import SaliencyMap, SaliencyRun, SaliencySlice
from modelops.saliency.selectors import saliency_dir
from modelops.saliency.services import localization_summary_of
from tests.annotations.study_factories import make_scan


def finished_saliency_run(registry) -> SaliencyRun:
    """A run of the first model whose two sampled slices are mapped and scored: NormGrad hits
    both lesions, Grad-CAM one of the two."""
    model = registry["models"][0]
    run = SaliencyRun.objects.create(
        model_version=model,
        split="validation",
        per_subtype=1,
        created_by=registry["engineer"],
        status=JobStatus.SUCCEEDED,
        slices_total=2,
        slices_done=2,
        progress=1.0,
    )
    scans = [registry["version"].scan_labels.get().scan, make_scan(split="validation", slices=2)]
    for position, (scan, subtype, hits) in enumerate(
        [(scans[0], "iph", (True, False)), (scans[1], "sdh", (True, True))]
    ):
        stored = scan.slices.first()
        if not default_storage.exists(stored.storage_key):
            default_storage.save(stored.storage_key, ContentFile(b"DICM"))
        item = SaliencySlice.objects.create(
            run=run,
            scan=scan,
            slice=stored,
            subtype=subtype,
            position=position,
            done=True,
            score=0.7,
        )
        for method, hit in zip(("normgrad", "gradcam"), hits, strict=True):
            saliency_map = SaliencyMap.objects.create(
                item=item,
                method=method,
                pointing_hit=hit,
                energy_inside=0.6 if hit else 0.1,
                deletion_auc=0.2 if hit else 0.5,
            )
            _write_overlay(saliency_map, run)
    run.localization = localization_summary_of(run)
    run.save()
    return run


def _write_overlay(saliency_map: SaliencyMap, run: SaliencyRun) -> None:
    """A distinct small PNG per map, as the job writes it."""
    import numpy as np

    from modelops.saliency.render import save_map

    values = np.random.default_rng(saliency_map.pk).uniform(0, 1, (8, 8)).astype(np.float32)
    save_map(values, saliency_dir(run.pk), str(saliency_map.token))
