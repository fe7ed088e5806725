"""REST API of reader agreement (coordinators only: agreement reveals how readers voted, so
readers never see it, which keeps them blinded). JSON for the dashboard, CSV for download."""

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.agreement.selectors import agreement_report, agreement_table_csv
from annotations.models import ReadLevel, Split
from annotations.permissions import IsCoordinator
from ichlabel.api import validated


class CSVRenderer(BaseRenderer):
    """Renders text the view made as CSV; an error body (a dict) as a one-column CSV."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, dict):
            data = "message\n" + str(data.get("message", "")).replace("\n", " ") + "\n"
        return str(data or "").encode(self.charset)


VERSION_ID = re.compile(r"[0-9]{1,18}", re.ASCII)


@extend_schema_field(OpenApiTypes.STR)
class VersionField(serializers.Field):
    """A ground-truth version id, or "current" (every scan, as read now)."""

    def to_internal_value(self, data):
        if data in ("", "current", None):
            return None
        # An id as the path converter takes one: int() would also take other scripts' digits
        # and numbers beyond the database's integers.
        if isinstance(data, str) and VERSION_ID.fullmatch(data):
            return int(data)
        raise serializers.ValidationError('A version id or "current".')

    def to_representation(self, value):
        return "current" if value is None else value


class AgreementApi(APIView):
    """Agreement of the completed reads on the selected scans: the table (per label at slice
    and scan level, with bootstrap CIs), reader-pair kappa matrices and agreement by week.
    ``?format=csv`` (or ``agreement.csv``) gives the table as CSV."""

    permission_classes = [IsCoordinator]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]

    class FilterSerializer(serializers.Serializer):
        split = serializers.ChoiceField(choices=Split.choices, required=False)
        center = serializers.IntegerField(required=False)
        version = VersionField(required=False, default=None)
        level = serializers.ChoiceField(choices=ReadLevel.choices, default=ReadLevel.SLICE)
        n_boot = serializers.IntegerField(min_value=0, max_value=10_000, default=1000)
        seed = serializers.IntegerField(min_value=0, max_value=2**32 - 1, default=0)

        class Meta:
            ref_name = "AgreementFilter"

    @extend_schema(parameters=[FilterSerializer], responses={200: OpenApiTypes.OBJECT})
    def get(self, request, format=None):
        filters = validated(self.FilterSerializer, request.query_params)
        report = agreement_report(
            read_level=filters["level"],
            split=filters.get("split"),
            center_id=filters.get("center"),
            version_id=filters["version"],
            n_boot=filters["n_boot"],
            seed=filters["seed"],
        )
        if request.accepted_renderer.format == "csv":
            return Response(
                agreement_table_csv(report),
                content_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="agreement.csv"'},
            )
        return Response(report.as_dict())
