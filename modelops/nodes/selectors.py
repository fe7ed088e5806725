"""What the nodes page, the alerts and the node API read."""

from dataclasses import dataclass

from django.db.models import QuerySet

from modelops.models import EdgeNode, ModelBuild, NodeHealth, Rollout
from modelops.nodes.services import heartbeat_is_fresh


def node_list() -> QuerySet[EdgeNode]:
    return EdgeNode.objects.select_related("center", "desired_build").order_by("name")


def rollout_list() -> QuerySet[Rollout]:
    return Rollout.objects.select_related("build__model_version", "canary", "created_by")


@dataclass(frozen=True)
class NodeAlert:
    node: str
    center: str
    text: str


def node_alerts() -> list[NodeAlert]:
    """Enrolled nodes that stopped heart-beating, or report that they fail."""
    alerts = []
    for node in node_list().filter(enrolled_at__isnull=False, revoked_at__isnull=True):
        if not heartbeat_is_fresh(node):
            since = node.heartbeat_at.strftime("%Y-%m-%d %H:%M UTC") if node.heartbeat_at else None
            text = f"no heartbeat since {since}" if since else "no heartbeat since it enrolled"
        elif node.health == NodeHealth.FAILING:
            text = f"failing: {node.heartbeat.get('last_error') or 'no reason given'}"
        else:
            continue
        alerts.append(NodeAlert(node=node.name, center=node.center.name, text=text))
    return alerts


def node_build(node: EdgeNode, number: int) -> ModelBuild | None:
    """A build the node may download: the one it should run, or the one it runs."""
    allowed = {node.desired_build.number if node.desired_build else None, node.active_build}
    if number not in allowed:
        return None
    return ModelBuild.objects.filter(number=number).first()
