"""Releases of a model's output to readers: the list (coordinators and ML engineers), release
and withdraw (coordinators), by a list of scans or by split and center."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.models import Split
from annotations.permissions import IsCoordinator, IsCoordinatorOrMLEngineer
from ichlabel.api import validated
from ichlabel.pagination import paginated
from modelops.models import ModelVersion
from modelops.releases.selectors import release_scans, releases_of
from modelops.releases.services import model_output_release, model_output_withdraw

MAX_LISTED_SCANS = 10_000


class ReleaseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    scan = serializers.IntegerField(source="scan_id")
    split = serializers.ChoiceField(source="scan.split", choices=Split.choices)
    center = serializers.CharField(source="scan.center.name")
    released_by = serializers.CharField(source="released_by.username")
    released_at = serializers.DateTimeField()
    withdrawn_by = serializers.CharField(source="withdrawn_by.username", allow_null=True)
    withdrawn_at = serializers.DateTimeField(allow_null=True)


class ReleaseScansSerializer(serializers.Serializer):
    """The scans: ``scans`` (ids), or ``split`` with an optional ``center``."""

    scans = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        required=False,
        max_length=MAX_LISTED_SCANS,
    )
    split = serializers.ChoiceField(choices=Split.choices, required=False)
    center = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)

    class Meta:
        ref_name = "ReleaseScansInput"


class ReleaseCountsSerializer(serializers.Serializer):
    released = serializers.IntegerField(help_text="Scans released now")
    already_released = serializers.IntegerField()


class WithdrawCountsSerializer(serializers.Serializer):
    withdrawn = serializers.IntegerField()


def _scans(data: dict):
    return release_scans(
        split=data.get("split"), center_id=data.get("center"), scan_ids=data.get("scans")
    )


class ReleasePermission(IsCoordinatorOrMLEngineer):
    """Coordinators release and withdraw; ML engineers may look."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return super().has_permission(request, view)
        return IsCoordinator().has_permission(request, view)


class ReleaseListApi(APIView):
    permission_classes = [ReleasePermission]
    pagination_class = LimitOffsetPagination

    @extend_schema(responses=ReleaseOutputSerializer(many=True))
    def get(self, request, version_id: int):
        """Every release of the model's output, withdrawn ones included, newest first."""
        version = ModelVersion.objects.get(pk=version_id)
        return paginated(self, request, releases_of(version), ReleaseOutputSerializer)

    @extend_schema(request=ReleaseScansSerializer, responses=ReleaseCountsSerializer)
    def post(self, request, version_id: int):
        """Release the model's output for the scans to their readers (approved models only);
        the maps of ``any`` are queued for each scan released now."""
        version = ModelVersion.objects.get(pk=version_id)
        data = validated(ReleaseScansSerializer, request.data)
        counts = model_output_release(
            model_version=version, scans=_scans(data), released_by=request.user
        )
        return Response(counts)


class ReleaseWithdrawApi(APIView):
    permission_classes = [IsCoordinator]

    @extend_schema(request=ReleaseScansSerializer, responses=WithdrawCountsSerializer)
    def post(self, request, version_id: int):
        """Withdraw the model's output from the scans: readers no longer see it."""
        version = ModelVersion.objects.get(pk=version_id)
        data = validated(ReleaseScansSerializer, request.data)
        counts = model_output_withdraw(
            model_version=version, scans=_scans(data), withdrawn_by=request.user
        )
        return Response(counts)
