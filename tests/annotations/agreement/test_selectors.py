"""Agreement service and API: the arrays it loads from the reads equal hand-built ones, its
figures equal annotations.agreement run on those arrays, readers map to columns by read slot
(table) and by identity (pair matrices) when cross-readers differ per scan, scan-level
studies, filters, agreement by week, CSV, and who may see agreement at all."""

import csv
import datetime as dt
import io

import numpy as np
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from annotations.agreement.selectors import agreement_report, study_ratings_load
from annotations.agreement.statistics import (
    agreement_statistics,
    agreement_table,
    fleiss_kappa,
    pairwise_cohen_kappa,
)
from annotations.ground_truth.services import ground_truth_freeze
from annotations.models import Read, ReadKind, ReadLevel
from annotations.reading.services import read_assign
from tests.annotations.study_factories import (
    label_and_complete,
    make_scan,
    scan_label_and_complete,
)
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db

LABELS = ("any", "iph", "ivh", "sah", "sdh", "edh")
SLOTS = ("primary", "cross_1", "cross_2")
N = np.nan


@pytest.fixture
def readers():
    return [user_with_role(f"neuro{n}", "neuroradiologist") for n in (1, 2, 3, 4)]


def _reads(scan, readers, level=ReadLevel.SLICE):
    kinds = [ReadKind.PRIMARY] + [ReadKind.CROSS] * (len(readers) - 1)
    return [
        read_assign(scan=scan, reader=reader, kind=kind, level=level)
        for reader, kind in zip(readers, kinds, strict=True)
    ]


@pytest.fixture
def study(readers):
    """Two validation scans cross-read by different readers, a training scan with one read,
    and a validation scan still waiting for its third read."""
    r1, r2, r3, r4 = readers
    a = make_scan(slices=3)
    ra = _reads(a, [r1, r2, r3])
    label_and_complete(ra[0], {0: {"iph": True}, 1: {"iph": True, "sdh": True}})
    label_and_complete(ra[1], {0: {"iph": True}, 2: {"no_hemorrhage": True}})
    label_and_complete(ra[2], {1: {"sdh": True}})
    b = make_scan(slices=4)
    rb = _reads(b, [r2, r4, r1])
    label_and_complete(rb[0], {3: {"sah": True}})
    label_and_complete(rb[1], {3: {"sah": True}, 2: {"edh": True}})
    label_and_complete(rb[2], {})
    c = make_scan(split="train", center="Center T", slices=2)
    label_and_complete(_reads(c, [r3])[0], {1: {"ivh": True}})
    d = make_scan(slices=2)
    rd = _reads(d, [r4, r1, r2])
    label_and_complete(rd[0], {0: {"sdh": True}})
    label_and_complete(rd[1], {0: {"sdh": True}})
    return {"a": a, "b": b, "c": c, "d": d}


def _expected(study):
    """The slot arrays by hand: bits per slice (iph 1, ivh 2, sah 4, sdh 8, edh 16)."""
    labels = np.array(
        [
            # scan a: neuro1, neuro2, neuro3
            [1, 1, 0],
            [9, 0, 8],
            [0, 0, 0],
            # scan b: neuro2, neuro4, neuro1
            [0, 0, 0],
            [0, 0, 0],
            [0, 16, 0],
            [4, 4, 0],
            # scan c: neuro3 alone
            [0, 255, 255],
            [2, 255, 255],
            # scan d: neuro4, neuro1 (neuro2 still reading)
            [8, 8, 255],
            [0, 0, 255],
        ],
        dtype=np.uint8,
    )
    groups = np.repeat([study[k].pk for k in "abcd"], [3, 4, 2, 2])
    return labels, groups


def _hand_ratings(labels):
    bits = {"iph": 1, "ivh": 2, "sah": 4, "sdh": 8, "edh": 16}
    out = {}
    for label in LABELS:
        mask = 31 if label == "any" else bits[label]
        values = ((labels & mask) > 0).astype(float)
        values[labels == 255] = np.nan
        out[label] = values
    return out


def _plain(rows):
    return [row.as_dict() for row in rows]


def test_arrays_follow_read_slots_with_cross_reads_by_different_readers(study):
    ratings = study_ratings_load()
    labels, groups = _expected(study)

    assert ratings.slots == SLOTS
    assert ratings.readers == ("neuro1", "neuro2", "neuro3", "neuro4")
    np.testing.assert_array_equal(ratings.labels, labels)
    np.testing.assert_array_equal(ratings.groups, groups)
    # Readers of each scan's slots, by index into readers.
    np.testing.assert_array_equal(
        ratings.slot_readers, [[0, 1, 2], [1, 3, 0], [2, -1, -1], [3, 0, -1]]
    )
    assert ratings.read_count == 9


