"""Nodes and rollouts.

A node is created with a one-time enrolment token; enrolling exchanges it for the node token
(both shown once, stored hashed). Revoking clears the node token; a new enrolment token lets the
node enrol again. A heartbeat records the node's health and the builds it runs, and moves a
rollout on: the canary running the build, healthy, takes it to every other enrolled node; the
canary refusing the build (its checks or health check failed) rolls the rollout back, as an ML
engineer can at any time. One rollout is on its canary at a time.
"""

import re
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from annotations.dicom.link import center_link_key
from annotations.models import Center, JobStatus
from ichlabel.errors import Conflict, InvalidInput, NotAllowed
from modelops.models import (
    EdgeNode,
    ModelBuild,
    ModelStatus,
    NodeHealth,
    Rollout,
    RolloutStatus,
)
from modelops.nodes.tokens import new_token, token_hash

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
HEARTBEAT_FIELDS = {
    "status": str,
    "active_build": int,
    "previous_build": int,
    "refused_build": int,
    "queue_depth": int,
    "disk_free_bytes": int,
    "accelerator": str,
    "last_error": str,
}


def node_create(*, name: str, center: Center, created_by) -> tuple[EdgeNode, str]:
    """A new node and its one-time enrolment token."""
    if not NAME.match(name):
        raise InvalidInput("A node's name: letters, digits, '.', '_' or '-', at most 64.")
    token = new_token()
    try:
        with transaction.atomic():
            node = EdgeNode.objects.create(
                name=name,
                center=center,
                enrolment_token_hash=token_hash(token),
                created_by=created_by,
            )
    except IntegrityError:
        raise Conflict(f"A node named {name!r} exists already.") from None
    return node, token


def node_enrolment_renew(*, node: EdgeNode) -> str:
    """A new one-time enrolment token (the node's token, if any, is revoked)."""
    token = new_token()
    EdgeNode.objects.filter(pk=node.pk).update(
        enrolment_token_hash=token_hash(token), token_hash="", revoked_at=timezone.now()
    )
    return token


@transaction.atomic
def node_enrol(*, enrolment_token: str, hardware: dict) -> tuple[EdgeNode, str]:
    """The node whose enrolment token this is, enrolled now, and its node token."""
    node = (
        EdgeNode.objects.select_for_update()
        .filter(enrolment_token_hash=token_hash(enrolment_token))
        .exclude(enrolment_token_hash="")
        .first()
    )
    if node is None:
        raise NotAllowed("Unknown or used enrolment token.")
    token = new_token()
    node.enrolment_token_hash = ""
    node.token_hash = token_hash(token)
    node.enrolled_at = timezone.now()
    node.revoked_at = None
    node.hardware = {str(k)[:64]: str(v)[:256] for k, v in list(hardware.items())[:32]}
    node.save()
    return node, token


def node_link_key(node: EdgeNode) -> bytes:
    """The link key of the node's center (``annotations/dicom/link.py``)."""
    return center_link_key(settings.DEID_SECRET, node.center.name)


def node_revoke(*, node: EdgeNode) -> None:
    EdgeNode.objects.filter(pk=node.pk).update(token_hash="", revoked_at=timezone.now())


def node_by_token(token: str) -> EdgeNode | None:
    if not token:
        return None
    return EdgeNode.objects.filter(token_hash=token_hash(token), revoked_at__isnull=True).first()


def node_heartbeat(*, node: EdgeNode, report: dict) -> EdgeNode:
    """Record a heartbeat (``HEARTBEAT_FIELDS``; others are refused) and move the rollout."""
    unknown = sorted(set(report) - set(HEARTBEAT_FIELDS))
    if unknown:
        raise InvalidInput(f"Unknown heartbeat fields: {', '.join(unknown)}.")
    for key, kind in HEARTBEAT_FIELDS.items():
        value = report.get(key)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise InvalidInput(f"Heartbeat field {key!r} must be a {kind.__name__}.")
    status = report.get("status", NodeHealth.OK)
    if status not in (NodeHealth.OK, NodeHealth.DEGRADED, NodeHealth.FAILING):
        raise InvalidInput("Heartbeat status: ok, degraded or failing.")
    node.health = status
    node.active_build = report.get("active_build")
    node.previous_build = report.get("previous_build")
    node.heartbeat = {k: report[k] for k in HEARTBEAT_FIELDS if k in report}
    node.heartbeat_at = timezone.now()
    node.save(
        update_fields=[
            "health",
            "active_build",
            "previous_build",
            "heartbeat",
            "heartbeat_at",
        ]
    )
    for rollout in Rollout.objects.filter(canary=node, status=RolloutStatus.CANARY):
        rollout_advance(rollout=rollout)
    return node


