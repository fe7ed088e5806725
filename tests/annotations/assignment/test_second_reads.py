"""Second reads on request: refusals, the blinded read, its comparison with the first read,
adjudication of 1:1 disagreements and the freeze that settles them."""

import pytest

from annotations.adjudication.services import (
    adjudication_item_resolve,
    adjudication_split_votes_create,
)
from annotations.assignment.second_reads import second_read_request, second_read_states
from annotations.assignment.services import read_unassign
from annotations.ground_truth.services import ground_truth_freeze
from annotations.models import (
    AdjudicationItem,
    AdjudicationReason,
    GroundTruthScanLabel,
    ReadKind,
    ReadLevel,
    SecondReadState,
)
from annotations.reading.services import read_assign
from ichlabel.errors import InvalidInput
from tests.annotations.study_factories import label_and_complete, make_scan
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db

MODEL_REASON = {
    "source": "model",
    "model_version": 7,
    "class": "sdh",
    "kind": "false_negative",
    "score": 0.93,
}


def read_training_scan(reader, labels=None):
    scan = make_scan(center="Center T", split="train", slices=4)
    read = read_assign(scan=scan, reader=reader, kind=ReadKind.PRIMARY, level=ReadLevel.SLICE)
    label_and_complete(read, labels)
    return scan, read


def test_refusals_name_their_reason(coordinator, readers):
    done, _ = read_training_scan(readers[0])
    still = make_scan(center="Center T", split="train")
    read_assign(scan=still, reader=readers[1], kind=ReadKind.PRIMARY)
    with pytest.raises(InvalidInput):
        second_read_request(scans=[(done, {"class": "sdh"})], requested_by=coordinator)
    with pytest.raises(InvalidInput):
        second_read_request(
            scans=[(done, {"source": "model", "note": "x" * 5000})], requested_by=coordinator
        )
    with pytest.raises(InvalidInput):
        second_read_request(
            scans=[(done, MODEL_REASON)], requested_by=coordinator, reader=coordinator
        )
    # The only reader left with no read of the scan is its first reader: nobody is eligible.
    result = second_read_request(
        scans=[(done, MODEL_REASON)], requested_by=coordinator, reader=readers[0]
    )
    assert [r["code"] for r in result.refused] == ["no_eligible_reader"] and not result.requests

    result = second_read_request(
        scans=[
            (done, MODEL_REASON),
            (still, MODEL_REASON),
            (done, MODEL_REASON),
            (999999, MODEL_REASON),
        ],
        requested_by=coordinator,
        seed=3,
    )
    assert [request.scan_id for request in result.requests] == [done.pk]
    assert {(r["scan"], r["code"]) for r in result.refused} == {
        (still.pk, "still_read"),
        (done.pk, "pending_second_read"),
        (999999, "not_found"),
    }
    request = result.requests[0]
    assert request.read.kind == ReadKind.CROSS and request.read.level == ReadLevel.SLICE
    assert request.read.reader != readers[0] and request.reason == MODEL_REASON
    assert request.state == SecondReadState.READING

    # Taken back before any work: the request is withdrawn and the scan can be sent again.
    read_unassign(read_id=request.read.pk, by=coordinator)
    request.refresh_from_db()
    assert request.state == SecondReadState.WITHDRAWN and request.read is None
    again = second_read_request(scans=[(done, MODEL_REASON)], requested_by=coordinator)
    assert len(again.requests) == 1


