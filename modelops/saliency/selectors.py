"""What the ML engineer's pages and API read of saliency runs."""

from pathlib import Path

from django.db.models import Q, QuerySet

from annotations.models import GroundTruthScanLabel, GroundTruthSliceLabel
from annotations.vocabulary import SUBTYPES
from modelops.models import SaliencyMap, SaliencyRun
from modelops.paths import modelops_root


def saliency_dir(run_id: object) -> Path:
    """Where a run's map files are: ``<token>.npy`` and ``<token>.png`` per map."""
    return modelops_root() / "saliency" / str(run_id)


def saliency_overlay_path(saliency_map: SaliencyMap) -> Path:
    """The map's PNG overlay (``render.save_map`` names it by the map's token)."""
    return saliency_dir(saliency_map.item.run_id) / f"{saliency_map.token}.png"


def saliency_run_list(*, model_version_id: int | None = None) -> QuerySet[SaliencyRun]:
    runs = SaliencyRun.objects.select_related("model_version", "created_by")
    if model_version_id is not None:
        runs = runs.filter(model_version_id=model_version_id)
    return runs.order_by("-created_at", "-id")


def saliency_localization_rows(run: SaliencyRun) -> list[dict]:
    """One record per map of the run's done slices: method, subtype and its figures (the
    pointing game and energy share are None where the slice has no lesion mask)."""
    maps = SaliencyMap.objects.filter(item__run=run, item__done=True).order_by(
        "item__position", "method"
    )
    return [
        {
            "method": m["method"],
            "subtype": m["item__subtype"],
            "pointing_hit": m["pointing_hit"],
            "energy_share": m["energy_inside"],
            "deletion_auc": m["deletion_auc"],
        }
        for m in maps.values(
            "method", "item__subtype", "pointing_hit", "energy_inside", "deletion_auc"
        )
    ]


def saliency_positive_slices(version_id: int, split: str) -> QuerySet[GroundTruthSliceLabel]:
    """Ground-truth slice labels of the split's scans with at least one subtype."""
    scans = GroundTruthScanLabel.objects.filter(version_id=version_id, split=split)
    any_subtype = Q()
    for subtype in SUBTYPES:
        any_subtype |= Q(**{subtype: True})
    return GroundTruthSliceLabel.objects.filter(
        any_subtype, version_id=version_id, scan_id__in=scans.values("scan_id")
    )
