"""Training runs: the configuration's fields, start, list, detail, cancel, log."""

from dataclasses import fields

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.models import JobStatus
from ichlabel.api import validated
from ichlabel.pagination import paginated
from modelops.ml.config import TrainingConfig
from modelops.permissions import IsMLEngineerOrWatcher
from modelops.training.selectors import training_run_list, training_run_log, training_run_summaries
from modelops.training.services import training_run_cancel, training_run_start


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
    status = serializers.ChoiceField(choices=JobStatus.choices)
    message = serializers.CharField()
    stage = serializers.CharField()
    epoch = serializers.IntegerField()
    epochs = serializers.IntegerField()
    step = serializers.IntegerField()
    steps = serializers.IntegerField()
    progress = serializers.FloatField()
    attempts = serializers.IntegerField()
    heartbeat_at = serializers.DateTimeField(allow_null=True)
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
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
    initial_model_name = serializers.CharField(
        source="initial_model.name", default=None, allow_null=True, read_only=True
    )
    history = serializers.JSONField()
    step_losses = serializers.JSONField()
    worker = serializers.CharField()


class TrainingRunListApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]
    # Declared for the schema (a paginated answer); get() pages the list itself.
    pagination_class = LimitOffsetPagination

    class InputSerializer(serializers.Serializer):
        snapshot = serializers.IntegerField()
        name = serializers.CharField(max_length=100, allow_blank=True, default="")
        config = serializers.DictField(default=dict)
        initial_model = serializers.IntegerField(required=False, allow_null=True, default=None)

        class Meta:
            ref_name = "TrainingRunInput"

    @extend_schema(responses=RunSummarySerializer(many=True))
    def get(self, request):
        return paginated(self, request, training_run_summaries(), RunSummarySerializer)

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
        run = training_run_list().get(pk=run.pk)
        return Response(RunDetailSerializer(run).data, status=status.HTTP_201_CREATED)


class TrainingRunDetailApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    @extend_schema(responses=RunDetailSerializer)
    def get(self, request, run_id):
        return Response(RunDetailSerializer(training_run_list().get(pk=run_id)).data)


class TrainingRunCancelApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    @extend_schema(request=None, responses=RunDetailSerializer)
    def post(self, request, run_id):
        run = training_run_cancel(run=training_run_list().get(pk=run_id))
        return Response(RunDetailSerializer(training_run_list().get(pk=run.pk)).data)


class TrainingRunLogApi(APIView):
    """The end of the run's log (the last 64 KiB)."""

    permission_classes = [IsMLEngineerOrWatcher]

    class OutputSerializer(serializers.Serializer):
        log = serializers.CharField()

        class Meta:
            ref_name = "TrainingRunLogOutput"

    @extend_schema(responses=OutputSerializer)
    def get(self, request, run_id):
        run = training_run_list().get(pk=run_id)
        return Response({"log": training_run_log(run)})
