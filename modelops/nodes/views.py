"""The inference nodes' page (/models/nodes/): alerts, every node's health and builds, their
predictions and latency, the rollouts; for ML engineers the forms that add a node (its
enrolment token shown once), revoke one, renew its enrolment, start a rollout and roll one
back."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone

from annotations.models import Center, JobStatus
from annotations.pages import query_number
from ichlabel.errors import DomainError
from modelops.builds.selectors import build_list
from modelops.models import ModelStatus, ModelVersion
from modelops.monitoring.selectors import monitoring_chart, monitoring_rows
from modelops.monitoring.services import STAGES
from modelops.nodes.selectors import node_alerts, node_list, rollout_list
from modelops.nodes.services import (
    heartbeat_is_fresh,
    node_create,
    node_enrolment_renew,
    node_revoke,
    rollout_rollback,
    rollout_start,
)
from modelops.pages import ModelOpsPage, render_page

MONITORING_DAYS = 30


class NodesView(ModelOpsPage):
    def get(self, request):
        nodes = list(node_list())
        monitoring = monitoring_rows(days=MONITORING_DAYS)
        for node in nodes:
            node.fresh = heartbeat_is_fresh(node)
        context = {
            "may_act": self.may_act(),
            "alerts": node_alerts(),
            "nodes": nodes,
            "enrolled": [n for n in nodes if n.enrolled_at and not n.revoked_at],
            "centers": Center.objects.order_by("name"),
            "builds": build_list()
            .filter(
                status=JobStatus.SUCCEEDED,
                expires_at__gt=timezone.now(),
                model_version__status=ModelStatus.APPROVED,
            )
            .order_by("-number")[:20],
            "rollouts": rollout_list()[:20],
            "monitoring": monitoring,
            "monitoring_chart": monitoring_chart(monitoring),
            "prospective_versions": ModelVersion.objects.filter(builds__predictions__isnull=False)
            .distinct()
            .order_by("-created_at"),
            "monitoring_days": MONITORING_DAYS,
            "stages": STAGES,
        }
        return render_page(request, "modelops/nodes.html", context)


class NodeActionView(ModelOpsPage):
    """POST of one of the page's forms; the outcome (or the reason) shown on the page."""

    def post(self, request, action: str):
        if not self.may_act():
            raise PermissionDenied("Only ML engineers manage the inference nodes.")
        try:
            messages.success(request, self._act(request, action))
        except DomainError as error:
            messages.error(request, str(error))
        return redirect("nodes-page")

    def _act(self, request, action: str) -> str:
        form = request.POST
        if action == "add":
            center = get_object_or_404(Center, pk=query_number(form.get("center")) or 0)
            node, token = node_create(
                name=form.get("name", "").strip(), center=center, created_by=request.user
            )
            return f"{node.name} added. Its one-time enrolment token (shown once): {token}"
        if action == "rollout":
            build = get_object_or_404(build_list(), number=query_number(form.get("build")) or 0)
            canary = get_object_or_404(node_list(), pk=query_number(form.get("canary")) or 0)
            rollout_start(build=build, canary=canary, created_by=request.user)
            return f"Build {build.number} goes to {canary.name} first."
        if action == "rollback":
            rollout = get_object_or_404(rollout_list(), pk=query_number(form.get("rollout")) or 0)
            rollout_rollback(rollout=rollout, reason=f"Rolled back by {request.user.username}.")
            return f"Rollout of build {rollout.build.number} rolled back."
        node = get_object_or_404(node_list(), pk=query_number(form.get("node")) or 0)
        if action == "revoke":
            node_revoke(node=node)
            return f"{node.name}'s token is revoked."
        if action == "enrolment":
            token = node_enrolment_renew(node=node)
            return f"{node.name} may enrol again with this one-time token (shown once): {token}"
        raise PermissionDenied("Unknown action.")
