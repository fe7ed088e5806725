"""Second reads on request: a scan whose reads are complete is read once more, blinded, and
where the new read disagrees with the earlier ones the adjudicator decides.

A coordinator (or the model's disagreement list, on their behalf) sends scans with a reason:
why the scan is doubted, e.g. a model's confident false negative. Each accepted scan gets one
more cross-read at the level of its other reads, by a neuroradiologist who has no read of it
(the chosen one, or the eligible reader with the fewest open reads). The new reader sees what
every cross-reader sees: the images and their own labels, never the other reads, the ground
truth of the scan (they have not completed a read of it) nor any model output.

When the read completes (``second_read_compare``, called by ``read_complete``) each slice and
subtype of it is compared with what the earlier reads settled: an adjudicator's earlier
decision where there is one, else the strict majority of the earlier completed reads. Every
difference becomes an adjudication item (reason ``second_read``) with the votes. The freeze
leaves the scan out while its second read or any of those items is open; afterwards the
decisions settle the differences and the agreed values stand by the vote.
"""

import json
import random
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from annotations.assignment.plan import REQUIRED_READS
from annotations.models import (
    OPEN_READ_STATUSES,
    OPEN_SECOND_READ_STATES,
    SUBTYPES,
    AdjudicatedLabel,
    AdjudicationItem,
    AdjudicationReason,
    AdjudicationStatus,
    GroundTruthVersion,
    Read,
    ReadKind,
    ReadLevel,
    ReadStatus,
    Role,
    Scan,
    ScanLabel,
    SecondReadRequest,
    SecondReadState,
    Slice,
    SliceLabel,
    Split,
)
from annotations.permissions import user_has_role
from ichlabel.errors import InvalidInput

# A reason says why in a few fields, not a document.
MAX_REASON_CHARS = 4000

REFUSAL_NOT_FOUND = "not_found"
REFUSAL_STILL_READ = "still_read"
REFUSAL_PENDING = "pending_second_read"
REFUSAL_NO_READER = "no_eligible_reader"


@dataclass
class SecondReadResult:
    """What a request did: the requests made (each with its new read) and the scans refused,
    each with a code and the reason in words."""

    requests: list[SecondReadRequest] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)


def _clean_reason(reason: object) -> dict:
    if not isinstance(reason, Mapping):
        raise InvalidInput("A second read's reason is a JSON object.")
    source = reason.get("source")
    if not isinstance(source, str) or not source.strip():
        raise InvalidInput("A second read's reason names its source (e.g. 'model').")
    try:
        size = len(json.dumps(reason))
    except (TypeError, ValueError):
        raise InvalidInput("A second read's reason is plain JSON.") from None
    if size > MAX_REASON_CHARS:
        raise InvalidInput(
            f"A second read's reason is at most {MAX_REASON_CHARS} characters of JSON."
        )
    return dict(reason)


