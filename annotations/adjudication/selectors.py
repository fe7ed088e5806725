"""Reads of adjudication: the items, their votes and decisions."""

from django.db.models import Prefetch, QuerySet

from annotations.models import (
    SUBTYPES,
    AdjudicatedLabel,
    AdjudicationItem,
    Read,
    Slice,
    SliceLabel,
)
from annotations.models.reads import any_subtype_q, labelled_slice_count


def _items() -> QuerySet[AdjudicationItem]:
    # The decision rows come along (one query for the page): each row says what was decided.
    return AdjudicationItem.objects.select_related(
        "scan__center", "slice", "decided_by"
    ).prefetch_related(Prefetch("labels", queryset=AdjudicatedLabel.objects.order_by("slice_id")))


def adjudication_item_list(
    *, status: str | None = None, reason: str | None = None, scan_id: int | None = None
) -> QuerySet[AdjudicationItem]:
    items = _items()
    if status:
        items = items.filter(status=status)
    if reason:
        items = items.filter(reason=reason)
    if scan_id is not None:
        items = items.filter(scan_id=scan_id)
    return items.order_by("status", "scan_id", "slice__position_index", "label", "id")


def adjudication_item_get(*, item_id: int) -> AdjudicationItem:
    return _items().get(pk=item_id)


def adjudication_decision_text(*, item: AdjudicationItem) -> str:
    """What a resolved item's decision says, in a few words ("" while open): a split vote's
    subtype present or absent; for a missing read the subtypes decided, over how many slices
    for a slice-level scan. Reads the item's prefetched ``labels``."""
    rows = list(item.labels.all())
    if not rows:
        return ""
    if item.label:  # a split vote: one row, one subtype
        present = getattr(rows[0], item.label)
        return f"{item.label.upper()} {'present' if present else 'absent'}"
    positive = [row for row in rows if any(getattr(row, name) for name in SUBTYPES)]
    found = [name.upper() for name in SUBTYPES if any(getattr(row, name) for row in rows)]
    if rows[0].slice_id is None:  # the scan as a whole (a scan-level read)
        return ", ".join(found) if found else "No hemorrhage"
    if not positive:
        return f"No hemorrhage on any of {len(rows)} slices"
    return f"{', '.join(found)} on {len(positive)} of {len(rows)} slices"


def adjudication_item_votes(*, item: AdjudicationItem) -> list[dict]:
    """Each read of the item's scan with what it says about the item (coordinators only: the
    adjudicator sees who voted what). Slice items give the slice's labels, others the scan
    label or the number of labelled slices."""
    reads = Read.objects.filter(scan_id=item.scan_id).select_related("reader", "scan_label")
    labels = {}
    if item.slice_id is not None:
        labels = {
            label.read_id: label
            for label in SliceLabel.objects.filter(slice_id=item.slice_id, read__in=reads)
        }
    votes = []
    for read in reads.annotate(labelled_slices=labelled_slice_count()).order_by("id"):
        label = labels.get(read.pk) if item.slice_id else getattr(read, "scan_label", None)
        votes.append(
            {
                "read": read.pk,
                "reader": read.reader.username,
                "kind": read.kind,
                "status": read.status,
                "labelled_slices": read.labelled_slices,
                "values": label.values() if label else None,
            }
        )
    return votes


def adjudication_item_decision(*, item: AdjudicationItem) -> list[dict]:
    """The decided values of an item, per slice (slice_index None: the scan as a whole)."""
    rows = AdjudicatedLabel.objects.filter(item=item).select_related("slice")
    return [
        {
            "slice_index": row.slice.position_index if row.slice is not None else None,
            **{name: getattr(row, name) for name in SUBTYPES},
        }
        for row in rows.order_by("slice__position_index")
    ]


def scan_slice_votes(*, scan_id: int, slice_id: int | None = None) -> list[dict]:
    """The slices in question of a scan, inferior first, with every read's labels of each: the
    slices some read marked with a subtype, or only ``slice_id``. Votes name their reader
    (coordinators only, as ``adjudication_item_votes``); a read without a label of the slice
    votes ``values`` None."""
    labels = SliceLabel.objects.filter(read__scan_id=scan_id)
    if slice_id is not None:
        in_question = {slice_id}
    else:
        in_question = set(labels.filter(any_subtype_q()).values_list("slice_id", flat=True))
    said = {
        (label.slice_id, label.read_id): label.values()
        for label in labels.filter(slice_id__in=in_question)
    }
    reads = list(Read.objects.filter(scan_id=scan_id).select_related("reader").order_by("id"))
    slices = Slice.objects.filter(pk__in=in_question, scan_id=scan_id).order_by("position_index")
    return [
        {
            "slice_index": slice_.position_index,
            "votes": [
                {
                    "read": read.pk,
                    "reader": read.reader.username,
                    "kind": read.kind,
                    "status": read.status,
                    "values": said.get((slice_.pk, read.pk)),
                }
                for read in reads
            ],
        }
        for slice_ in slices
    ]


def adjudication_item_slices(*, item: AdjudicationItem) -> list[dict]:
    """The slices an item is about, with the readers' votes on each: its own slice, or for an
    item on a whole scan the slices any read marked (none for scan-level reads)."""
    return scan_slice_votes(scan_id=item.scan_id, slice_id=item.slice_id)