def heartbeat_is_fresh(node: EdgeNode) -> bool:
    limit = timedelta(seconds=settings.NODE_HEARTBEAT_TIMEOUT_S)
    return node.heartbeat_at is not None and timezone.now() - node.heartbeat_at <= limit


def _enrolled() -> QuerySet[EdgeNode]:
    return EdgeNode.objects.filter(enrolled_at__isnull=False, revoked_at__isnull=True)


def rollout_start(*, build: ModelBuild, canary: EdgeNode, created_by) -> Rollout:
    """``build`` to ``canary`` first."""
    if build.status != JobStatus.SUCCEEDED:
        raise Conflict(f"Build {build.number} is {build.get_status_display().lower()}.")
    if build.expires_at <= timezone.now():
        raise Conflict(f"Build {build.number} has expired.")
    if build.model_version.status != ModelStatus.APPROVED:
        raise Conflict(f"Build {build.number}'s model is no longer approved.")
    if not _enrolled().filter(pk=canary.pk).exists():
        raise Conflict(f"{canary.name} is not an enrolled node.")
    with transaction.atomic():
        if Rollout.objects.select_for_update().filter(status=RolloutStatus.CANARY).exists():
            raise Conflict("Another rollout is on its canary: roll it back or let it expand.")
        rollout = Rollout.objects.create(
            build=build,
            canary=canary,
            previous={str(canary.pk): canary.desired_build_id},
            created_by=created_by,
            message=f"On the canary {canary.name}; the rest follow once it runs healthy.",
        )
        EdgeNode.objects.filter(pk=canary.pk).update(desired_build=build)
    return rollout


@transaction.atomic
def rollout_advance(*, rollout: Rollout) -> Rollout:
    """On from the canary: to every node once it runs the build healthy; back when it refused
    the build."""
    rollout = Rollout.objects.select_for_update().get(pk=rollout.pk)
    canary = EdgeNode.objects.get(pk=rollout.canary_id)
    if rollout.status != RolloutStatus.CANARY:
        return rollout
    number = rollout.build.number
    if canary.heartbeat.get("refused_build") == number:
        reason = canary.heartbeat.get("last_error") or "no reason given"
        return _roll_back(rollout, f"The canary {canary.name} refused build {number}: {reason}")
    if canary.active_build == number and canary.health == NodeHealth.OK:
        others = _enrolled().exclude(pk=canary.pk)
        rollout.previous.update({str(n.pk): n.desired_build_id for n in others})
        others.update(desired_build=rollout.build)
        rollout.status = RolloutStatus.EXPANDED
        rollout.message = (
            f"The canary {canary.name} runs build {number} healthy: sent to "
            f"{len(rollout.previous) - 1} more nodes."
        )
        rollout.finished_at = timezone.now()
        rollout.save()
    return rollout


@transaction.atomic
def rollout_rollback(*, rollout: Rollout, reason: str) -> Rollout:
    rollout = Rollout.objects.select_for_update().get(pk=rollout.pk)
    if rollout.status == RolloutStatus.ROLLED_BACK:
        raise Conflict("This rollout is rolled back already.")
    return _roll_back(rollout, reason)


def _roll_back(rollout: Rollout, reason: str) -> Rollout:
    """Every node of the rollout back to the build it was to run before."""
    for node_id, build_id in rollout.previous.items():
        EdgeNode.objects.filter(pk=int(node_id)).update(desired_build_id=build_id)
    rollout.status = RolloutStatus.ROLLED_BACK
    rollout.message = reason
    rollout.finished_at = timezone.now()
    rollout.save()
    return rollout
