"""Model versions: list, detail with evaluation, status, the artifact."""

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from ichlabel.api import validated
from ichlabel.errors import NotFound
from ichlabel.pagination import paginated
from modelops.models import ModelStatus
from modelops.paths import data_path
from modelops.permissions import IsMLEngineerOrWatcher
from modelops.registry.selectors import model_version_list, model_version_summaries
from modelops.registry.services import model_version_set_status


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
    status = serializers.ChoiceField(choices=ModelStatus.choices)
    status_changed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class ModelVersionDetailSerializer(ModelVersionSerializer):
    evaluation = serializers.JSONField()


class ModelVersionListApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]
    # Declared for the schema (a paginated answer); get() pages the list itself.
    pagination_class = LimitOffsetPagination

    @extend_schema(responses=ModelVersionSerializer(many=True))
    def get(self, request):
        return paginated(self, request, model_version_summaries(), ModelVersionSerializer)


class ModelVersionDetailApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    @extend_schema(responses=ModelVersionDetailSerializer)
    def get(self, request, version_id: int):
        version = model_version_list().get(pk=version_id)
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
            version=model_version_list().get(pk=version_id),
            status=data["status"],
            user=request.user,
        )
        return Response(ModelVersionSerializer(version).data)


class ModelVersionArtifactApi(APIView):
    """The model file (.keras); its sha256 is in the version's ``artifact_sha256``."""

    permission_classes = [IsMLEngineerOrWatcher]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, version_id: int):
        version = model_version_list().get(pk=version_id)
        path = data_path(version.artifact)
        if not path.is_file():
            raise NotFound(
                f"The artifact of {version.name} is missing from storage.",
            )
        return FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=f"{version.name}.keras",
            content_type="application/octet-stream",
        )
