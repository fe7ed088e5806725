"""REST API of ground-truth exports: a frozen version as CSV (slices, RSNA 2019 layout, scans,
raw reader labels) or as a zip of DICOM SRs, streamed as it is built. Coordinators and ML
engineers take ground truth; raw reader labels are for coordinators only; readers never.

The DICOM SR zip takes a third of a second per scan: the page builds it as a job instead
(``export-jobs``: start, follow its progress, download the file once it is whole, cancel);
the stream stays for scripts."""

from urllib.parse import quote

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import exports
from annotations.exports.selectors import export_job_file, export_job_get
from annotations.exports.services import export_job_cancel, export_job_start
from annotations.models import JOB_EXPORT_KINDS, ExportJob, JobStatus, Role, Split
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


class ExportJobOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    version = serializers.IntegerField(source="version_id")
    kind = serializers.CharField()
    split = serializers.CharField()
    center = serializers.IntegerField(source="center_id", allow_null=True)
    status = serializers.ChoiceField(choices=JobStatus.choices)
    message = serializers.CharField()
    progress = serializers.FloatField()
    scans_done = serializers.IntegerField()
    scans_total = serializers.IntegerField()
    file_name = serializers.CharField()
    file_bytes = serializers.IntegerField(allow_null=True)
    file_sha256 = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField(
        help_text="Where the file downloads; null until the export succeeded"
    )

    def get_url(self, job: ExportJob) -> str:
        return reverse("export-job-detail", args=[job.pk])

    def get_download_url(self, job: ExportJob) -> str | None:
        if job.status != JobStatus.SUCCEEDED:
            return None
        return reverse("export-job-file", args=[job.pk])


class ExportJobStartApi(APIView):
    """``POST /ground-truth/<id>/export-jobs/``: build an export (the DICOM SR zip) on a
    worker; 202 with the job, whose URL tells how far it got."""

    permission_classes = [IsCoordinatorOrMLEngineer]

    class InputSerializer(serializers.Serializer):
        # A plain string checked below: an enum here would take the name "KindEnum" that the
        # read kinds have in the schema.
        kind = serializers.CharField(help_text=f"One of {', '.join(JOB_EXPORT_KINDS)}")
        split = serializers.ChoiceField(choices=Split.choices, required=False)
        center = serializers.IntegerField(required=False, min_value=1)

        class Meta:
            ref_name = "ExportJobStartInput"

        def validate_kind(self, value: str) -> str:
            if value not in JOB_EXPORT_KINDS:
                raise serializers.ValidationError(
                    f"Built as a job: {', '.join(JOB_EXPORT_KINDS)}; the others download at once."
                )
            return value

    @extend_schema(request=InputSerializer, responses={202: ExportJobOutputSerializer})
    def post(self, request, version_id: int):
        data = validated(self.InputSerializer, request.data)
        if exports.export_kind_get(name=data["kind"]).coordinators_only and not user_has_role(
            request.user, Role.COORDINATOR
        ):
            raise PermissionDenied
        job = export_job_start(
            version_id=version_id,
            kind=data["kind"],
            filters=exports.ExportFilters(split=data.get("split"), center_id=data.get("center")),
            user=request.user,
        )
        return Response(ExportJobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ExportJobDetailApi(APIView):
    """One of the user's export jobs: status, progress, and the download once it succeeded."""

    permission_classes = [IsCoordinatorOrMLEngineer]

    @extend_schema(responses=ExportJobOutputSerializer)
    def get(self, request, job_id):
        job = export_job_get(job_id=job_id, user=request.user)
        return Response(ExportJobOutputSerializer(job).data)


class ExportJobCancelApi(APIView):
    permission_classes = [IsCoordinatorOrMLEngineer]

    @extend_schema(request=None, responses=ExportJobOutputSerializer)
    def post(self, request, job_id):
        job = export_job_cancel(job=export_job_get(job_id=job_id, user=request.user))
        return Response(ExportJobOutputSerializer(job).data)


class ExportJobFileApi(APIView):
    """The file of a succeeded export job; 409 while it is built or after it failed."""

    permission_classes = [IsCoordinatorOrMLEngineer]

    def perform_content_negotiation(self, request, force=False):
        # A file, not a rendered object: errors still come back as JSON (see above).
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        responses={
            (200, "*/*"): OpenApiTypes.BINARY,
            409: OpenApiResponse(
                response=OpenApiTypes.OBJECT,
                description="The export is still being built, or failed: no file to serve.",
            ),
        }
    )
    def get(self, request, job_id):
        job = export_job_get(job_id=job_id, user=request.user)
        path = export_job_file(job=job)
        kind = exports.export_kind_get(name=job.kind)
        response = FileResponse(
            open(path, "rb"),  # noqa: SIM115 - FileResponse closes it
            as_attachment=True,
            filename=job.file_name,
            content_type=kind.content_type,
        )
        response["X-Ground-Truth-Version"] = str(job.version_id)
        response["X-Ground-Truth-SHA256"] = job.version.content_sha256
        response["X-Export-SHA256"] = job.file_sha256
        return response
