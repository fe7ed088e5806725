"""REST API of ground-truth exports: a frozen version as CSV (slices, RSNA 2019 layout, scans,
raw reader labels) or as a zip of DICOM SRs, streamed as it is built. Coordinators and ML
engineers take ground truth; raw reader labels are for coordinators only; readers never."""

from urllib.parse import quote

from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from annotations import exports
from annotations.models import Role, Split
from annotations.permissions import IsCoordinatorOrMLEngineer, user_has_role
from ichlabel.api import validated


class GroundTruthExportApi(APIView):
    """``GET /ground-truth/<id>/exports/<kind>/?split=&center=``: the file, streamed; its name
    and the ``X-Ground-Truth-*`` headers name the version it came from."""

    permission_classes = [IsCoordinatorOrMLEngineer]

    class FilterSerializer(serializers.Serializer):
        split = serializers.ChoiceField(choices=Split.choices, required=False)
        center = serializers.IntegerField(required=False, min_value=1)

        class Meta:
            ref_name = "GroundTruthExportFilter"

    def perform_content_negotiation(self, request, force=False):
        # The body is a file, not a rendered object: whatever the client accepts, errors
        # still come back as JSON instead of a 406.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(parameters=[FilterSerializer], responses={(200, "*/*"): OpenApiTypes.BINARY})
    def get(self, request, version_id: int, kind: str):
        export = exports.export_kind_get(name=kind)
        if export.coordinators_only and not user_has_role(request.user, Role.COORDINATOR):
            raise PermissionDenied
        query = validated(self.FilterSerializer, request.query_params)
        filters = exports.ExportFilters(split=query.get("split"), center_id=query.get("center"))
        version = exports.export_version_get(version_id=version_id)
        response = StreamingHttpResponse(
            export.chunks(version=version, filters=filters), content_type=export.content_type
        )
        filename = exports.export_filename(version=version, kind=kind, filters=filters)
        response["Content-Disposition"] = content_disposition_header(True, filename)
        response["X-Ground-Truth-Version"] = str(version.pk)
        # Percent-encoded: a header carries Latin-1 only, a version name may not.
        response["X-Ground-Truth-Name"] = quote(version.name, safe="")
        response["X-Ground-Truth-SHA256"] = version.content_sha256
        return response
