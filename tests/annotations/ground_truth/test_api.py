"""Assignment, scan-level labels, adjudication and ground-truth APIs: every endpoint walked as
a matrix of role x object owner (coordinator, ML engineer, the reader who owns the read,
another reader of the same scan, anonymous). Readers never learn of other reads or of
consensus before a version is released."""

import pytest
from rest_framework.test import APIClient

from annotations.adjudication.services import adjudication_split_votes_create
from annotations.ground_truth.services import ground_truth_freeze, ground_truth_release
from annotations.models import AdjudicationItem, GroundTruthVersion, Read, ReadKind, ReadLevel
from annotations.reading.services import read_assign
from tests.annotations.study_factories import label_and_complete, make_scan
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db

ACTORS = ("coordinator", "ml_engineer", "reader", "other_reader", "anonymous")


@pytest.fixture
def study():
    people = {
        "coordinator": user_with_role("coord", "coordinator"),
        "ml_engineer": user_with_role("mleng", "ml_engineer"),
        "reader": user_with_role("reader", "neuroradiologist"),
        "other_reader": user_with_role("other", "neuroradiologist"),
        "third_reader": user_with_role("third", "neuroradiologist"),
        "spare_reader": user_with_role("spare", "neuroradiologist"),
    }
    validation = make_scan(split="validation", slices=3)
    reads = [
        read_assign(scan=validation, reader=people[name], kind=kind)
        for name, kind in (
            ("reader", ReadKind.PRIMARY),
            ("other_reader", ReadKind.CROSS),
            ("third_reader", ReadKind.CROSS),
        )
    ]
    label_and_complete(reads[0], {0: {"iph": True}, 1: {"sdh": True}})
    label_and_complete(reads[1], {0: {"iph": True}})
    label_and_complete(reads[2], {0: {"iph": True}, 1: {"sdh": True}})
    adjudication_split_votes_create(subtypes=["sdh"], created_by=people["coordinator"])
    version = ground_truth_freeze(name="v1", created_by=people["coordinator"])
    test_scan = make_scan(split="test", center="Center P", slices=2)
    scan_read = read_assign(
        scan=test_scan, reader=people["reader"], kind=ReadKind.PRIMARY, level=ReadLevel.SCAN
    )
    read_assign(scan=test_scan, reader=people["other_reader"], level=ReadLevel.SCAN)
    train = make_scan(split="train", center="Center T")
    untouched = read_assign(scan=train, reader=people["reader"])
    return {
        "people": people,
        "validation": validation,
        "version": version,
        "scan_read": scan_read,
        "untouched": untouched,
        "item": AdjudicationItem.objects.get(),
    }


def client_as(study, actor: str) -> APIClient:
    client = APIClient()
    if actor != "anonymous":
        client.force_authenticate(study["people"][actor])
    return client


COORDINATOR_ONLY = {"coordinator": None, "ml_engineer": 403, "reader": 403,
                    "other_reader": 403, "anonymous": 403}  # fmt: skip
OWNER_ONLY = {"coordinator": 403, "ml_engineer": 403, "reader": None,
              "other_reader": 404, "anonymous": 403}  # fmt: skip
STUDY_STAFF = {"coordinator": None, "ml_engineer": None, "reader": 403,
               "other_reader": 403, "anonymous": 403}  # fmt: skip
# The whole version: coordinators and ML engineers (readers have their own view, see
# test_reader_view.py).
VERSION_VIEW = {"coordinator": None, "ml_engineer": None, "reader": 403,
                "other_reader": 403, "anonymous": 403}  # fmt: skip


def _ids(s):
    return {"read": s["untouched"].pk, "scan_read": s["scan_read"].pk, "item": s["item"].pk,
            "version": s["version"].pk, "scan": s["validation"].pk,
            "spare": s["people"]["spare_reader"].pk}  # fmt: skip