def test_table_equals_the_agreement_module_on_hand_built_arrays(study):
    labels, groups = _expected(study)

    report = agreement_report(n_boot=200, seed=7)

    expected = agreement_table(_hand_ratings(labels), groups, SLOTS, n_boot=200, seed=7)
    assert _plain(report.table) == _plain(expected)
    assert [(row.label, row.level) for row in report.table] == [
        (label, level) for label in LABELS for level in ("slice", "scan")
    ]
    assert (report.scan_count, report.item_count, report.read_count) == (4, 11, 9)


def test_pair_matrices_compare_readers_by_identity_on_what_both_read(study):
    labels, _ = _expected(study)
    report = agreement_report(n_boot=0).as_dict()
    matrices = {(m["label"], m["level"]): m for m in report["pairwise"]}

    slice_any = matrices[("any", "slice")]
    assert slice_any["readers"] == ["neuro1", "neuro2", "neuro3", "neuro4"]
    # neuro1 and neuro2 share scans a and b (7 slices); neuro3 and neuro4 share nothing.
    assert slice_any["n_items"] == [[9, 7, 3, 6], [7, 7, 3, 4], [3, 3, 5, 0], [6, 4, 0, 6]]
    assert slice_any["kappa"][2][3] is None
    any_ratings = _hand_ratings(labels)["any"]
    # neuro1 is slot 0 on a, slot 2 on b, slot 1 on d; neuro2 slot 1, 0 and (open) none.
    neuro1 = np.r_[any_ratings[0:3, 0], any_ratings[3:7, 2]]
    neuro2 = np.r_[any_ratings[0:3, 1], any_ratings[3:7, 0]]
    expected = pairwise_cohen_kappa(np.column_stack([neuro1, neuro2]))[0, 1]
    assert slice_any["kappa"][0][1] == pytest.approx(expected)
    assert slice_any["kappa"][1][0] == slice_any["kappa"][0][1]
    assert slice_any["kappa"][0][0] == 1.0

    scan_sdh = matrices[("sdh", "scan")]
    assert scan_sdh["n_items"][0][3] == 2  # scans b and d
    assert len(report["pairwise"]) == len(LABELS) * 2


def test_scan_level_reads_give_scan_level_rows(readers):
    truth = [
        ({"sah": True, "sdh": True}, {"sah": True}, {"no_hemorrhage": True}),
        ({"iph": True}, {"iph": True}, {"iph": True, "ivh": True}),
        ({"no_hemorrhage": True}, {"no_hemorrhage": True}, {"edh": True}),
    ]
    scans = []
    for values in truth:
        scan = make_scan(split="test", center="Center P", slices=2)
        scans.append(scan)
        for read, label in zip(_reads(scan, readers[:3], ReadLevel.SCAN), values, strict=True):
            scan_label_and_complete(read, label)

    report = agreement_report(read_level=ReadLevel.SCAN, n_boot=100, seed=3)

    bits = {"iph": 1, "ivh": 2, "sah": 4, "sdh": 8, "edh": 16}
    labels = np.array(
        [[sum(bits.get(k, 0) for k in v) for v in values] for values in truth], dtype=np.uint8
    )
    assert report.item_count == 3 and report.read_level == "scan"
    for row, (label, values) in zip(report.table, _hand_ratings(labels).items(), strict=True):
        assert (row.label, row.level) == (label, "scan")
        expected = agreement_statistics(values, readers=SLOTS, n_boot=100, seed=3)
        assert row.as_dict()["fleiss_kappa"] == expected.as_dict()["fleiss_kappa"]
        assert row.statistics.as_dict() == expected.as_dict()
    # Slice-level reads are a different study: none here.
    assert agreement_report(n_boot=0).table == []


def test_filters_split_center_and_ground_truth_version(study, coordinator):
    version = ground_truth_freeze(name="v1", created_by=coordinator)

    frozen = study_ratings_load(version_id=version.pk)
    train = study_ratings_load(split="train")
    center = study_ratings_load(center_id=study["c"].center_id)

    # Scan d waits for its third read: not frozen, so not in the version's agreement.
    assert set(frozen.scan_ids) == {study["a"].pk, study["b"].pk, study["c"].pk}
    assert list(train.scan_ids) == [study["c"].pk] and list(center.scan_ids) == [study["c"].pk]
    # A single read has an empty partner column: kappa undefined, prevalence defined.
    report = agreement_report(split="train", n_boot=0).as_dict()
    row = report["table"][0]
    assert report["columns"] == ["primary", "cross_1"]
    assert row["fleiss_kappa"]["estimate"] is None
    assert row["prevalence"]["estimate"] == pytest.approx(0.5)