@transaction.atomic
def second_read_request(
    *,
    scans: Sequence[tuple[Scan | int, Mapping[str, object]]],
    requested_by,
    reader=None,
    seed: int | None = None,
) -> SecondReadResult:
    """Send scans to one more blinded read, each with its reason; scans that cannot have one
    now are refused with the reason (the others proceed). See the module's docstring."""
    from annotations.assignment.services import (
        neuroradiologist_list,
        open_reads_by_reader,
        read_order_key,
    )

    if not scans:
        raise InvalidInput("Choose the scans to send to a second read.")
    if reader is not None and not user_has_role(reader, Role.NEURORADIOLOGIST):
        raise InvalidInput(f"{reader.username} is not a neuroradiologist.")
    wanted = [(_scan_id(scan), _clean_reason(reason)) for scan, reason in scans]
    seed = secrets.randbits(31) if seed is None else seed
    ids = sorted({scan_id for scan_id, _ in wanted})
    # Lock the scans: two coordinators sending the same scan at once make one request.
    found = {
        scan.pk: scan for scan in Scan.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }
    reads: dict[int, list] = defaultdict(list)
    for row in Read.objects.filter(scan_id__in=ids).values(
        "scan_id", "reader_id", "status", "level"
    ):
        reads[row["scan_id"]].append(row)
    pending = set(
        SecondReadRequest.objects.filter(
            scan_id__in=ids, state__in=OPEN_SECOND_READ_STATES
        ).values_list("scan_id", flat=True)
    )
    adjudicating = set(
        AdjudicationItem.objects.filter(
            scan_id__in=ids,
            reason=AdjudicationReason.SECOND_READ,
            status=AdjudicationStatus.OPEN,
        ).values_list("scan_id", flat=True)
    )
    pool = [reader] if reader is not None else list(neuroradiologist_list())
    load = Counter(open_reads_by_reader(reader_ids=[user.pk for user in pool]))
    rng = random.Random(seed)
    tiebreak = {user.pk: rng.random() for user in pool}
    result = SecondReadResult()
    for scan_id, reason in wanted:
        scan = found.get(scan_id)
        refusal = _refusal(scan, scan_id, reads[scan_id], pending, adjudicating)
        if refusal is None:
            taken = {row["reader_id"] for row in reads[scan_id]}
            free = [user for user in pool if user.pk not in taken]
            if not free:
                who = f"{reader.username} has" if reader is not None else "every reader has"
                refusal = (REFUSAL_NO_READER, f"{who} a read of this scan already")
        if refusal is not None:
            code, text = refusal
            result.refused.append({"scan": scan_id, "code": code, "reason": text})
            continue
        chosen = min(free, key=lambda user: (load[user.pk], tiebreak[user.pk]))
        level = _level(reads[scan_id])
        read = Read.objects.create(
            scan_id=scan_id,
            reader=chosen,
            kind=ReadKind.CROSS,
            level=level,
            order_key=read_order_key(seed=seed, reader_id=chosen.pk, scan_id=scan_id),
            assigned_by=requested_by,
        )
        load[chosen.pk] += 1
        reads[scan_id].append(
            {"scan_id": scan_id, "reader_id": chosen.pk, "status": read.status, "level": level}
        )
        pending.add(scan_id)
        result.requests.append(
            SecondReadRequest.objects.create(
                scan_id=scan_id, read=read, requested_by=requested_by, reason=reason
            )
        )
    return result


def _scan_id(scan: Scan | int) -> int:
    if isinstance(scan, Scan):
        return scan.pk
    try:
        return int(scan)
    except (TypeError, ValueError):
        raise InvalidInput(f"{scan!r} is not a scan.") from None


def _refusal(
    scan: Scan | None, scan_id: int, reads: list, pending: set[int], adjudicating: set[int]
):
    if scan is None:
        return REFUSAL_NOT_FOUND, f"There is no scan {scan_id}."
    if scan_id in pending:
        return REFUSAL_PENDING, "A second read of this scan is pending (read or adjudication)."
    done = sum(row["status"] == ReadStatus.COMPLETED for row in reads)
    still = any(row["status"] in OPEN_READ_STATUSES for row in reads)
    if still or done < REQUIRED_READS[Split(scan.split)]:
        return REFUSAL_STILL_READ, "This scan is still being read: its reads are not complete."
    if scan_id in adjudicating:
        return REFUSAL_PENDING, "Adjudication of this scan's last second read is open."
    return None


def _level(reads: list) -> str:
    levels = {row["level"] for row in reads if row["status"] == ReadStatus.COMPLETED}
    return ReadLevel.SCAN if ReadLevel.SCAN in levels else ReadLevel.SLICE


# --- the read completes: compare, queue the disagreements --------------------------------------


