"""A node's results: recorded once per idempotency key (a result sent again after a lost answer
is not counted twice), checked at the edge, and shown per node with the latency of each stage,
the failures with their reasons, and as CSV."""

import csv
import hashlib
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from annotations.models import Center
from modelops.models import EdgeNode, ModelBuild, Prediction
from modelops.nodes.tokens import token_hash
from tests.modelops.registry_factories import seed_registry

pytestmark = pytest.mark.django_db

URL = "/api/v1/modelops/node/predictions/"
CLASSES = ("any", "iph", "ivh", "sah", "sdh", "edh")


@pytest.fixture
def world():
    registry = seed_registry()
    build = ModelBuild.objects.create(
        model_version=registry["models"][0],
        number=3,
        expires_at=timezone.now() + timedelta(days=9),
        created_by=registry["engineer"],
        status="succeeded",
    )
    center = Center.objects.create(name="Center P", split="test")
    nodes = {}
    for name in ("jetson-1", "jetson-2"):
        nodes[name] = EdgeNode.objects.create(
            name=name,
            center=center,
            created_by=registry["engineer"],
            enrolled_at=timezone.now(),
            token_hash=token_hash(f"token-{name}"),
        )
    return {**registry, "build": build, "nodes": nodes}


def _node(name: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Node token-{name}")
    return client


def _link(key: str) -> str:
    return hashlib.sha1(key.encode()).hexdigest()  # 40 hex digits, as a series' link is


def _report(key: str, total_ms: float, positive: bool = False, **extra) -> dict:
    return {
        "key": key,
        "series": _link(key),
        "build": 3,
        "scored_at": timezone.now().isoformat(),
        "scores": {c: (0.9 if positive else 0.1) for c in CLASSES},
        "decision": {c: positive for c in CLASSES},
        "slice_scores": [[0.1] * 6, [0.2] * 6],
        "thresholds": {c: 0.5 for c in CLASSES},
        "timings_ms": {"transfer": 1500, "inference": 800, "total": total_ms},
        **extra,
    }


def test_a_result_is_recorded_once_per_key(world):
    first = _node("jetson-1").post(URL, _report("s1", 9000, positive=True), format="json")
    again = _node("jetson-1").post(URL, _report("s1", 1, positive=False), format="json")
    other = _node("jetson-2").post(URL, _report("s1", 7000), format="json")

    assert first.status_code == 201 and again.status_code == 200, again.json()
    assert again.json()["id"] == first.json()["id"]  # the first report stands
    assert other.status_code == 201  # keys are the node's own
    prediction = Prediction.objects.get(pk=first.json()["id"])
    assert prediction.decision["any"] and prediction.timings_ms["total"] == 9000
    assert Prediction.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"scores": {"any": 0.5}}, "every class"),
        ({"scores": {**{c: 0.1 for c in CLASSES}, "xyz": 0.2}}, "Unknown class"),
        ({"scores": {**{c: 0.1 for c in CLASSES}, "any": 1.5}}, "less than or equal"),
        ({"timings_ms": {"coffee": 3}}, "Unknown stages"),
        ({"key": "../../x"}, "key"),
        ({"series": "1.2.840.113619.2.55"}, "series"),  # a UID, not a link
        ({"build": 99}, "No build 99"),
    ],
)
def test_a_bad_result_is_refused_with_its_reason_and_records_nothing(world, change, reason):
    response = _node("jetson-1").post(URL, {**_report("s9", 100), **change}, format="json")
    assert response.status_code in (400, 404) and reason in str(response.json())
    assert not Prediction.objects.exists()


def test_the_nodes_page_shows_latency_failures_and_the_csv(client, world):
    for index, total in enumerate((8000, 10000, 12000, 30000)):
        _node("jetson-1").post(URL, _report(f"a{index}", total), format="json")
    _node("jetson-2").post(URL, _report("b0", 5000, positive=True), format="json")
    failed = {"key": "b1", "series": _link("b1"), "build": 3}
    failed["scored_at"] = timezone.now().isoformat()
    failed["error"] = "series has 2 slices: too few to score"
    assert _node("jetson-2").post(URL, failed, format="json").status_code == 201
    client.force_login(world["engineer"])

    page = client.get("/models/nodes/").content.decode()

    assert 'data-monitoring="jetson-1"' in page and 'data-monitoring="All nodes"' in page
    row = page.split('data-monitoring="jetson-1"')[1].split("</tr>")[0]
    assert '<td class="num">4</td>' in row and "11.0 / 27.3 / 30.0" in row  # total, seconds
    assert "series has 2 slices: too few to score" in page
    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/modelops/predictions.csv").text)))
    assert len(rows) == 6 and {r["node"] for r in rows} == {"jetson-1", "jetson-2"}
    assert [r["error"] for r in rows if r["key"] == "b1"] == [
        "series has 2 slices: too few to score"
    ]