def test_agreement_by_week_counts_a_scan_when_its_last_read_finished(study):
    now = timezone.now()
    earlier = now - dt.timedelta(days=14)
    Read.objects.filter(scan=study["a"]).update(started_at=earlier, finished_at=earlier)

    report = agreement_report(n_boot=0)
    labels, _ = _expected(study)
    scans_any = np.array(
        [np.fmax.reduce(_hand_ratings(labels)["any"][s], axis=0) for s in _scan_slices()]
    )

    weeks = report.over_time
    assert [w["scans"] for w in weeks] == [1, 2]  # a, then b and d (c has one read)
    assert [w["cumulative_scans"] for w in weeks] == [1, 3]
    local = timezone.localtime(earlier).date()
    year, week, _ = local.isocalendar()
    assert weeks[0]["week"] == f"{year}-W{week:02d}"
    assert dt.date.fromisoformat(weeks[0]["week_start"]).weekday() == 0
    assert weeks[1]["fleiss_kappa"] == pytest.approx(fleiss_kappa(scans_any[[1, 3]]), nan_ok=True)
    assert weeks[1]["cumulative_fleiss_kappa"] == pytest.approx(
        fleiss_kappa(scans_any[[0, 1, 3]]), nan_ok=True
    )


def _scan_slices():
    return [slice(0, 3), slice(3, 7), slice(7, 9), slice(9, 11)]


def test_an_empty_selection_is_an_empty_report(db):
    report = agreement_report(split="validation").as_dict()

    assert report["table"] == [] and report["scans"] == 0 and report["over_time"] == []


# ## API


@pytest.fixture
def people(readers):
    return {
        "coordinator": user_with_role("coord", "coordinator"),
        "ml_engineer": user_with_role("mleng", "ml_engineer"),
        "reader": readers[0],
    }


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [("coordinator", True), ("ml_engineer", False), ("reader", False), ("anonymous", False)],
)
@pytest.mark.parametrize("url", ["/api/v1/agreement/", "/api/v1/agreement.csv"])
def test_only_coordinators_see_agreement(study, people, actor, allowed, url):
    response = _client(people.get(actor)).get(url, {"n_boot": 10})

    if allowed:
        assert response.status_code == 200
    elif actor == "anonymous":
        assert response.status_code in (401, 403)
    else:
        assert response.status_code == 403


def test_api_returns_the_report_with_its_filters(study, people):
    response = _client(people["coordinator"]).get(
        "/api/v1/agreement/", {"split": "validation", "n_boot": 50, "seed": 4}
    )

    body = response.json()
    assert response.status_code == 200
    assert set(body) == {
        "filters",
        "read_level",
        "n_boot",
        "seed",
        "ci_level",
        "scans",
        "items",
        "reads",
        "columns",
        "readers",
        "table",
        "pairwise",
        "over_time",
    }
    assert body["filters"] == {
        "split": "validation",
        "center": None,
        "version": "current",
        "level": "slice",
    }
    assert body["scans"] == 3 and body["n_boot"] == 50
    expected = agreement_report(split="validation", n_boot=50, seed=4).as_dict()
    assert body["table"] == expected["table"]
    row = body["table"][0]
    assert {"label", "level", "fleiss_kappa", "krippendorff_alpha", "mean_cohen_kappa"} <= set(row)
    assert set(row["fleiss_kappa"]) == {"estimate", "ci_low", "ci_high", "n_undefined"}


def test_api_refuses_bad_filters_and_unknown_versions(study, people):
    client = _client(people["coordinator"])

    assert client.get("/api/v1/agreement/", {"level": "volume"}).status_code == 400
    assert client.get("/api/v1/agreement/", {"n_boot": -1}).status_code == 400
    assert client.get("/api/v1/agreement/", {"version": "latest"}).status_code == 400
    assert client.get("/api/v1/agreement/", {"version": 999}).status_code == 404


@pytest.mark.parametrize("query", [{"format": "csv"}, {}])
def test_csv_holds_the_table(study, people, query):
    url = "/api/v1/agreement/" if query else "/api/v1/agreement.csv"
    response = _client(people["coordinator"]).get(url, {"n_boot": 20, **query})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "agreement.csv" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["label"], r["level"]) for r in rows] == [
        (label, level) for label in LABELS for level in ("slice", "scan")
    ]
    report = agreement_report(n_boot=20)
    first = report.table[0].statistics
    assert float(rows[0]["fleiss_kappa"]) == pytest.approx(first.fleiss_kappa.estimate, abs=1e-6)
    assert int(rows[0]["n_items"]) == first.n_items == 11
