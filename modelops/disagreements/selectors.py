"""Reads of the disagreement loop: a version's stored scan scores, its frozen thresholds, and
the scans on which it disagrees with a reference at those thresholds.

A scan is positive for a class when its score is at least the class's threshold (as in
``modelops.metrics``). Two references are held against the model:

- the ground truth its snapshot was made from (``GroundTruthScanLabel`` of that version), on
  every split: a false positive where the model says yes and the truth no, a false negative
  the other way;
- on training scans whose labels come from one completed read only (no other read open or
  completed), that read's labels (a slice-level read: a class is present when any slice has
  it; a scan-level read: its scan label). Where the ground truth holds a scan's single read
  as it is (the scan was frozen after the read was completed), the ground truth's finding is
  that read's: only reads completed after the freeze, and scans not in it, are compared, and
  a finding the ground truth already lists for the same scan, class and kind is not listed
  twice.

Confidence is how far the score lies beyond the threshold, as a share of the room there is on
that side (0: at the threshold; 1: a score of 1 for a false positive, 0 for a false negative),
so classes with different thresholds rank together; the list is most confident first.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Q

from annotations.models import (
    GroundTruthScanLabel,
    Read,
    ReadLevel,
    ReadStatus,
    Scan,
    SecondReadState,
    Split,
)
from annotations.models.reads import OPEN_READ_STATUSES
from annotations.vocabulary import HEMORRHAGE_CLASSES, SUBTYPES
from modelops.models import SCORE_COLUMNS, ModelScanScore, ModelVersion

FALSE_POSITIVE = "false_positive"
FALSE_NEGATIVE = "false_negative"
KINDS = (FALSE_POSITIVE, FALSE_NEGATIVE)
GROUND_TRUTH = "ground_truth"
SINGLE_READ = "single_read"
SOURCES = (GROUND_TRUTH, SINGLE_READ)
KIND_NAMES = {FALSE_POSITIVE: "False positive", FALSE_NEGATIVE: "False negative"}
SOURCE_NAMES = {GROUND_TRUTH: "Ground truth", SINGLE_READ: "Single read"}
# A scan's second read as the list shows it ("not_sent": none was asked for).
SECOND_READ_STATES = ("not_sent", *SecondReadState.values)


def model_scan_scores(
    *, model_version: ModelVersion, scan_ids: Iterable[int]
) -> dict[int, dict[str, float]]:
    """Scan id -> {class: score} for those of ``scan_ids`` the version has scored."""
    rows = ModelScanScore.objects.filter(
        model_version=model_version, scan_id__in=list(scan_ids)
    ).values_list("scan_id", *SCORE_COLUMNS)
    return {row[0]: dict(zip(HEMORRHAGE_CLASSES, row[1:], strict=True)) for row in rows.iterator()}


def model_thresholds(model_version: ModelVersion) -> dict[str, float]:
    """Class -> the version's frozen threshold; {} for a version without an evaluation."""
    chosen = (model_version.evaluation or {}).get("thresholds") or {}
    cuts = {}
    for name in HEMORRHAGE_CLASSES:
        value = (chosen.get(name) or {}).get("value")
        if isinstance(value, int | float) and not isinstance(value, bool):
            cuts[name] = float(value)
    return cuts


@dataclass(frozen=True)
class Disagreement:
    scan_id: int
    hemorrhage_class: str
    kind: str
    source: str
    split: str
    score: float
    threshold: float
    confidence: float
    reads: int  # completed reads behind the reference


@dataclass
class DisagreementList:
    items: list[Disagreement]
    # class -> {kind -> count}, over the source and split asked for (all classes and kinds)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    scored_scans: int = 0


