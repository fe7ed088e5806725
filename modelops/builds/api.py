"""Builds for the inference nodes: list and request (ML engineers; coordinators watch), detail
with the signed manifest, the build's files, and the public key nodes pin."""

from django.http import FileResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.models import JobStatus
from ichlabel.api import validated
from ichlabel.errors import NotFound
from ichlabel.pagination import paginated
from modelops.builds.manifest import MANIFEST_NAME, SIGNATURE_NAME, key_id, public_key_pem
from modelops.builds.selectors import build_dir, build_list
from modelops.builds.services import BUILD_FILES as PAYLOAD
from modelops.builds.services import MAX_VALID_DAYS, model_build_request
from modelops.models import ModelVersion
from modelops.permissions import IsMLEngineerOrWatcher

BUILD_FILES = (MANIFEST_NAME, SIGNATURE_NAME, *PAYLOAD)


class BuildOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    model_version = serializers.IntegerField(source="model_version_id")
    model_version_name = serializers.CharField(source="model_version.name")
    status = serializers.ChoiceField(choices=JobStatus.choices)
    message = serializers.CharField()
    progress = serializers.FloatField()
    expires_at = serializers.DateTimeField()
    key_id = serializers.CharField()
    manifest = serializers.JSONField()
    signature = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class BuildListApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]
    pagination_class = LimitOffsetPagination

    class InputSerializer(serializers.Serializer):
        model_version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
        valid_days = serializers.IntegerField(min_value=1, max_value=MAX_VALID_DAYS, required=False)

        class Meta:
            ref_name = "BuildInput"

    class FilterSerializer(serializers.Serializer):
        model_version = serializers.IntegerField(min_value=1, required=False)

        class Meta:
            ref_name = "BuildFilter"

    @extend_schema(
        parameters=[FilterSerializer],
        responses=BuildOutputSerializer(many=True),
    )
    def get(self, request):
        version = validated(self.FilterSerializer, request.query_params).get("model_version")
        builds = build_list(model_version_id=version)
        return paginated(self, request, builds, BuildOutputSerializer)

    @extend_schema(request=InputSerializer, responses={201: BuildOutputSerializer})
    def post(self, request):
        """A new signed build of an approved model, queued on the training worker."""
        data = validated(self.InputSerializer, request.data)
        version = ModelVersion.objects.filter(pk=data.pop("model_version")).first()
        if version is None:
            raise NotFound("That model version does not exist.")
        build = model_build_request(model_version=version, created_by=request.user, **data)
        return Response(BuildOutputSerializer(build).data, status=status.HTTP_201_CREATED)


class BuildDetailApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    @extend_schema(responses=BuildOutputSerializer)
    def get(self, request, build_id: int):
        return Response(BuildOutputSerializer(build_list().get(pk=build_id)).data)


class BuildFileApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request, build_id: int, name: str):
        """One file of a finished build: the manifest, its signature, the model, the test scan."""
        build = build_list().get(pk=build_id)
        path = build_dir(build.number) / name
        if name not in BUILD_FILES or build.status != JobStatus.SUCCEEDED or not path.is_file():
            raise NotFound(f"Build {build.number} has no file {name!r}.")
        # A download whatever the file holds (the manifest is JSON), as documented.
        return FileResponse(
            open(path, "rb"),  # noqa: SIM115 (FileResponse closes it)
            as_attachment=True,
            filename=name,
            content_type="application/octet-stream",
        )


class PublicKeyOutputSerializer(serializers.Serializer):
    key_id = serializers.CharField()
    public_key_pem = serializers.CharField()


class BuildPublicKeyApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    @extend_schema(responses=PublicKeyOutputSerializer)
    def get(self, request):
        """The Ed25519 public key that verifies every build's manifest: nodes pin it."""
        from modelops.builds.signing import verifying_key

        key = verifying_key()
        return Response({"key_id": key_id(key), "public_key_pem": public_key_pem(key)})
