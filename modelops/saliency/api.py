"""Saliency runs: list and request, detail with the localization figures, the sampled slices
and their maps, cancel; a map's overlay image by its token."""

from django.http import FileResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.models import JobStatus, Split
from ichlabel.api import validated
from ichlabel.errors import NotFound
from ichlabel.pagination import paginated
from modelops.models import SALIENCY_MAX_PER_SUBTYPE, ModelVersion, SaliencyMap, SaliencyMethod
from modelops.permissions import IsMLEngineerOrWatcher
from modelops.saliency.selectors import saliency_overlay_path, saliency_run_list
from modelops.saliency.services import saliency_run_cancel, saliency_run_request


class SaliencyRunOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    model_version = serializers.IntegerField(source="model_version_id")
    model_version_name = serializers.CharField(source="model_version.name")
    split = serializers.ChoiceField(choices=Split.choices)
    per_subtype = serializers.IntegerField()
    seed = serializers.IntegerField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    message = serializers.CharField()
    progress = serializers.FloatField()
    slices_done = serializers.IntegerField()
    slices_total = serializers.IntegerField()
    localization = serializers.JSONField()
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class SaliencyRunListApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]
    pagination_class = LimitOffsetPagination

    class InputSerializer(serializers.Serializer):
        model_version = serializers.IntegerField(min_value=1)
        split = serializers.ChoiceField(choices=Split.choices, default=Split.TEST)
        per_subtype = serializers.IntegerField(
            min_value=1, max_value=SALIENCY_MAX_PER_SUBTYPE, default=20
        )
        seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0)

        class Meta:
            ref_name = "SaliencyRunInput"

    class FilterSerializer(serializers.Serializer):
        model_version = serializers.IntegerField(min_value=1, required=False)

        class Meta:
            ref_name = "SaliencyRunFilter"

    @extend_schema(
        parameters=[FilterSerializer],
        responses=SaliencyRunOutputSerializer(many=True),
    )
    def get(self, request):
        version = validated(self.FilterSerializer, request.query_params).get("model_version")
        runs = saliency_run_list(model_version_id=version)
        return paginated(self, request, runs, SaliencyRunOutputSerializer)

    @extend_schema(
        request=InputSerializer,
        responses={201: SaliencyRunOutputSerializer, 200: SaliencyRunOutputSerializer},
    )
    def post(self, request):
        """Maps of a model version for a sample of positive slices: 200 with the run that
        exists for the same sample, or 201 with a run queued now (a failed or canceled run
        asked for again is queued again, keeping its maps)."""
        data = validated(self.InputSerializer, request.data)
        version = ModelVersion.objects.filter(pk=data.pop("model_version")).first()
        if version is None:
            raise NotFound("That model version does not exist.")
        run, queued = saliency_run_request(model_version=version, created_by=request.user, **data)
        code = status.HTTP_201_CREATED if queued else status.HTTP_200_OK
        return Response(SaliencyRunOutputSerializer(run).data, status=code)


class SaliencyRunDetailApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    @extend_schema(responses=SaliencyRunOutputSerializer)
    def get(self, request, run_id: int):
        return Response(SaliencyRunOutputSerializer(saliency_run_list().get(pk=run_id)).data)


class SaliencyRunCancelApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    @extend_schema(request=None, responses=SaliencyRunOutputSerializer)
    def post(self, request, run_id: int):
        run = saliency_run_cancel(run=saliency_run_list().get(pk=run_id))
        return Response(SaliencyRunOutputSerializer(run).data)


class SaliencyMapOutputSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=SaliencyMethod.choices)
    token = serializers.UUIDField()
    pointing_hit = serializers.BooleanField(allow_null=True)
    energy_inside = serializers.FloatField(allow_null=True)
    deletion_auc = serializers.FloatField(allow_null=True)


class SaliencySliceOutputSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    scan = serializers.IntegerField(source="scan_id")
    slice = serializers.IntegerField(source="slice_id")
    slice_index = serializers.IntegerField(source="slice.position_index")
    subtype = serializers.CharField()
    score = serializers.FloatField(allow_null=True)
    done = serializers.BooleanField()
    maps = SaliencyMapOutputSerializer(many=True)


class SaliencySliceListApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]
    pagination_class = LimitOffsetPagination

    @extend_schema(responses=SaliencySliceOutputSerializer(many=True))
    def get(self, request, run_id: int):
        """The run's sampled slices with both maps each (the method is named: this is the ML
        engineer's view, never a reader's)."""
        run = saliency_run_list().get(pk=run_id)
        items = run.slices.select_related("slice").prefetch_related("maps").order_by("position")
        return paginated(self, request, items, SaliencySliceOutputSerializer)


class SaliencyOverlayApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    @extend_schema(responses={(200, "image/png"): bytes})
    def get(self, request, token):
        """A map's PNG overlay, by its token (the file says nothing of the method)."""
        done = SaliencyMap.objects.select_related("item").filter(token=token, item__done=True)
        saliency_map = done.first()
        if saliency_map is None:
            raise NotFound("That saliency map does not exist.")
        path = saliency_overlay_path(saliency_map)
        if not path.is_file():
            raise NotFound("That saliency map's overlay is no longer stored.")
        return FileResponse(open(path, "rb"), content_type="image/png")  # noqa: SIM115
