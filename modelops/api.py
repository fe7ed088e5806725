"""REST API of modelops: dataset snapshots, training runs and the model registry.

ML engineers create snapshots, start and cancel runs and change a model's status; coordinators
may read everything. Errors use the project's one shape (``ichlabel.api``)."""

from dataclasses import fields

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from ichlabel.api import ApplicationError, validated
from modelops import selectors
from modelops.ml.config import TrainingConfig
from modelops.models import ModelStatus
from modelops.paths import data_path
from modelops.permissions import IsMLEngineerOrWatcher
from modelops.services.registry import model_version_set_status
from modelops.services.snapshots import snapshot_cancel, snapshot_request
from modelops.services.training import training_run_cancel, training_run_start


def _paginated(view: APIView, request, queryset, serializer_class) -> Response:
    paginator = LimitOffsetPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


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
    status = serializers.CharField()
    message = serializers.CharField()
    scans_done = serializers.IntegerField()
    scans_total = serializers.IntegerField()
    splits = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField()

    def get_splits(self, snapshot) -> dict:
        return snapshot.manifest.get("splits", {})


class SnapshotListApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    class InputSerializer(serializers.Serializer):
        ground_truth = serializers.IntegerField()
        image_size = serializers.IntegerField(min_value=32, max_value=1024, default=128)
        slice_mm = serializers.FloatField(min_value=0.5, max_value=20.0, default=5.0)
        name = serializers.CharField(max_length=100, allow_blank=True, default="")

        class Meta:
            ref_name = "SnapshotInput"

    @extend_schema(responses=SnapshotOutputSerializer(many=True))
    def get(self, request):
        return _paginated(self, request, selectors.snapshot_list(), SnapshotOutputSerializer)

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
        snapshot = selectors.snapshot_list().get(pk=snapshot_id)
        return Response(SnapshotOutputSerializer(snapshot).data)


class SnapshotCancelApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    @extend_schema(request=None, responses=SnapshotOutputSerializer)
    def post(self, request, snapshot_id: int):
        snapshot = snapshot_cancel(snapshot=selectors.snapshot_list().get(pk=snapshot_id))
        return Response(SnapshotOutputSerializer(snapshot).data)


class TrainingConfigApi(APIView):
    """The training configuration's fields with their defaults, for forms and clients."""

    permission_classes = [IsMLEngineerOrWatcher]

    class OutputSerializer(serializers.Serializer):
        defaults = serializers.JSONField()
        fields = serializers.ListField(child=serializers.CharField())
        choices = serializers.JSONField()

        class Meta:
            ref_name = "TrainingConfigOutput"

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        from modelops.ml import config as module

        return Response(
            {
                "defaults": TrainingConfig().as_dict(),
                "fields": [f.name for f in fields(TrainingConfig)],
                "choices": {
                    "backbone": list(module.BACKBONES),
                    "rnn": list(module.RNNS),
                    "mode": list(module.MODES),
                    "threshold_criterion": list(module.THRESHOLD_CRITERIA),
                },
            }
        )


class RunSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    snapshot = serializers.IntegerField(source="snapshot_id")
    snapshot_name = serializers.CharField(source="snapshot.name")
    status = serializers.CharField()
    message = serializers.CharField()
    stage = serializers.CharField()
    epoch = serializers.IntegerField()
    epochs = serializers.IntegerField()
    step = serializers.IntegerField()
    steps = serializers.IntegerField()
    progress = serializers.FloatField()
    attempts = serializers.IntegerField()
    heartbeat_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField()
    model_version = serializers.SerializerMethodField()
    model_version_name = serializers.SerializerMethodField()

    def get_model_version(self, run) -> int | None:
        version = getattr(run, "model_version", None)
        return version.pk if version else None

    def get_model_version_name(self, run) -> str | None:
        version = getattr(run, "model_version", None)
        return version.name if version else None


class RunDetailSerializer(RunSummarySerializer):
    config = serializers.JSONField()
    initial_model = serializers.IntegerField(source="initial_model_id", allow_null=True)
    initial_model_name = serializers.CharField(source="initial_model.name", default=None)
    history = serializers.JSONField()
    step_losses = serializers.JSONField()
    worker = serializers.CharField()


class TrainingRunListApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    class InputSerializer(serializers.Serializer):
        snapshot = serializers.IntegerField()
        name = serializers.CharField(max_length=100, allow_blank=True, default="")
        config = serializers.DictField(default=dict)
        initial_model = serializers.IntegerField(required=False, allow_null=True, default=None)

        class Meta:
            ref_name = "TrainingRunInput"

    @extend_schema(responses=RunSummarySerializer(many=True))
    def get(self, request):
        return _paginated(self, request, selectors.training_run_summaries(), RunSummarySerializer)

    @extend_schema(request=InputSerializer, responses={201: RunDetailSerializer})
    def post(self, request):
        """Start a training run: the configuration is validated (unknown keys and values out
        of range are refused with the field named) and the run is queued on ``train``. With
        ``initial_model`` (a model version id) the run fine-tunes that model end to end."""
        data = validated(self.InputSerializer, request.data)
        run = training_run_start(
            snapshot_id=data["snapshot"],
            config=data["config"],
            name=data["name"],
            initial_model_id=data["initial_model"],
            created_by=request.user,
        )
        run = selectors.training_run_list().get(pk=run.pk)
        return Response(RunDetailSerializer(run).data, status=status.HTTP_201_CREATED)


class TrainingRunDetailApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    @extend_schema(responses=RunDetailSerializer)
    def get(self, request, run_id):
        return Response(RunDetailSerializer(selectors.training_run_list().get(pk=run_id)).data)


class TrainingRunCancelApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    @extend_schema(request=None, responses=RunDetailSerializer)
    def post(self, request, run_id):
        run = training_run_cancel(run=selectors.training_run_list().get(pk=run_id))
        return Response(RunDetailSerializer(selectors.training_run_list().get(pk=run.pk)).data)


class TrainingRunLogApi(APIView):
    """The end of the run's log (the last 64 KiB)."""

    permission_classes = [IsMLEngineerOrWatcher]

    class OutputSerializer(serializers.Serializer):
        log = serializers.CharField()

        class Meta:
            ref_name = "TrainingRunLogOutput"

    @extend_schema(responses=OutputSerializer)
    def get(self, request, run_id):
        run = selectors.training_run_list().get(pk=run_id)
        return Response({"log": selectors.training_run_log(run)})


class ModelVersionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    run = serializers.UUIDField(source="run_id")
    run_name = serializers.CharField(source="run.name")
    snapshot = serializers.IntegerField(source="snapshot_id")
    snapshot_name = serializers.CharField(source="snapshot.name")
    ground_truth = serializers.IntegerField(source="snapshot.ground_truth_id")
    ground_truth_name = serializers.CharField(source="snapshot.ground_truth.name")
    ground_truth_sha256 = serializers.CharField(source="snapshot.ground_truth.content_sha256")
    artifact_sha256 = serializers.CharField()
    artifact_bytes = serializers.IntegerField()
    config = serializers.JSONField()
    metrics = serializers.JSONField()
    status = serializers.CharField()
    status_changed_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()


class ModelVersionDetailSerializer(ModelVersionSerializer):
    evaluation = serializers.JSONField()


class ModelVersionListApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    @extend_schema(responses=ModelVersionSerializer(many=True))
    def get(self, request):
        return _paginated(
            self, request, selectors.model_version_summaries(), ModelVersionSerializer
        )


class ModelVersionDetailApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    @extend_schema(responses=ModelVersionDetailSerializer)
    def get(self, request, version_id: int):
        version = selectors.model_version_list().get(pk=version_id)
        return Response(ModelVersionDetailSerializer(version).data)


class ModelVersionStatusApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=ModelStatus.choices)

        class Meta:
            ref_name = "ModelVersionStatusInput"

    @extend_schema(request=InputSerializer, responses=ModelVersionSerializer)
    def post(self, request, version_id: int):
        data = validated(self.InputSerializer, request.data)
        version = model_version_set_status(
            version=selectors.model_version_list().get(pk=version_id),
            status=data["status"],
            user=request.user,
        )
        return Response(ModelVersionSerializer(version).data)


class ModelVersionArtifactApi(APIView):
    """The model file (.keras); its sha256 is in the version's ``artifact_sha256``."""

    permission_classes = [IsMLEngineerOrWatcher]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, version_id: int):
        version = selectors.model_version_list().get(pk=version_id)
        path = data_path(version.artifact)
        if not path.is_file():
            raise ApplicationError(
                f"The artifact of {version.name} is missing from storage.", status=404
            )
        return FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=f"{version.name}.keras",
            content_type="application/octet-stream",
        )