def test_disagreement_is_adjudicated_and_frozen(coordinator, readers):
    """Agreement stands by the vote, a 1:1 disagreement waits for the adjudicator (the scan is
    pending meanwhile) and enters the next version as decided."""
    scan, _ = read_training_scan(readers[0], {1: {"iph": True}})
    read_training_scan(readers[2])  # another scan, final throughout
    before = ground_truth_freeze(name="v1", created_by=coordinator)
    assert GroundTruthScanLabel.objects.get(version=before, scan=scan).sdh is False

    request = second_read_request(
        scans=[(scan, MODEL_REASON)], requested_by=coordinator, reader=readers[1]
    ).requests[0]
    pending = ground_truth_freeze(name="v2 pending", created_by=coordinator)
    assert not GroundTruthScanLabel.objects.filter(version=pending, scan=scan).exists()

    # Agrees on IPH in slice 1, adds SDH in slices 2 and 3.
    label_and_complete(request.read, {1: {"iph": True}, 2: {"sdh": True}, 3: {"sdh": True}})
    request.refresh_from_db()
    assert request.state == SecondReadState.ADJUDICATION and request.disagreements == 2
    items = list(AdjudicationItem.objects.filter(reason=AdjudicationReason.SECOND_READ))
    assert {(item.slice.position_index, item.label) for item in items} == {(2, "sdh"), (3, "sdh")}
    assert {(item.positive_votes, item.total_votes) for item in items} == {(1, 2)}
    states = second_read_states(scan_ids=[scan.pk])
    assert states[scan.pk]["state"] == "adjudication" and states[scan.pk]["open_items"] == 2
    adjudicating = ground_truth_freeze(name="v2 adjudicating", created_by=coordinator)
    assert not GroundTruthScanLabel.objects.filter(version=adjudicating, scan=scan).exists()

    by_slice = {item.slice.position_index: item for item in items}
    adjudication_item_resolve(
        item_id=by_slice[2].pk, decided_by=coordinator, reason="Thin SDH", value=True
    )
    assert second_read_states(scan_ids=[scan.pk])[scan.pk]["state"] == "adjudication"
    adjudication_item_resolve(
        item_id=by_slice[3].pk, decided_by=coordinator, reason="Beam hardening", value=False
    )
    request.refresh_from_db()
    assert request.state == SecondReadState.SETTLED
    # The decided 1:1 votes are not queued again as split votes.
    assert adjudication_split_votes_create(subtypes=["sdh"], created_by=coordinator) == 0

    after = ground_truth_freeze(name="v2", created_by=coordinator)
    from tests.annotations.ground_truth.test_services import slice_truth

    assert slice_truth(after, scan) == [set(), {"any_ich", "iph"}, {"any_ich", "sdh"}, set()]
    label = GroundTruthScanLabel.objects.get(version=after, scan=scan)
    assert label.sdh and label.iph and label.adjudicated and label.reads == 2
    assert second_read_states(scan_ids=[scan.pk])[scan.pk]["settled_in"] == "v2"

    # Left out while pending, back once settled: removed, then added, in the comparisons.
    from annotations.ground_truth.selectors import ground_truth_scan_changes

    gone = ground_truth_scan_changes(version_a=before, version_b=pending)
    assert (gone["counts"]["removed"], gone["counts"]["total"]) == (1, 1)
    assert gone["scans"][0]["change"] == "removed" and gone["scans"][0]["b"] is None
    back = ground_truth_scan_changes(version_a=pending, version_b=after, change="added")
    assert [row["scan"] for row in back["scans"]] == [scan.pk] and back["scans"][0]["a"] is None
    assert (
        ground_truth_scan_changes(version_a=pending, version_b=after, change="removed")["scans"]
        == []
    )
    assert ground_truth_scan_changes(version_a=before, version_b=after, offset=1)["scans"] == []


def test_agreeing_second_read_settles_without_adjudication(coordinator, readers):
    scan, _ = read_training_scan(readers[0], {0: {"edh": True}})
    request = second_read_request(scans=[(scan, MODEL_REASON)], requested_by=coordinator).requests[
        0
    ]
    label_and_complete(request.read, {0: {"edh": True}})
    request.refresh_from_db()
    assert request.state == SecondReadState.SETTLED and request.disagreements == 0
    version = ground_truth_freeze(name="agreed", created_by=coordinator)
    label = GroundTruthScanLabel.objects.get(version=version, scan=scan)
    assert label.edh and not label.adjudicated and label.reads == 2


def test_scan_level_second_read_and_withdrawal_after_completion(coordinator, readers):
    """A test scan read at scan level by three gets a fourth scan-level read; its disagreement
    with the majority is one item on the scan; withdrawing the completed read retires it."""
    from annotations.assignment.services import read_reassign
    from annotations.models import AdjudicationStatus
    from tests.annotations.study_factories import scan_label_and_complete

    scan = make_scan(center="Center P", split="test", slices=2)
    for reader, kind, values in zip(
        readers[:3],
        (ReadKind.PRIMARY, ReadKind.CROSS, ReadKind.CROSS),
        ({"sah": True}, {"sah": True}, {"no_hemorrhage": True}),
        strict=True,
    ):
        read = read_assign(scan=scan, reader=reader, kind=kind, level=ReadLevel.SCAN)
        scan_label_and_complete(read, values)
    request = second_read_request(scans=[(scan, MODEL_REASON)], requested_by=coordinator).requests[
        0
    ]
    assert request.read.reader == readers[3] and request.read.level == ReadLevel.SCAN
    scan_label_and_complete(request.read, {"no_hemorrhage": True})
    (item,) = AdjudicationItem.objects.filter(reason=AdjudicationReason.SECOND_READ)
    assert (item.slice_id, item.label, item.positive_votes, item.total_votes) == (None, "sah", 2, 4)

    # The completed second read is taken back: its disagreement goes, and a new reader's read
    # carries the request on.
    spare = user_with_role("neuro9", "neuroradiologist")
    replacement = read_reassign(
        read_id=request.read.pk, reader=spare, by=coordinator, force=True, reason="unwell"
    )
    item.refresh_from_db()
    request.refresh_from_db()
    assert item.status == AdjudicationStatus.OBSOLETE
    assert request.state == SecondReadState.READING and request.read == replacement
    scan_label_and_complete(replacement, {"sah": True})
    request.refresh_from_db()
    assert request.state == SecondReadState.SETTLED and request.disagreements == 0
    version = ground_truth_freeze(name="scan level", created_by=coordinator)
    label = GroundTruthScanLabel.objects.get(version=version, scan=scan)
    assert label.sah and label.reads == 4
