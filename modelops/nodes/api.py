"""Inference nodes over the API.

The node's own endpoints (``node/...``): enrol with the one-time token, heartbeat (answered with
the build it should run), and that build's files; they take only a node token and give only the
calling node's data. The ML engineer's endpoints (coordinators watch): nodes, enrolment tokens,
revocation, rollouts and rollback.
"""

import re

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.models import Center
from ichlabel.api import validated
from ichlabel.errors import InvalidInput, NotAllowed, NotFound
from ichlabel.pagination import paginated
from ichlabel.throttling import token_check_not_locked, token_failure
from modelops.builds.api import BUILD_FILES
from modelops.builds.selectors import build_dir, build_list
from modelops.models import EdgeNode, NodeHealth, RolloutStatus
from modelops.monitoring.services import prediction_record
from modelops.nodes.authentication import NodeTokenAuthentication
from modelops.nodes.selectors import node_build, node_list, rollout_list
from modelops.nodes.series import node_series_import
from modelops.nodes.services import (
    heartbeat_is_fresh,
    node_create,
    node_enrol,
    node_enrolment_renew,
    node_heartbeat,
    node_link_key,
    node_revoke,
    rollout_rollback,
    rollout_start,
)
from modelops.permissions import IsMLEngineerOrWatcher

ID = {"min_value": 1, "max_value": 2**31 - 1}
LINK = re.compile(r"^[0-9a-f]{40}$")


class IsNode(BasePermission):
    message = "Only an enrolled node's token reaches this."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, EdgeNode)


class NodeView(APIView):
    authentication_classes = [NodeTokenAuthentication]
    permission_classes = [IsNode]


# --- the node's endpoints -------------------------------------------------------------------


class NodeEnrolApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        enrolment_token = serializers.CharField(max_length=128)
        hardware = serializers.DictField(required=False, default=dict)

        class Meta:
            ref_name = "NodeEnrolInput"

    class OutputSerializer(serializers.Serializer):
        node = serializers.CharField()
        center = serializers.CharField()
        token = serializers.CharField(help_text="The node token: shown this once")
        link_key = serializers.CharField(
            help_text="Hex key of the node's center: the node keys its results by it, the "
            "import keys that center's scans, so a prediction finds its scan"
        )

        class Meta:
            ref_name = "NodeEnrolOutput"

    @extend_schema(request=InputSerializer, responses=OutputSerializer, auth=[])
    def post(self, request):
        token_check_not_locked(request)
        data = validated(self.InputSerializer, request.data)
        try:
            node, token = node_enrol(
                enrolment_token=data["enrolment_token"], hardware=data["hardware"]
            )
        except NotAllowed:
            token_failure(request)  # an unknown enrolment token: a guess, counted
            raise
        return Response(
            {
                "node": node.name,
                "center": node.center.name,
                "token": token,
                "link_key": node_link_key(node).hex(),
            }
        )


class DesiredBuildSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    files = serializers.DictField(child=serializers.CharField())


class NodeHeartbeatApi(NodeView):
    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(
            choices=[NodeHealth.OK, NodeHealth.DEGRADED, NodeHealth.FAILING], default="ok"
        )
        active_build = serializers.IntegerField(**ID, required=False, allow_null=True)
        previous_build = serializers.IntegerField(**ID, required=False, allow_null=True)
        refused_build = serializers.IntegerField(**ID, required=False, allow_null=True)
        queue_depth = serializers.IntegerField(min_value=0, max_value=10**6, required=False)
        disk_free_bytes = serializers.IntegerField(min_value=0, max_value=2**62, required=False)
        accelerator = serializers.CharField(max_length=200, required=False, allow_blank=True)
        last_error = serializers.CharField(max_length=2000, required=False, allow_blank=True)

        class Meta:
            ref_name = "NodeHeartbeatInput"

    class OutputSerializer(serializers.Serializer):
        desired_build = DesiredBuildSerializer(allow_null=True)

        class Meta:
            ref_name = "NodeHeartbeatOutput"

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request):
        """The node's state; the answer names the build it should run (null: none yet)."""
        report = validated(self.InputSerializer, request.data)
        report = {k: v for k, v in report.items() if v is not None}
        node = node_heartbeat(node=request.auth, report=report)
        build = node.desired_build
        desired = None
        if build is not None:
            desired = {
                "number": build.number,
                "files": {
                    name: reverse("node-build-file", kwargs={"number": build.number, "name": name})
                    for name in BUILD_FILES
                },
            }
        return Response({"desired_build": desired})


