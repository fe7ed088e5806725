"""Dataset snapshots: list and request, detail, cancel."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.models import JobStatus
from ichlabel.api import validated
from ichlabel.pagination import paginated
from modelops.permissions import IsMLEngineerOrWatcher
from modelops.snapshots.selectors import snapshot_list
from modelops.snapshots.services import snapshot_cancel, snapshot_request


class SnapshotOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    ground_truth = serializers.IntegerField(source="ground_truth_id")
    ground_truth_name = serializers.CharField(source="ground_truth.name")
    image_size = serializers.IntegerField()
    slice_mm = serializers.FloatField()
    windows = serializers.JSONField()
    key_sha256 = serializers.CharField()
    files_sha256 = serializers.CharField()
    size_bytes = serializers.IntegerField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    message = serializers.CharField()
    scans_done = serializers.IntegerField()
    scans_total = serializers.IntegerField()
    splits = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_splits(self, snapshot) -> dict:
        return snapshot.manifest.get("splits", {})


class SnapshotListApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]
    # Declared for the schema (a paginated answer); get() pages the list itself.
    pagination_class = LimitOffsetPagination

    class InputSerializer(serializers.Serializer):
        ground_truth = serializers.IntegerField()
        image_size = serializers.IntegerField(min_value=32, max_value=1024, default=128)
        slice_mm = serializers.FloatField(min_value=0.5, max_value=20.0, default=5.0)
        name = serializers.CharField(max_length=100, allow_blank=True, default="")

        class Meta:
            ref_name = "SnapshotInput"

    @extend_schema(responses=SnapshotOutputSerializer(many=True))
    def get(self, request):
        return paginated(self, request, snapshot_list(), SnapshotOutputSerializer)

    @extend_schema(
        request=InputSerializer,
        responses={201: SnapshotOutputSerializer, 200: SnapshotOutputSerializer},
    )
    def post(self, request):
        """The snapshot of a frozen ground-truth version: 200 with the one that exists for the
        same version and preprocessing, or 201 with a new one whose build is queued."""
        data = validated(self.InputSerializer, request.data)
        snapshot, created = snapshot_request(
            ground_truth_id=data["ground_truth"],
            image_size=data["image_size"],
            slice_mm=data["slice_mm"],
            name=data["name"],
            created_by=request.user,
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(SnapshotOutputSerializer(snapshot).data, status=code)


class SnapshotDetailApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    @extend_schema(responses=SnapshotOutputSerializer)
    def get(self, request, snapshot_id: int):
        snapshot = snapshot_list().get(pk=snapshot_id)
        return Response(SnapshotOutputSerializer(snapshot).data)


class SnapshotCancelApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    @extend_schema(request=None, responses=SnapshotOutputSerializer)
    def post(self, request, snapshot_id: int):
        snapshot = snapshot_cancel(snapshot=snapshot_list().get(pk=snapshot_id))
        return Response(SnapshotOutputSerializer(snapshot).data)