def second_read_compare(*, read: Read) -> SecondReadRequest | None:
    """Called in the transaction that completes a read: if it is a requested second read,
    compare it with the scan's earlier reads and queue each disagreement for adjudication.
    Returns the request (None for any other read)."""
    request = (
        SecondReadRequest.objects.select_for_update()
        .filter(read=read, state=SecondReadState.READING)
        .first()
    )
    if request is None:
        return None
    earlier = list(
        Read.objects.filter(scan_id=read.scan_id, status=ReadStatus.COMPLETED)
        .exclude(pk=read.pk)
        .values_list("pk", flat=True)
    )
    if read.level == ReadLevel.SCAN:
        differences = _scan_differences(read, earlier)
    else:
        differences = _slice_differences(read, earlier)
    AdjudicationItem.objects.bulk_create(
        [
            AdjudicationItem(
                scan_id=read.scan_id,
                slice_id=slice_id,
                label=subtype,
                reason=AdjudicationReason.SECOND_READ,
                positive_votes=positive,
                total_votes=len(earlier) + 1,
                created_by=request.requested_by,
                second_read=request,
            )
            for slice_id, subtype, positive in differences
        ]
    )
    now = timezone.now()
    request.read_completed_at = now
    request.disagreements = len(differences)
    if differences:
        request.state = SecondReadState.ADJUDICATION
    else:
        request.state, request.settled_at = SecondReadState.SETTLED, now
    request.save(update_fields=["read_completed_at", "disagreements", "state", "settled_at"])
    return request


def _prior(votes: int, voters: int, decided: bool | None) -> bool:
    """What the earlier reads settled: the decision where there is one, else the majority."""
    if decided is not None:
        return decided
    return 2 * votes > voters


def _slice_differences(read: Read, earlier: list[int]) -> list[tuple[int | None, str, int]]:
    new = {
        label.slice_id: label
        for label in SliceLabel.objects.filter(read=read).only(*SUBTYPES, "slice_id")
    }
    votes: dict[int, Counter] = defaultdict(Counter)
    for label in SliceLabel.objects.filter(read_id__in=earlier).values("slice_id", *SUBTYPES):
        for subtype in SUBTYPES:
            votes[label["slice_id"]][subtype] += bool(label[subtype])
    decided = _decisions(scan_id=read.scan_id, slice_level=True)
    differences: list[tuple[int | None, str, int]] = []
    for slice_id in (
        Slice.objects.filter(scan_id=read.scan_id)
        .order_by("position_index")
        .values_list("pk", flat=True)
    ):
        for subtype in SUBTYPES:
            mine = bool(new.get(slice_id) and getattr(new[slice_id], subtype))
            before = votes[slice_id][subtype]
            if mine != _prior(before, len(earlier), decided.get((slice_id, subtype))):
                differences.append((slice_id, subtype, before + mine))
    return differences


def _scan_differences(read: Read, earlier: list[int]) -> list[tuple[int | None, str, int]]:
    new = ScanLabel.objects.filter(read=read).first()
    votes: Counter = Counter()
    for label in ScanLabel.objects.filter(read_id__in=earlier).values(*SUBTYPES):
        for subtype in SUBTYPES:
            votes[subtype] += bool(label[subtype])
    decided = _decisions(scan_id=read.scan_id, slice_level=False)
    differences: list[tuple[int | None, str, int]] = []
    for subtype in SUBTYPES:
        mine = bool(new and getattr(new, subtype))
        if mine != _prior(votes[subtype], len(earlier), decided.get((None, subtype))):
            differences.append((None, subtype, votes[subtype] + mine))
    return differences


def _decisions(*, scan_id: int, slice_level: bool) -> dict[tuple[int | None, str], bool]:
    """Resolved decisions of the scan per (slice, subtype), a positive one winning, as the
    freeze takes them."""
    rows = AdjudicatedLabel.objects.filter(
        scan_id=scan_id,
        item__status=AdjudicationStatus.RESOLVED,
        slice__isnull=not slice_level,
    ).values("slice_id", *SUBTYPES)
    decided: dict[tuple[int | None, str], bool] = {}
    for row in rows:
        for subtype in SUBTYPES:
            if row[subtype] is not None:
                key = (row["slice_id"], subtype)
                decided[key] = decided.get(key, False) or row[subtype]
    return decided


# --- state follows the adjudication and the read -----------------------------------------------