class NodeBuildFileApi(NodeView):
    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request, number: int, name: str):
        """A file of the build the node should run or runs; no other build exists for it."""
        build = node_build(request.auth, number)
        path = build_dir(number) / name
        if build is None or name not in BUILD_FILES or not path.is_file():
            raise NotFound(f"No file {name!r} of build {number} for this node.")
        return FileResponse(open(path, "rb"), as_attachment=True, filename=name)  # noqa: SIM115


class NodePredictionApi(NodeView):
    class InputSerializer(serializers.Serializer):
        key = serializers.RegexField(r"^[A-Za-z0-9._:-]{1,64}$", help_text="Idempotency key")
        series = serializers.RegexField(
            LINK.pattern, help_text="The series' link under the center's link key"
        )
        build = serializers.IntegerField(**ID)
        scored_at = serializers.DateTimeField()
        scores = serializers.DictField(
            child=serializers.FloatField(min_value=0, max_value=1), required=False
        )
        decision = serializers.DictField(child=serializers.BooleanField(), required=False)
        slice_scores = serializers.ListField(
            child=serializers.ListField(
                child=serializers.FloatField(min_value=0, max_value=1), max_length=16
            ),
            max_length=4000,
            required=False,
        )
        thresholds = serializers.DictField(
            child=serializers.FloatField(allow_null=True), required=False
        )
        timings_ms = serializers.DictField(
            child=serializers.FloatField(min_value=0, max_value=86_400_000), required=False
        )
        error = serializers.CharField(max_length=2000, required=False, allow_blank=True)

        class Meta:
            ref_name = "NodePredictionInput"

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        key = serializers.CharField()

        class Meta:
            ref_name = "NodePredictionOutput"

    @extend_schema(
        request=InputSerializer, responses={201: OutputSerializer, 200: OutputSerializer}
    )
    def post(self, request):
        """A series' result: 201 recorded now, 200 when this key was recorded before (sent again
        after a lost answer: the first report stands)."""
        report = validated(self.InputSerializer, request.data)
        prediction, created = prediction_record(node=request.auth, report=report)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response({"id": prediction.pk, "key": prediction.key}, status=code)


class NodeSeriesApi(NodeView):
    class OutputSerializer(serializers.Serializer):
        batch = serializers.UUIDField(allow_null=True, help_text="The import batch")
        files = serializers.IntegerField()

        class Meta:
            ref_name = "NodeSeriesOutput"

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "series": {"type": "string", "pattern": "^[0-9a-f]{40}$"},
                    "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                },
                "required": ["series", "files"],
            }
        },
        responses={201: OutputSerializer, 200: OutputSerializer},
    )
    def post(self, request):
        """A scored series for import into the node's center (``files``: its DICOM files;
        ``series``: its link). 201 queued now; 200 sent before (the first stands)."""
        link = str(request.data.get("series", ""))
        if not LINK.fullmatch(link):
            raise InvalidInput("series must be the series' link: 40 hex digits.")
        uploads = request.FILES.getlist("files")
        files = [(f"{index:05d}.dcm", upload) for index, upload in enumerate(uploads)]
        upload, created = node_series_import(node=request.auth, link=link, files=files)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response({"batch": upload.batch_id, "files": upload.files}, status=code)


# --- the ML engineer's endpoints --------------------------------------------------------------


class NodeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    center = serializers.CharField(source="center.name")
    health = serializers.ChoiceField(choices=NodeHealth.choices)
    heartbeat_fresh = serializers.SerializerMethodField()
    heartbeat = serializers.JSONField()
    heartbeat_at = serializers.DateTimeField(allow_null=True)
    enrolled_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    hardware = serializers.JSONField()
    desired_build = serializers.IntegerField(source="desired_build.number", allow_null=True)
    active_build = serializers.IntegerField(allow_null=True)
    previous_build = serializers.IntegerField(allow_null=True)

    def get_heartbeat_fresh(self, node) -> bool:
        return heartbeat_is_fresh(node)


class NodeListApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]
    pagination_class = LimitOffsetPagination

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=64)
        center = serializers.IntegerField(**ID)

        class Meta:
            ref_name = "NodeInput"

    class CreatedSerializer(NodeOutputSerializer):
        enrolment_token = serializers.CharField(help_text="One-time: shown this once")

    @extend_schema(responses=NodeOutputSerializer(many=True))
    def get(self, request):
        return paginated(self, request, node_list(), NodeOutputSerializer)

    @extend_schema(request=InputSerializer, responses={201: CreatedSerializer})
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        center = Center.objects.filter(pk=data["center"]).first()
        if center is None:
            raise NotFound("That center does not exist.")
        node, token = node_create(name=data["name"], center=center, created_by=request.user)
        body = {**NodeOutputSerializer(node).data, "enrolment_token": token}
        return Response(body, status=status.HTTP_201_CREATED)


class NodeRevokeApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    @extend_schema(request=None, responses=NodeOutputSerializer)
    def post(self, request, node_id: int):
        """The node's token stops working at once."""
        node = node_list().get(pk=node_id)
        node_revoke(node=node)
        return Response(NodeOutputSerializer(node_list().get(pk=node_id)).data)


class EnrolmentTokenSerializer(serializers.Serializer):
    enrolment_token = serializers.CharField()


class NodeEnrolmentApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    @extend_schema(request=None, responses=EnrolmentTokenSerializer)
    def post(self, request, node_id: int):
        """A new one-time enrolment token; the node's current token is revoked."""
        token = node_enrolment_renew(node=node_list().get(pk=node_id))
        return Response({"enrolment_token": token})


class RolloutOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    build = serializers.IntegerField(source="build.number")
    model_version = serializers.CharField(source="build.model_version.name")
    canary = serializers.CharField(source="canary.name")
    status = serializers.ChoiceField(choices=RolloutStatus.choices)
    message = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class RolloutListApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]
    pagination_class = LimitOffsetPagination

    class InputSerializer(serializers.Serializer):
        build = serializers.IntegerField(**ID, help_text="The build's number")
        canary = serializers.IntegerField(**ID, help_text="The canary node's id")

        class Meta:
            ref_name = "RolloutInput"

    @extend_schema(responses=RolloutOutputSerializer(many=True))
    def get(self, request):
        return paginated(self, request, rollout_list(), RolloutOutputSerializer)

    @extend_schema(request=InputSerializer, responses={201: RolloutOutputSerializer})
    def post(self, request):
        """The build to the canary node, then to the rest once the canary runs it healthy."""
        data = validated(self.InputSerializer, request.data)
        build = build_list().filter(number=data["build"]).first()
        canary = EdgeNode.objects.filter(pk=data["canary"]).first()
        if build is None or canary is None:
            raise NotFound("No such build or node.")
        rollout = rollout_start(build=build, canary=canary, created_by=request.user)
        return Response(RolloutOutputSerializer(rollout).data, status=status.HTTP_201_CREATED)


class RolloutRollbackApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=500, required=False, allow_blank=True)

        class Meta:
            ref_name = "RollbackInput"

    @extend_schema(request=InputSerializer, responses=RolloutOutputSerializer)
    def post(self, request, rollout_id: int):
        """Every node of the rollout back to the build it ran before."""
        data = validated(self.InputSerializer, request.data)
        reason = data.get("reason") or f"Rolled back by {request.user.username}."
        rollout = rollout_rollback(rollout=rollout_list().get(pk=rollout_id), reason=reason)
        return Response(RolloutOutputSerializer(rollout).data)
