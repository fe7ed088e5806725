"""The viewer's saliency overlay: which models' output a user may lay over a scan, a request
for a class's maps, the maps' state and scores, and each slice's overlay image.

ML engineers see every model's output on every scan; a reader only a model's output that a
coordinator released for a scan they read, and nothing of it otherwise (a scan they do not
read does not exist for them; a released-nowhere scan has no models). Nothing here names the
user who asked for a map: it would tell a reader of another read."""

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.models import ACTIVE_READ_STATUSES, JobStatus, Read, Role, Scan
from annotations.permissions import user_has_role
from annotations.vocabulary import HEMORRHAGE_CLASSES
from ichlabel.api import validated
from ichlabel.errors import NotFound
from modelops.models import ModelStatus, SaliencyMethod
from modelops.scan_saliency.selectors import (
    model_versions_for_scan,
    scan_saliency_png,
    scan_saliency_run_for_user,
    scan_saliency_runs_of_scan,
)
from modelops.scan_saliency.services import scan_saliency_request


class ScanSaliencyRunOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    model_version = serializers.IntegerField(source="model_version_id")
    scan = serializers.IntegerField(source="scan_id")
    hemorrhage_class = serializers.ChoiceField(source="label", choices=HEMORRHAGE_CLASSES)
    status = serializers.ChoiceField(choices=JobStatus.choices)
    message = serializers.CharField()
    progress = serializers.FloatField()
    scores = serializers.DictField(child=serializers.FloatField())
    url = serializers.SerializerMethodField(help_text="Where this run's state is")
    overlay_url = serializers.SerializerMethodField(
        help_text="The overlay of one slice: replace {method} and {index} (its position index)."
    )

    def get_url(self, run) -> str:
        return reverse("scan-saliency-detail", kwargs={"run_id": run.pk})

    def get_overlay_url(self, run) -> str:
        url = reverse(
            "scan-saliency-overlay", kwargs={"run_id": run.pk, "method": "M", "position_index": 0}
        )
        return url.replace("/M/", "/{method}/").replace("/0.png", "/{index}.png")


class ModelOfScanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=ModelStatus.choices)


class ScanModelOutputSerializer(serializers.Serializer):
    models = ModelOfScanSerializer(many=True)
    runs = ScanSaliencyRunOutputSerializer(many=True)
    methods = serializers.ListField(child=serializers.ChoiceField(choices=SaliencyMethod.choices))
    request_url = serializers.CharField()


def scan_model_output(*, scan_id: int, user) -> dict:
    """What the viewer of the scan offers ``user``: models, the maps asked for so far, and
    where to ask for more (the reading and scan pages inline it)."""
    return ScanModelOutputSerializer(
        {
            "models": model_versions_for_scan(scan_id=scan_id, user=user),
            "runs": scan_saliency_runs_of_scan(scan_id=scan_id, user=user).order_by("id"),
            "methods": SaliencyMethod.values,
            "request_url": reverse("scan-saliency-request", kwargs={"scan_id": scan_id}),
        }
    ).data


def _scan_for(scan_id: int, user) -> Scan:
    """The scan, if ``user`` may view it (a reader: one of their reads); else ``NotFound``."""
    scans = Scan.objects.all()
    if not user_has_role(user, Role.COORDINATOR, Role.ML_ENGINEER):
        reads = Read.objects.filter(reader=user, status__in=ACTIVE_READ_STATUSES)
        scans = scans.filter(pk__in=reads.values("scan_id"))
    scan = scans.filter(pk=scan_id).first()
    if scan is None:
        raise NotFound("That scan does not exist.")
    return scan


class ScanModelOutputApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ScanModelOutputSerializer)
    def get(self, request, scan_id: int):
        """The models whose output the user may lay over the scan and the maps asked for."""
        scan = _scan_for(scan_id, request.user)
        return Response(scan_model_output(scan_id=scan.pk, user=request.user))


class ScanSaliencyRequestApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        model_version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
        hemorrhage_class = serializers.ChoiceField(choices=HEMORRHAGE_CLASSES, default="any")

        class Meta:
            ref_name = "ScanSaliencyInput"

    @extend_schema(
        request=InputSerializer,
        responses={201: ScanSaliencyRunOutputSerializer, 200: ScanSaliencyRunOutputSerializer},
    )
    def post(self, request, scan_id: int):
        """Both maps of a class over the scan: 200 with the maps that exist (or are being
        computed), 201 when queued now."""
        scan = _scan_for(scan_id, request.user)
        data = validated(self.InputSerializer, request.data)
        versions = model_versions_for_scan(scan_id=scan.pk, user=request.user)
        version = versions.filter(pk=data["model_version"]).first()
        if version is None:
            raise NotFound("That model's output is not available for this scan.")
        run, queued = scan_saliency_request(
            model_version=version,
            scan=scan,
            label=data["hemorrhage_class"],
            requested_by=request.user,
        )
        code = status.HTTP_201_CREATED if queued else status.HTTP_200_OK
        return Response(ScanSaliencyRunOutputSerializer(run).data, status=code)


class ScanSaliencyDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ScanSaliencyRunOutputSerializer)
    def get(self, request, run_id: int):
        run = scan_saliency_run_for_user(run_id=run_id, user=request.user)
        return Response(ScanSaliencyRunOutputSerializer(run).data)


class ScanSaliencyOverlayApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, "image/png"): bytes})
    def get(self, request, run_id: int, method: str, position_index: int):
        """One slice's overlay of one method (the maps never change once written)."""
        run = scan_saliency_run_for_user(run_id=run_id, user=request.user)
        if method not in SaliencyMethod.values or run.status != JobStatus.SUCCEEDED:
            raise NotFound("Those maps do not exist.")
        path = scan_saliency_png(run, method, position_index)
        if not path.is_file():
            raise NotFound("That slice has no overlay.")
        response = FileResponse(open(path, "rb"), content_type="image/png")  # noqa: SIM115
        response["Cache-Control"] = "private, max-age=86400, immutable"
        return response