ENDPOINTS = [
    ("assign", "post", "/api/v1/assignments/", {"dry_run": True}, COORDINATOR_ONLY, 200),
    ("study-reads", "get", "/api/v1/study-reads/", None, COORDINATOR_ONLY, 200),
    ("workload", "get", "/api/v1/readers/workload/", None, COORDINATOR_ONLY, 200),
    ("reassign", "post", "/api/v1/study-reads/{read}/reassign/", {"reader": "{spare}"},
     COORDINATOR_ONLY, 200),
    ("unassign", "post", "/api/v1/study-reads/{read}/unassign/", {}, COORDINATOR_ONLY, 204),
    ("scan-label-get", "get", "/api/v1/reads/{scan_read}/scan-label/", None, OWNER_ONLY, 200),
    ("scan-label-save", "post", "/api/v1/reads/{scan_read}/scan-label/",
     {"version": 0, "sah": True}, OWNER_ONLY, 200),
    ("read-detail", "get", "/api/v1/reads/{scan_read}/", None, OWNER_ONLY, 200),
    ("adjudication-list", "get", "/api/v1/adjudication/", None, COORDINATOR_ONLY, 200),
    ("adjudication-detail", "get", "/api/v1/adjudication/{item}/", None, COORDINATOR_ONLY, 200),
    ("missing-reads", "post", "/api/v1/adjudication/missing-reads/", None, COORDINATOR_ONLY, 200),
    ("split-votes", "post", "/api/v1/adjudication/split-votes/", {"subtypes": ["iph"]},
     COORDINATOR_ONLY, 201),
    ("resolve", "post", "/api/v1/adjudication/{item}/resolve/",
     {"reason": "reviewed", "value": True}, COORDINATOR_ONLY, 200),
    ("freeze", "post", "/api/v1/ground-truth/freeze/", {"name": "v2"}, COORDINATOR_ONLY, 201),
    ("release", "post", "/api/v1/ground-truth/{version}/release/", None, COORDINATOR_ONLY, 200),
    ("version-detail", "get", "/api/v1/ground-truth/{version}/", None, VERSION_VIEW, 200),
    ("version-scans", "get", "/api/v1/ground-truth/{version}/scans/", None, VERSION_VIEW, 200),
    ("version-slices", "get", "/api/v1/ground-truth/{version}/scans/{scan}/slices/", None,
     VERSION_VIEW, 200),
    ("compare", "get", "/api/v1/ground-truth/compare/?a={version}&b={version}", None,
     STUDY_STAFF, 200),
]  # fmt: skip


def _fill(value, ids):
    if isinstance(value, str):
        filled = value.format(**ids)
        return int(filled) if value.startswith("{") and filled.isdigit() else filled
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


# The roles refused with 403 are walked by tests/ichlabel/test_permission_matrix.py; here each
# endpoint's success for the roles allowed, and the 404 of what is not the caller's to see.
CASES = [
    pytest.param(actor, *endpoint, id=f"{endpoint[0]}-{actor}")
    for endpoint in ENDPOINTS
    for actor in ACTORS
    if endpoint[4][actor] in (None, 404)
]


@pytest.mark.parametrize(
    ("actor", "name", "method", "path", "payload", "expected", "success"), CASES
)
def test_role_by_owner_matrix(study, actor, name, method, path, payload, expected, success):
    ids = _ids(study)
    reads_before = list(Read.objects.order_by("id").values_list("id", "reader_id", "status"))
    versions_before = list(GroundTruthVersion.objects.values_list("id", "released_at"))

    response = getattr(client_as(study, actor), method)(
        _fill(path, ids), _fill(payload, ids), format="json"
    )

    wanted = expected[actor] or success
    assert response.status_code == wanted, (actor, name, response.content)
    if wanted >= 400:
        assert list(Read.objects.order_by("id").values_list("id", "reader_id", "status")) == (
            reads_before
        )
        assert list(GroundTruthVersion.objects.values_list("id", "released_at")) == (
            versions_before
        )
        assert AdjudicationItem.objects.filter(status="open").count() == 1


