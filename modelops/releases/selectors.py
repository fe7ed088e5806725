"""Which scans a release names, and what is released, per split, for the version page."""

from django.db.models import Count, QuerySet

from annotations.models import Center, Scan, Split
from ichlabel.errors import InvalidInput, NotFound
from modelops.models import ModelOutputRelease, ModelVersion


def release_scans(
    *, split: str | None = None, center_id: int | None = None, scan_ids: list[int] | None = None
) -> QuerySet[Scan]:
    """The scans a release or withdrawal names: listed ones, or a split's (of one center)."""
    if scan_ids:
        scans = Scan.objects.filter(pk__in=scan_ids)
        missing = set(scan_ids) - set(scans.values_list("pk", flat=True))
        if missing:
            raise NotFound(f"No scan {', '.join(map(str, sorted(missing)))}.")
        return scans
    if split is None:
        raise InvalidInput("Name the scans: a list of scan ids, or a split (and a center).")
    if split not in Split.values:
        raise InvalidInput(f"Unknown split {split!r}; use one of {', '.join(Split.values)}.")
    scans = Scan.objects.filter(split=split)
    if center_id is not None:
        if not Center.objects.filter(pk=center_id).exists():
            raise NotFound("That center does not exist.")
        scans = scans.filter(center_id=center_id)
    return scans


def releases_of(model_version: ModelVersion) -> QuerySet[ModelOutputRelease]:
    """The version's releases, withdrawn ones included, newest first."""
    return (
        ModelOutputRelease.objects.filter(model_version=model_version)
        .select_related("scan__center", "released_by", "withdrawn_by")
        .order_by("-released_at", "-id")
    )


def released_by_split(model_version: ModelVersion) -> list[dict]:
    """Per split and center: how many scans it has and how many have the output released."""
    active = ModelOutputRelease.objects.filter(
        model_version=model_version, withdrawn_at__isnull=True
    )
    released = {
        (row["scan__split"], row["scan__center_id"]): row["n"]
        for row in active.values("scan__split", "scan__center_id").annotate(n=Count("id"))
    }
    rows = (
        Scan.objects.values("split", "center_id", "center__name")
        .annotate(scans=Count("id"))
        .order_by("split", "center__name")
    )
    return [
        {
            "split": row["split"],
            "center_id": row["center_id"],
            "center": row["center__name"],
            "scans": row["scans"],
            "released": released.get((row["split"], row["center_id"]), 0),
        }
        for row in rows
    ]
