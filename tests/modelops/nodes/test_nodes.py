"""Inference nodes through the API: enrolment with a one-time token for a node token, heartbeats,
a node's token reaching only the node's own endpoints and builds, rollouts to a canary and then
to the rest, rollback by hand or when the canary refuses the build, and the alerts of nodes that
fall silent or fail."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from annotations.models import Center
from modelops.builds.selectors import build_dir
from modelops.models import EdgeNode, ModelBuild, ModelStatus, Rollout
from modelops.nodes.selectors import node_alerts
from tests.modelops.registry_factories import seed_registry

pytestmark = pytest.mark.django_db

API = "/api/v1/modelops"


@pytest.fixture
def world():
    registry = seed_registry()
    model = registry["models"][0]
    model.status = ModelStatus.APPROVED
    model.save()
    builds = []
    for number in (1, 2):
        builds.append(
            ModelBuild.objects.create(
                model_version=model,
                number=number,
                expires_at=timezone.now() + timedelta(days=30),
                created_by=registry["engineer"],
                status="succeeded",
            )
        )
        build_dir(number).mkdir(parents=True, exist_ok=True)
        (build_dir(number) / "manifest.json").write_text(f'{{"build": {number}}}')
    center = Center.objects.create(name="Center P", split="test")
    return {**registry, "builds": builds, "center": center}


def _engineer(world) -> APIClient:
    client = APIClient()
    client.force_authenticate(world["engineer"])
    return client


def _node_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Node {token}")
    return client


def _enrolled(world, name: str) -> tuple[EdgeNode, APIClient]:
    created = _engineer(world).post(
        f"{API}/nodes/", {"name": name, "center": world["center"].pk}, format="json"
    )
    assert created.status_code == 201, created.json()
    enrolled = APIClient().post(
        f"{API}/node/enrol/",
        {"enrolment_token": created.json()["enrolment_token"], "hardware": {"gpu": "Orin"}},
        format="json",
    )
    assert enrolled.status_code == 200, enrolled.json()
    return EdgeNode.objects.get(name=name), _node_client(enrolled.json()["token"])


def _beat(client: APIClient, **report):
    response = client.post(f"{API}/node/heartbeat/", report, format="json")
    assert response.status_code == 200, response.json()
    return response.json()["desired_build"]


def test_a_node_enrols_once_and_its_token_can_be_revoked(world):
    created = _engineer(world).post(
        f"{API}/nodes/", {"name": "jetson-1", "center": world["center"].pk}, format="json"
    )
    token = created.json()["enrolment_token"]
    node = EdgeNode.objects.get(name="jetson-1")
    assert token not in str(EdgeNode.objects.values().get(pk=node.pk))  # stored hashed only

    first = APIClient().post(f"{API}/node/enrol/", {"enrolment_token": token}, format="json")
    again = APIClient().post(f"{API}/node/enrol/", {"enrolment_token": token}, format="json")

    assert first.status_code == 200 and again.status_code == 403
    node_token = first.json()["token"]
    assert node_token not in str(EdgeNode.objects.values().get(pk=node.pk))
    assert _beat(_node_client(node_token), status="ok", queue_depth=0) is None
    node.refresh_from_db()
    assert node.health == "ok" and node.heartbeat == {"status": "ok", "queue_depth": 0}

    revoked = _engineer(world).post(f"{API}/nodes/{node.pk}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    refused = _node_client(node_token).post(f"{API}/node/heartbeat/", {}, format="json")
    assert refused.status_code == 401
    renewed = _engineer(world).post(f"{API}/nodes/{node.pk}/enrolment/").json()
    assert (
        APIClient()
        .post(f"{API}/node/enrol/", {"enrolment_token": renewed["enrolment_token"]}, format="json")
        .status_code
        == 200
    )


def test_a_node_token_reaches_only_the_nodes_own_endpoints_and_builds(world):
    node, client = _enrolled(world, "jetson-1")
    for url in (
        "/api/v1/scans/",
        f"{API}/nodes/",
        f"{API}/builds/",
        f"{API}/models/",
        f"{API}/predictions.csv",
        f"{API}/monitoring.csv",
        "/api/v1/worklist/",
    ):
        assert client.get(url).status_code in (401, 403), url
    # A user's session does not reach the node's endpoints.
    assert _engineer(world).post(f"{API}/node/heartbeat/", {}, format="json").status_code == 403
    # Only the build the node should run (or runs) exists for it.
    assert client.get(f"{API}/node/builds/1/files/manifest.json").status_code == 404
    node.desired_build = world["builds"][0]
    node.save()
    assert client.get(f"{API}/node/builds/1/files/manifest.json").status_code == 200
    assert client.get(f"{API}/node/builds/2/files/manifest.json").status_code == 404
    assert client.get(f"{API}/node/builds/1/files/..%2Fsecret").status_code == 404
    bad = client.post(f"{API}/node/heartbeat/", {"status": "ok", "rm": 1}, format="json")
    assert bad.status_code == 400 and bad.json()["extra"]["fields"] == {"rm": ["Unknown field."]}


def test_a_rollout_goes_to_the_canary_then_to_the_rest_and_back(world):
    canary, canary_client = _enrolled(world, "jetson-1")
    _, other_client = _enrolled(world, "jetson-2")
    first, second = world["builds"]
    engineer = _engineer(world)

    started = engineer.post(
        f"{API}/rollouts/", {"build": first.number, "canary": canary.pk}, format="json"
    )
    assert started.status_code == 201, started.json()
    assert _beat(canary_client, status="ok")["number"] == 1
    assert _beat(other_client, status="ok") is None  # not before the canary runs it healthy
    busy = engineer.post(f"{API}/rollouts/", {"build": 2, "canary": canary.pk}, format="json")
    assert busy.status_code == 409

    _beat(canary_client, status="ok", active_build=1)
    assert _beat(other_client, status="ok")["number"] == 1
    assert Rollout.objects.get().status == "expanded"

    # The second build: the canary refuses it (its health check failed): back to build 1.
    engineer.post(f"{API}/rollouts/", {"build": 2, "canary": canary.pk}, format="json")
    assert _beat(canary_client, status="ok", active_build=1)["number"] == 2
    _beat(
        canary_client,
        status="degraded",
        active_build=1,
        refused_build=2,
        last_error="health check: scan scores differ by 0.4",
    )
    rollout = Rollout.objects.get(build=second)
    assert rollout.status == "rolled_back" and "differ by 0.4" in rollout.message
    assert _beat(canary_client, status="ok", active_build=1)["number"] == 1

    # A rollout expanded by hand is rolled back by hand: every node to what it ran before.
    third = engineer.post(f"{API}/rollouts/", {"build": 2, "canary": canary.pk}, format="json")
    _beat(canary_client, status="ok", active_build=2, previous_build=1)
    assert _beat(other_client, status="ok", active_build=1)["number"] == 2
    back = engineer.post(
        f"{API}/rollouts/{third.json()['id']}/rollback/", {"reason": "drift"}, format="json"
    )
    assert back.status_code == 200 and back.json()["status"] == "rolled_back"
    assert _beat(canary_client, status="ok", active_build=2)["number"] == 1
    assert _beat(other_client, status="ok", active_build=2)["number"] == 1


def test_rollouts_refuse_expired_builds_and_nodes_not_enrolled(world):
    engineer = _engineer(world)
    node = EdgeNode.objects.create(name="new", center=world["center"], created_by=world["engineer"])
    refused = engineer.post(f"{API}/rollouts/", {"build": 1, "canary": node.pk}, format="json")
    assert refused.status_code == 409 and "not an enrolled node" in refused.json()["message"]
    canary, _ = _enrolled(world, "jetson-1")
    ModelBuild.objects.filter(number=1).update(expires_at=timezone.now())
    expired = engineer.post(f"{API}/rollouts/", {"build": 1, "canary": canary.pk}, format="json")
    assert expired.status_code == 409 and "expired" in expired.json()["message"]


def test_silent_and_failing_nodes_raise_alerts(world, settings):
    quiet, _ = _enrolled(world, "jetson-1")
    failing, failing_client = _enrolled(world, "jetson-2")
    healthy, healthy_client = _enrolled(world, "jetson-3")
    _beat(failing_client, status="failing", last_error="PACS unreachable")
    _beat(healthy_client, status="ok")

    alerts = {alert.node: alert.text for alert in node_alerts()}

    assert alerts == {
        "jetson-1": "no heartbeat since it enrolled",
        "jetson-2": "failing: PACS unreachable",
    }
    EdgeNode.objects.filter(pk=healthy.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.NODE_HEARTBEAT_TIMEOUT_S + 1)
    )
    assert "no heartbeat since" in {a.node: a.text for a in node_alerts()}["jetson-3"]


def test_the_nodes_page_adds_a_node_shows_its_token_once_and_rolls_out(client, world):
    client.force_login(world["engineer"])
    client.post("/models/nodes/add/", {"name": "jetson-9", "center": world["center"].pk})
    page = client.get("/models/nodes/").content.decode()
    assert "one-time enrolment token (shown once)" in page and 'data-node="jetson-9"' in page
    assert "one-time enrolment token" not in client.get("/models/nodes/").content.decode()
    node, _ = _enrolled(world, "jetson-1")

    client.post("/models/nodes/rollout/", {"build": "1", "canary": str(node.pk)})

    page = client.get("/models/nodes/").content.decode()
    assert "Build 1 goes to jetson-1 first." in page and "On the canary" in page
    assert 'id="node-alerts"' in page and "no heartbeat since it enrolled" in page
    assert "1 node needs attention" in client.get("/models/").content.decode()
    rollout = Rollout.objects.get()
    client.post("/models/nodes/rollback/", {"rollout": str(rollout.pk)})
    assert Rollout.objects.get().status == "rolled_back"
    client.post("/models/nodes/revoke/", {"node": str(node.pk)})
    assert EdgeNode.objects.get(pk=node.pk).revoked_at is not None


def test_coordinators_watch_the_nodes_and_may_not_act(client, world):
    node, _ = _enrolled(world, "jetson-1")
    client.force_login(world["coordinator"])
    page = client.get("/models/nodes/").content.decode()
    assert 'data-node="jetson-1"' in page and 'id="node-form"' not in page
    assert client.post("/models/nodes/revoke/", {"node": str(node.pk)}).status_code == 403
    assert EdgeNode.objects.get(pk=node.pk).revoked_at is None