def disagreement_list(
    *,
    version: ModelVersion,
    hemorrhage_class: str | None = None,
    kind: str | None = None,
    source: str | None = None,
    split: str | None = None,
) -> DisagreementList:
    """The version's disagreements, most confident first, filtered; ``counts`` per class and
    kind ignore the class and kind filters. Empty, without thresholds, for a version that was
    not evaluated."""
    cuts = model_thresholds(version)
    if not cuts:
        return DisagreementList(items=[])
    truth = _against_ground_truth(version, cuts)
    found: list[Disagreement] = truth if source in (None, GROUND_TRUTH) else []
    if source in (None, SINGLE_READ):
        listed = {(d.scan_id, d.hemorrhage_class, d.kind) for d in truth}
        found += [
            d
            for d in _against_single_reads(version, cuts)
            if (d.scan_id, d.hemorrhage_class, d.kind) not in listed
        ]
    if split:
        found = [d for d in found if d.split == split]
    counts = {name: dict.fromkeys(KINDS, 0) for name in cuts}
    for d in found:
        counts[d.hemorrhage_class][d.kind] += 1
    items = [
        d
        for d in found
        if (not hemorrhage_class or d.hemorrhage_class == hemorrhage_class)
        and (not kind or d.kind == kind)
    ]
    items.sort(key=lambda d: (-d.confidence, -abs(d.score - d.threshold), d.scan_id))
    scored = ModelScanScore.objects.filter(model_version=version).count()
    return DisagreementList(items=items, counts=counts, thresholds=cuts, scored_scans=scored)


def _judge(
    scan_id: int,
    split: str,
    labels: dict[str, bool],
    scores: tuple,
    cuts: dict[str, float],
    source: str,
    reads: int,
) -> list[Disagreement]:
    found = []
    for index, name in enumerate(HEMORRHAGE_CLASSES):
        if name not in cuts:
            continue
        score, cut = float(scores[index]), cuts[name]
        said = score >= cut
        if said == labels[name]:
            continue
        if said:
            kind, room = FALSE_POSITIVE, 1.0 - cut
            confidence = (score - cut) / room if room > 0 else 1.0
        else:
            kind, room = FALSE_NEGATIVE, cut
            confidence = (cut - score) / room if room > 0 else 1.0
        found.append(
            Disagreement(
                scan_id=scan_id,
                hemorrhage_class=name,
                kind=kind,
                source=source,
                split=split,
                score=score,
                threshold=cut,
                confidence=min(1.0, max(0.0, confidence)),
                reads=reads,
            )
        )
    return found


def _against_ground_truth(version: ModelVersion, cuts: dict[str, float]) -> list[Disagreement]:
    """The ground truth's scans that the version scored on the wrong side of a threshold:
    chosen by the database (a join of the version's labels and scores), judged here."""
    from annotations.ground_truth.services import table

    truth_columns = {"any": "any_ich", **{name: name for name in SUBTYPES}}
    quote = connection.ops.quote_name
    wrong_side = " OR ".join(
        f"((s.{quote(column)} >= %s) <> g.{truth_columns[name]})"
        for name, column in zip(HEMORRHAGE_CLASSES, SCORE_COLUMNS, strict=True)
        if name in cuts
    )
    sql = (
        f"SELECT g.scan_id, g.split, g.reads, "
        f"{', '.join(f'g.{truth_columns[name]}' for name in HEMORRHAGE_CLASSES)}, "
        f"{', '.join(f's.{quote(column)}' for column in SCORE_COLUMNS)} "
        f"FROM {table(GroundTruthScanLabel)} g JOIN {table(ModelScanScore)} s "
        f"ON s.scan_id = g.scan_id AND s.model_version_id = %s "
        f"WHERE g.version_id = %s AND ({wrong_side})"
    )
    params: list[float | int] = [version.pk, version.snapshot.ground_truth_id]
    params += [cuts[name] for name in HEMORRHAGE_CLASSES if name in cuts]
    found = []
    size = len(HEMORRHAGE_CLASSES)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for scan_id, split, reads, *values in cursor.fetchall():
            labels = dict(zip(HEMORRHAGE_CLASSES, map(bool, values[:size]), strict=True))
            found += _judge(scan_id, split, labels, values[size:], cuts, GROUND_TRUTH, reads)
    return found


