"""Active learning: the pool of scans nobody has read yet, ordered by how unsure a model is.

A scan whose score for ``any`` lies closest to the model version's frozen threshold is the
one whose label teaches the next model most; assigning the N most uncertain first spends the
readers' time there. Scans the version has not scored come last (in id order) and can be
scored first by a job (``modelops.disagreements.services.scan_scoring_request``). The scores
never reach a reader: the order only chooses which scans are assigned, and each reader still
meets their scans in an order of their own (the read's seeded ``order_key``).

The model side lives in ``modelops`` (which builds on this app), so it is imported inside
the functions.
"""

from dataclasses import dataclass, field

from django.db.models import QuerySet

from annotations.models import Scan
from ichlabel.errors import InvalidInput

# The class whose uncertainty orders the pool: ICH of any kind.
UNCERTAINTY_CLASS = "any"
# Models whose scores may order the pool: approved or candidate, never retired ones.
UNCERTAINTY_MODEL_STATUSES = ("approved", "candidate")


@dataclass
class UncertaintyPool:
    """The never-read scans of a selection in assignment order, and what ordered them."""

    model_version: int
    model_name: str
    threshold: float
    scan_ids: list[int] = field(default_factory=list)
    scores: dict[int, float] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.scan_ids)

    @property
    def scored(self) -> int:
        return len(self.scores)

    def distance(self, scan_id: int) -> float | None:
        score = self.scores.get(scan_id)
        return None if score is None else abs(score - self.threshold)

    def head(self, n: int) -> list[dict]:
        """The first ``n`` scans with their score and distance to the threshold."""
        return [
            {"scan": scan_id, "score": self.scores.get(scan_id), "distance": self.distance(scan_id)}
            for scan_id in self.scan_ids[:n]
        ]


def uncertainty_model_list():
    """Model versions that may order the pool: approved or candidate ones with a frozen
    threshold for ``any`` (an evaluated version), newest first."""
    from modelops.disagreements.selectors import model_thresholds
    from modelops.models import ModelVersion

    versions = ModelVersion.objects.filter(status__in=UNCERTAINTY_MODEL_STATUSES).order_by("-id")
    return [version for version in versions if UNCERTAINTY_CLASS in model_thresholds(version)]


def uncertainty_model_get(*, model_version_id: int):
    from modelops.disagreements.selectors import model_thresholds
    from modelops.models import ModelVersion

    version = ModelVersion.objects.filter(
        pk=model_version_id, status__in=UNCERTAINTY_MODEL_STATUSES
    ).first()
    if version is None:
        raise InvalidInput(
            f"No approved or candidate model version {model_version_id}.",
            extra={"field": "model_version"},
        )
    if UNCERTAINTY_CLASS not in model_thresholds(version):
        raise InvalidInput(
            f"Model version {version.name} has no frozen threshold for any ICH: evaluate it first.",
            extra={"field": "model_version"},
        )
    return version


def unread_scans(scans: QuerySet[Scan]) -> QuerySet[Scan]:
    """Scans of the selection that nobody has read or been given to read (no read at all)."""
    return scans.filter(reads__isnull=True)


def uncertainty_pool(*, scans: QuerySet[Scan], model_version) -> UncertaintyPool:
    """The never-read scans of ``scans``: those the version scored, closest to its frozen
    threshold for ``any`` first (ties by scan id), then the unscored ones by id."""
    from modelops.disagreements.selectors import model_scan_scores, model_thresholds

    threshold = model_thresholds(model_version)[UNCERTAINTY_CLASS]
    ids = list(unread_scans(scans).order_by("id").values_list("id", flat=True).distinct())
    scores = {
        scan_id: values[UNCERTAINTY_CLASS]
        for scan_id, values in model_scan_scores(model_version=model_version, scan_ids=ids).items()
    }
    scored = sorted(scores, key=lambda scan_id: (abs(scores[scan_id] - threshold), scan_id))
    unscored = [scan_id for scan_id in ids if scan_id not in scores]
    return UncertaintyPool(
        model_version=model_version.pk,
        model_name=model_version.name,
        threshold=threshold,
        scan_ids=scored + unscored,
        scores=scores,
    )


def uncertainty_scoring_request(*, scans: QuerySet[Scan], model_version, requested_by):
    """Queue a job scoring the never-read scans of ``scans`` that the version has not scored
    (None when every one is scored or being scored)."""
    from modelops.disagreements.services import scan_scoring_request

    pool = uncertainty_pool(scans=scans, model_version=model_version)
    todo = [scan_id for scan_id in pool.scan_ids if scan_id not in pool.scores]
    if not todo:
        return None
    return scan_scoring_request(model_version=model_version, scans=todo, requested_by=requested_by)