def test_readers_see_no_version_before_release_then_only_scans_they_read(study):
    version = study["version"]
    coordinator = study["people"]["coordinator"]
    outsider = study["people"]["spare_reader"]
    read_assign(scan=make_scan(split="train", center="Center T"), reader=outsider)

    before = client_as(study, "reader").get("/api/v1/reader/ground-truth/").json()
    ground_truth_release(version_id=version.pk, released_by=coordinator)
    reader = client_as(study, "reader")
    after = reader.get("/api/v1/reader/ground-truth/").json()
    scans = reader.get(f"/api/v1/reader/ground-truth/{version.pk}/scans/").json()
    slices = reader.get(
        f"/api/v1/reader/ground-truth/{version.pk}/scans/{study['validation'].pk}/slices/"
    ).json()
    spare = APIClient()
    spare.force_authenticate(outsider)
    outsider_versions = spare.get("/api/v1/reader/ground-truth/").json()
    outsider_slices = spare.get(
        f"/api/v1/reader/ground-truth/{version.pk}/scans/{study['validation'].pk}/slices/"
    )

    assert before["count"] == 0
    assert [item["name"] for item in after["results"]] == ["v1"]
    assert [row["scan"] for row in scans["results"]] == [study["validation"].pk]
    assert [(row["slice_index"], row["any"], row["iph"]) for row in slices] == [
        (0, True, True),
        (1, True, False),
        (2, False, False),
    ]
    assert outsider_versions["count"] == 0 and outsider_slices.status_code == 404


def test_the_worklist_shows_level_and_scan_label_but_never_the_read_kind(study):
    reader = client_as(study, "reader")
    reader.post(
        f"/api/v1/reads/{study['scan_read'].pk}/scan-label/",
        {"version": 0, "sah": True},
        format="json",
    )

    body = reader.get("/api/v1/worklist/").json()
    detail = reader.get(f"/api/v1/reads/{study['scan_read'].pk}/").json()

    by_id = {item["id"]: item for item in body}
    scan_level = by_id[study["scan_read"].pk]
    assert scan_level["level"] == "scan" and scan_level["scan_label"]["sah"] is True
    assert by_id[study["untouched"].pk]["level"] == "slice"
    assert by_id[study["untouched"].pk]["scan_label"] is None
    assert all("kind" not in item and "reader" not in item for item in body)
    assert detail["level"] == "scan" and detail["scan_label"]["version"] == 1
    assert "kind" not in detail


def test_scan_label_save_conflicts_and_slice_labels_are_refused_on_scan_level_reads(study):
    reader = client_as(study, "reader")
    url = f"/api/v1/reads/{study['scan_read'].pk}/"

    first = reader.post(url + "scan-label/", {"version": 0, "edh": True}, format="json")
    stale = reader.post(url + "scan-label/", {"version": 0, "sdh": True}, format="json")
    slices = reader.post(
        url + "labels/", {"changes": [{"slice_index": 0, "version": 0, "iph": True}]}, format="json"
    )
    early = reader.get(url).json()

    assert first.status_code == 200 and first.json()["version"] == 1
    assert stale.status_code == 409 and stale.json()["extra"]["values"]["edh"] is True
    assert slices.status_code == 409
    assert early["status"] == "in_progress"


def test_assign_api_reports_reads_and_skips(study):
    coordinator = client_as(study, "coordinator")
    scans = [make_scan(split="validation", center="Center W") for _ in range(2)]

    response = coordinator.post(
        "/api/v1/assignments/",
        {"split": "validation", "status": "unassigned", "seed": 3, "capacity": 3},
        format="json",
    )

    body = response.json()
    assert response.status_code == 201 and body["seed"] == 3
    assigned = {read["scan"] for read in body["reads"]}
    skipped = {item["scan"] for item in body["skipped"]}
    assert assigned | skipped == {scan.pk for scan in scans}
    assert all(read["id"] for read in body["reads"])
    assert {read["kind"] for read in body["reads"]} == {"primary", "cross"}


def test_compare_api(study):
    coordinator = client_as(study, "coordinator")
    item = study["item"]
    coordinator.post(
        f"/api/v1/adjudication/{item.pk}/resolve/",
        {"reason": "thin SDH", "value": False},
        format="json",
    )
    second = coordinator.post("/api/v1/ground-truth/freeze/", {"name": "v2"}, format="json")

    diff = coordinator.get(
        f"/api/v1/ground-truth/compare/?a={study['version'].pk}&b={second.json()['id']}"
    ).json()

    assert diff["slices"]["changed"] == 1 and diff["slices"]["changed_by_class"]["sdh"] == 1
    assert diff["scans"]["changed_by_class"]["sdh"] == 1 and diff["identical"] is False