def _against_single_reads(version: ModelVersion, cuts: dict[str, float]) -> list[Disagreement]:
    """Training scans read once, scored by the version, whose read is not what the ground
    truth already holds for them: read after the freeze, or not in the ground truth."""
    truth = version.snapshot.ground_truth
    in_truth = GroundTruthScanLabel.objects.filter(version=truth).values("scan_id")
    scored = ModelScanScore.objects.filter(model_version=version).values("scan_id")
    candidates = (
        Read.objects.filter(
            status=ReadStatus.COMPLETED, scan__split=Split.TRAIN, scan_id__in=scored
        )
        .filter(Q(finished_at__gt=truth.created_at) | ~Q(scan_id__in=in_truth))
        .values("scan_id")
    )
    single = (
        Scan.objects.filter(pk__in=candidates)
        .annotate(
            completed=Count("reads", filter=Q(reads__status=ReadStatus.COMPLETED)),
            still_open=Count("reads", filter=Q(reads__status__in=OPEN_READ_STATUSES)),
        )
        .filter(completed=1, still_open=0)
        .values("pk")
    )
    reads = list(
        Read.objects.filter(scan__in=single, status=ReadStatus.COMPLETED)
        .annotate(
            **{
                f"n_{name}": Count("labels", filter=Q(**{f"labels__{name}": True}))
                for name in SUBTYPES
            }
        )
        .values(
            "scan_id",
            "level",
            *(f"n_{name}" for name in SUBTYPES),
            *(f"scan_label__{name}" for name in SUBTYPES),
        )
    )
    scores = {
        row[0]: row[1:]
        for row in ModelScanScore.objects.filter(
            model_version=version, scan_id__in=[row["scan_id"] for row in reads]
        ).values_list("scan_id", *SCORE_COLUMNS)
    }
    found = []
    for row in reads:
        if row["level"] == ReadLevel.SCAN:
            present = {name: bool(row[f"scan_label__{name}"]) for name in SUBTYPES}
        else:
            present = {name: row[f"n_{name}"] > 0 for name in SUBTYPES}
        labels = {"any": any(present.values()), **present}
        found += _judge(
            row["scan_id"], Split.TRAIN, labels, scores[row["scan_id"]], cuts, SINGLE_READ, 1
        )
    return found


def unscored_scan_ids(version: ModelVersion) -> list[int]:
    """The scans of the version's ground truth and the training scans with a completed read
    that it has no score of, by id."""
    scored = ModelScanScore.objects.filter(model_version=version).values("scan_id")
    truth = GroundTruthScanLabel.objects.filter(
        version_id=version.snapshot.ground_truth_id
    ).exclude(scan_id__in=scored)
    read = (
        Read.objects.filter(scan__split=Split.TRAIN, status=ReadStatus.COMPLETED)
        .exclude(scan_id__in=scored)
        .values_list("scan_id", flat=True)
    )
    return sorted(set(truth.values_list("scan_id", flat=True)) | set(read))


_SECOND_READ_FIELDS = ("state", "reader", "open_items", "settled_in", "reason")
_NOT_SENT = {
    "state": "not_sent",
    "reader": None,
    "open_items": None,
    "settled_in": None,
    "reason": None,
}


def disagreement_rows(items: list[Disagreement], *, first_rank: int) -> list[dict]:
    """Disagreements as rows: their fields, their rank and their scan's second-read state
    ("not_sent" when none was asked for)."""
    from annotations.assignment.second_reads import second_read_states

    states = second_read_states(scan_ids={d.scan_id for d in items}) if items else {}
    return [
        {
            **d.__dict__,
            "rank": first_rank + i,
            "second_read": {
                key: states.get(d.scan_id, _NOT_SENT)[key] for key in _SECOND_READ_FIELDS
            },
        }
        for i, d in enumerate(items)
    ]
