"""Blinding after release: a reader's view of a released ground-truth version holds the labels of
the scans they read and nothing else (no read counts, no adjudication flags, no totals over
scans they did not read), in every ground-truth endpoint and export a reader can reach;
coordinators and ML engineers keep the whole version."""

import pytest
from rest_framework.test import APIClient

from annotations.adjudication.services import (
    adjudication_item_resolve,
    adjudication_split_votes_create,
)
from annotations.exports import EXPORT_KINDS
from annotations.ground_truth.services import ground_truth_freeze, ground_truth_release
from annotations.models import AdjudicationItem, ReadKind, ReadLevel
from annotations.reading.services import read_assign
from tests.annotations.study_factories import (
    label_and_complete,
    make_scan,
    scan_label_and_complete,
)
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db

CLASSES = {"any", "iph", "ivh", "sah", "sdh", "edh"}
# What a coordinator's view tells of how the truth was reached or of the whole study.
WITHHELD = {
    "reads", "adjudicated", "counts", "pending_scan_count", "slice_count", "note",
    "content_sha256", "created_by", "created_at", "center", "split", "series_instance_uid",
    "sop_instance_uid",
}  # fmt: skip


def withheld_keys(body) -> set[str]:
    """Every withheld key anywhere in a JSON body."""
    if isinstance(body, dict):
        return (set(body) & WITHHELD).union(*map(withheld_keys, body.values()))
    if isinstance(body, list):
        return set().union(*map(withheld_keys, body))
    return set()


@pytest.fixture
def study():
    people = {
        name: user_with_role(name, role)
        for name, role in (
            ("coord", "coordinator"),
            ("mleng", "ml_engineer"),
            ("reader", "neuroradiologist"),
            ("other", "neuroradiologist"),
            ("third", "neuroradiologist"),
            ("fourth", "neuroradiologist"),
        )
    }
    # A validation scan the reader read with two others; its SDH vote is split and adjudicated.
    mine = make_scan(split="validation", slices=3)
    reads = {}
    for name, kind, labels in (
        ("reader", ReadKind.PRIMARY, {0: {"iph": True}, 1: {"sdh": True}}),
        ("other", ReadKind.CROSS, {0: {"iph": True}}),
        ("third", ReadKind.CROSS, {0: {"iph": True}, 1: {"sdh": True}}),
    ):
        reads[name] = label_and_complete(
            read_assign(scan=mine, reader=people[name], kind=kind), labels
        )
    adjudication_split_votes_create(subtypes=["sdh"], created_by=people["coord"])
    adjudication_item_resolve(
        item_id=AdjudicationItem.objects.get().pk,
        decided_by=people["coord"],
        reason="calcification",
        value=False,
    )
    # A validation scan read by three others, never by the reader.
    theirs = make_scan(split="validation", center="Center W", slices=2)
    for name, kind in (("other", ReadKind.PRIMARY), ("third", ReadKind.CROSS),
                       ("fourth", ReadKind.CROSS)):  # fmt: skip
        label_and_complete(read_assign(scan=theirs, reader=people[name], kind=kind))
    # A training scan the reader read alone, at scan level.
    scan_level = make_scan(split="train", center="Center T", slices=2)
    own_scan_read = scan_label_and_complete(
        read_assign(scan=scan_level, reader=people["reader"], level=ReadLevel.SCAN),
        {"sah": True},
    )
    released = ground_truth_freeze(name="v1", created_by=people["coord"])
    ground_truth_release(version_id=released.pk, released_by=people["coord"])
    unreleased = ground_truth_freeze(name="v2", created_by=people["coord"])
    return {
        "people": people,
        "mine": mine,
        "theirs": theirs,
        "scan_level": scan_level,
        "read": reads["reader"],
        "scan_read": own_scan_read,
        "released": released,
        "unreleased": unreleased,
    }