def second_read_settle(*, request_id: int) -> None:
    """After a decision: the request is settled once none of its items is open."""
    request = SecondReadRequest.objects.select_for_update().get(pk=request_id)
    if request.state != SecondReadState.ADJUDICATION:
        return
    if request.adjudication_items.filter(status=AdjudicationStatus.OPEN).exists():
        return
    request.state, request.settled_at = SecondReadState.SETTLED, timezone.now()
    request.save(update_fields=["state", "settled_at"])


def second_read_withdrawn(*, read: Read, replacement: Read | None = None) -> None:
    """The requested read was taken back. Its open disagreements go (obsolete: a withdrawn
    read no longer votes). A replacement read (a reassignment) carries the request on, to be
    compared afresh when it completes; without one the request is withdrawn."""
    request = (
        SecondReadRequest.objects.select_for_update()
        .filter(read=read, state__in=OPEN_SECOND_READ_STATES)
        .first()
    )
    if request is None:
        return
    request.adjudication_items.filter(status=AdjudicationStatus.OPEN).update(
        status=AdjudicationStatus.OBSOLETE
    )
    if replacement is not None:
        request.read = replacement
        request.state = SecondReadState.READING
        request.read_completed_at, request.disagreements = None, None
    else:
        request.state = SecondReadState.WITHDRAWN
    request.save(update_fields=["read", "state", "read_completed_at", "disagreements"])


# --- reads of second reads -------------------------------------------------------------------


def second_read_list(
    *, state: str | None = None, scan_id: int | None = None
) -> QuerySet[SecondReadRequest]:
    """Every request, newest first, with its read, reader and open items counted."""
    requests = SecondReadRequest.objects.select_related("read__reader", "requested_by").annotate(
        open_items=Count(
            "adjudication_items", filter=Q(adjudication_items__status=AdjudicationStatus.OPEN)
        )
    )
    if state:
        requests = requests.filter(state=state)
    if scan_id is not None:
        requests = requests.filter(scan_id=scan_id)
    return requests.order_by("-requested_at", "-id")


def second_read_states(*, scan_ids: Iterable[int]) -> dict[int, dict]:
    """The newest request of each scan that has one: its state, read, reader, reason, open
    items and, once settled, the first ground-truth version frozen since (None before)."""
    requests = second_read_list().filter(scan_id__in=list(scan_ids)).order_by("requested_at", "id")
    latest = {request.scan_id: request for request in requests}
    settled = [r.settled_at for r in latest.values() if r.settled_at is not None]
    versions = (
        list(
            GroundTruthVersion.objects.filter(created_at__gte=min(settled))
            .order_by("created_at", "id")
            .values_list("created_at", "name")
        )
        if settled
        else []
    )
    states = {}
    for scan_id, request in latest.items():
        settled_in = None
        if request.settled_at is not None:
            settled_in = next((name for at, name in versions if at >= request.settled_at), None)
        states[scan_id] = {
            "request": request.pk,
            "state": request.state,
            "read": request.read_id,
            "reader": request.read.reader.username if request.read else None,
            "requested_at": request.requested_at,
            "reason": request.reason,
            "open_items": getattr(request, "open_items", 0),
            "disagreements": request.disagreements,
            "settled_in": settled_in,
        }
    return states


def second_read_reason_text(reason: Mapping[str, object]) -> str:
    """A request's recorded reason in words: a model's disagreement as "Model v3: SDH false
    negative, score 0.93 (against the ground truth)", any other reason as its fields."""
    if reason.get("source") == "model":
        model = reason.get("model_version_name") or reason.get("model_version") or "?"
        words = [f"Model {model}:"]
        if reason.get("class"):
            words.append(str(reason["class"]).upper())
        if reason.get("kind"):
            words.append(str(reason["kind"]).replace("_", " "))
        text = " ".join(words)
        score = reason.get("score")
        if isinstance(score, int | float):
            text += f", score {score:.2f}"
        against = reason.get("against") or reason.get("reference")
        if against:
            text += f" (against the {str(against).replace('_', ' ')})"
        return text
    rest = ", ".join(f"{key} {value}" for key, value in reason.items() if key != "source")
    return f"{reason.get('source')}" + (f": {rest}" if rest else "")