def as_user(study, name: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(study["people"][name])
    return client


def test_a_reader_sees_the_labels_of_the_scans_they_read_and_nothing_more(study):
    reader = as_user(study, "reader")
    version = study["released"]
    base = f"/api/v1/reader/ground-truth/{version.pk}/"

    versions = reader.get("/api/v1/reader/ground-truth/").json()
    detail = reader.get(base).json()
    scans = reader.get(base + "scans/").json()
    slices = reader.get(base + f"scans/{study['mine'].pk}/slices/").json()

    assert version.scan_count == 3  # the study's total, which the reader must not learn
    assert versions["count"] == 1
    assert versions["results"] == [detail]
    assert set(detail) == {"id", "name", "released_at", "scan_count"}
    assert detail["name"] == "v1" and detail["scan_count"] == 2
    assert [(row["scan"], row["read"], row["level"]) for row in scans["results"]] == [
        (study["mine"].pk, study["read"].pk, "slice"),
        (study["scan_level"].pk, study["scan_read"].pk, "scan"),
    ]
    assert all(set(row) == CLASSES | {"scan", "read", "level", "positive_slices"}
               for row in scans["results"])  # fmt: skip
    assert scans["results"][1]["sah"] is True and scans["results"][1]["positive_slices"] is None
    assert [row["slice_index"] for row in slices] == [0, 1, 2]
    assert all(set(row) == CLASSES | {"slice_index"} for row in slices)
    # The adjudicated SDH (2 of 3 said yes, the coordinator said no) shows as the truth only.
    assert [(row["iph"], row["sdh"]) for row in slices] == [(True, False), (False, False),
                                                          (False, False)]  # fmt: skip
    assert not withheld_keys([versions, detail, scans, slices])


def test_scans_the_reader_did_not_read_and_unreleased_versions_do_not_exist_for_them(study):
    reader = as_user(study, "reader")
    released, unreleased = study["released"].pk, study["unreleased"].pk

    other_scan = reader.get(
        f"/api/v1/reader/ground-truth/{released}/scans/{study['theirs'].pk}/slices/"
    )
    hidden = [
        reader.get(f"/api/v1/reader/ground-truth/{unreleased}/{tail}").status_code
        for tail in ("", "scans/", f"scans/{study['mine'].pk}/slices/")
    ]
    # Another reader of the same scans sees only the one they read themselves.
    fourth = as_user(study, "fourth").get(f"/api/v1/reader/ground-truth/{released}/scans/")

    assert other_scan.status_code == 404
    assert hidden == [404, 404, 404]
    assert [row["scan"] for row in fourth.json()["results"]] == [study["theirs"].pk]
    assert fourth.json()["count"] == 1


def test_the_whole_version_and_every_export_are_refused_to_readers(study):
    reader = as_user(study, "reader")
    version = study["released"].pk
    whole = [
        "/api/v1/ground-truth/",
        f"/api/v1/ground-truth/{version}/",
        f"/api/v1/ground-truth/{version}/scans/",
        f"/api/v1/ground-truth/{version}/scans/{study['mine'].pk}/slices/",
        f"/api/v1/ground-truth/compare/?a={version}&b={study['unreleased'].pk}",
    ]
    exports = [f"/api/v1/ground-truth/{version}/exports/{kind}/" for kind in EXPORT_KINDS]

    statuses = {path: reader.get(path).status_code for path in whole + exports}

    assert "slices.csv" in EXPORT_KINDS and "scans.csv" in EXPORT_KINDS
    assert set(statuses.values()) == {403}, statuses


@pytest.mark.parametrize("name", ["coord", "mleng"])
def test_coordinators_and_ml_engineers_keep_the_whole_version(study, name):
    client = as_user(study, name)
    version = study["released"].pk

    detail = client.get(f"/api/v1/ground-truth/{version}/").json()
    scans = client.get(f"/api/v1/ground-truth/{version}/scans/").json()
    slices = client.get(f"/api/v1/ground-truth/{version}/scans/{study['mine'].pk}/slices/").json()
    csv = b"".join(client.get(f"/api/v1/ground-truth/{version}/exports/scans.csv/"))
    reader_view = client.get("/api/v1/reader/ground-truth/")

    assert detail["scan_count"] == 3 and "counts" in detail
    assert scans["count"] == 3 and all("reads" in row for row in scans["results"])
    assert [row["adjudicated"] for row in slices] == [False, True, False]
    assert [row["reads"] for row in slices] == [3, 3, 3]
    assert len(csv.decode().strip().splitlines()) == 1 + 3
    assert reader_view.status_code == 403  # the reader's view is for readers
