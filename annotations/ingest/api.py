"""REST API of the study data: centers, scans and import batches. Thin: parse, call, serialize."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.ingest.selectors import (
    center_list,
    import_batch_get,
    import_batch_list,
    import_batch_upload_room,
    scan_get,
    scan_list,
)
from annotations.ingest.services import (
    center_get_or_create,
    center_split_set,
    import_batch_cancel,
    import_batch_create,
    import_batch_files_add,
    import_batch_start,
)
from annotations.ingest.split_change import center_split_change
from annotations.ingest.uploads import UploadQuota
from annotations.models import (
    Center,
    ImportBatch,
    JobStatus,
    ReadLevel,
    Scan,
    Split,
)
from annotations.permissions import IsCoordinator, IsCoordinatorOrMLEngineer
from ichlabel.api import validated


class CenterOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    split = serializers.ChoiceField(choices=Split.choices)
    scan_count = serializers.IntegerField()
    slice_count = serializers.IntegerField()


class CenterListApi(APIView):
    permission_classes = [IsCoordinatorOrMLEngineer]

    @extend_schema(responses=CenterOutputSerializer(many=True))
    def get(self, request):
        return Response(CenterOutputSerializer(center_list(), many=True).data)


class CenterCreateApi(APIView):
    permission_classes = [IsCoordinator]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CenterCreateInput"

        name = serializers.CharField(max_length=64)
        split = serializers.ChoiceField(choices=Split.choices, default=Split.TRAIN)

    @extend_schema(request=InputSerializer, responses={201: CenterOutputSerializer})
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        center = center_get_or_create(name=data["name"], split=data["split"])
        return Response(_center_out(center.pk), status=status.HTTP_201_CREATED)


class CenterSplitSetApi(APIView):
    permission_classes = [IsCoordinator]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CenterSplitSetInput"

        split = serializers.ChoiceField(choices=Split.choices)

    # 409 with the reasons (``extra.reasons``) when the move would break a running round.
    @extend_schema(request=InputSerializer, responses=CenterOutputSerializer)
    def post(self, request, center_id: int):
        center = get_object_or_404(Center, pk=center_id)
        data = validated(self.InputSerializer, request.data)
        center_split_set(center=center, split=data["split"], by=request.user)
        return Response(_center_out(center.pk))


class SplitChangeReadsSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CenterSplitChangeReads"

    role = serializers.CharField()
    level = serializers.ChoiceField(choices=ReadLevel.choices)
    open = serializers.IntegerField()
    completed = serializers.IntegerField()
    withdrawn = serializers.IntegerField()


class SplitChangeVersionSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CenterSplitChangeVersion"

    id = serializers.IntegerField()
    name = serializers.CharField()
    scans = serializers.IntegerField()
    splits = serializers.ListField(child=serializers.ChoiceField(choices=Split.choices))
    released = serializers.BooleanField()


class CenterSplitChangeApi(APIView):
    """What moving a center to another split would affect, and whether it is refused (with
    the reasons): the confirmation a coordinator answers before ``CenterSplitSetApi``."""

    permission_classes = [IsCoordinator]

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CenterSplitChangeQuery"

        split = serializers.ChoiceField(choices=Split.choices)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CenterSplitChange"

        center_id = serializers.IntegerField()
        center_name = serializers.CharField()
        from_split = serializers.ChoiceField(choices=Split.choices)
        to_split = serializers.ChoiceField(choices=Split.choices)
        changes = serializers.BooleanField()
        scans = serializers.IntegerField()
        slices = serializers.IntegerField()
        reads = SplitChangeReadsSerializer(many=True)
        open_reads = serializers.IntegerField()
        completed_reads = serializers.IntegerField()
        reads_per_scan_before = serializers.IntegerField()
        reads_per_scan_after = serializers.IntegerField()
        scans_needing_reads = serializers.IntegerField()
        reads_to_assign = serializers.IntegerField()
        completed_at_other_level = serializers.IntegerField()
        ground_truth_versions = SplitChangeVersionSerializer(many=True)
        refused = serializers.BooleanField()
        refusals = serializers.ListField(child=serializers.CharField())

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer)
    def get(self, request, center_id: int):
        center = get_object_or_404(Center, pk=center_id)
        query = validated(self.FilterSerializer, request.query_params)
        change = center_split_change(center=center, split=query["split"])
        return Response(self.OutputSerializer(change).data)


class ScanOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    center = serializers.CharField(source="center.name")
    split = serializers.CharField()
    patient = serializers.CharField(source="patient.pseudonym")
    study_instance_uid = serializers.CharField()
    series_instance_uid = serializers.CharField()
    series_description = serializers.CharField()
    manufacturer = serializers.CharField()
    acquisition_date = serializers.DateField(allow_null=True)
    age_band = serializers.CharField()
    sex = serializers.CharField()
    slice_count = serializers.IntegerField()
    rows = serializers.IntegerField()
    columns = serializers.IntegerField()
    slice_spacing_mm = serializers.FloatField(allow_null=True)
    flags = serializers.ListField(child=serializers.CharField())
    warnings = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()


class SliceOutputSerializer(serializers.Serializer):
    position_index = serializers.IntegerField()
    sop_instance_uid = serializers.CharField()
    instance_number = serializers.IntegerField(allow_null=True)
    z_position_mm = serializers.FloatField()
    slice_thickness_mm = serializers.FloatField(allow_null=True)
    pixel_spacing_row_mm = serializers.FloatField()
    pixel_spacing_column_mm = serializers.FloatField()
    rows = serializers.IntegerField()
    columns = serializers.IntegerField()


class ScanListApi(APIView):
    permission_classes = [IsCoordinatorOrMLEngineer]
    # Declared for the schema (a paginated answer); get() pages the list itself.
    pagination_class = LimitOffsetPagination

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ScanListFilter"

        center = serializers.IntegerField(required=False)
        split = serializers.ChoiceField(choices=Split.choices, required=False)
        flag = serializers.CharField(required=False, max_length=32)

    @extend_schema(parameters=[FilterSerializer], responses=ScanOutputSerializer(many=True))
    def get(self, request):
        filters = validated(self.FilterSerializer, request.query_params)
        scans = scan_list(
            center_id=filters.get("center"), split=filters.get("split"), flag=filters.get("flag")
        )
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(scans, request, view=self)
        return paginator.get_paginated_response(ScanOutputSerializer(page, many=True).data)


class ScanDetailApi(APIView):
    permission_classes = [IsCoordinatorOrMLEngineer]

    class OutputSerializer(ScanOutputSerializer):
        slices = SliceOutputSerializer(many=True, source="slices.all")

        class Meta:
            ref_name = "ScanDetail"

    @extend_schema(responses=OutputSerializer)
    def get(self, request, scan_id: int):
        try:
            scan = scan_get(scan_id=scan_id)
        except Scan.DoesNotExist:
            raise Http404 from None
        return Response(self.OutputSerializer(scan).data)


class ImportBatchOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    source = serializers.CharField()
    center = serializers.CharField(source="center.name")
    split = serializers.ChoiceField(choices=Split.choices)
    status = serializers.ChoiceField(choices=JobStatus.choices)
    status_display = serializers.CharField(source="get_status_display")
    files_total = serializers.IntegerField()
    files_done = serializers.IntegerField()
    message = serializers.CharField()
    report = serializers.JSONField()
    created_by = serializers.CharField(
        source="created_by.username", default=None, allow_null=True, read_only=True
    )
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class ImportBatchListApi(APIView):
    permission_classes = [IsCoordinator]
    # Declared for the schema (a paginated answer); get() pages the list itself.
    pagination_class = LimitOffsetPagination

    @extend_schema(responses=ImportBatchOutputSerializer(many=True))
    def get(self, request):
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(import_batch_list(), request, view=self)
        return paginator.get_paginated_response(ImportBatchOutputSerializer(page, many=True).data)


class ImportBatchCreateApi(APIView):
    """Open an import: then upload files into it and start it."""

    permission_classes = [IsCoordinator]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ImportBatchCreateInput"

        center = serializers.CharField(max_length=64)
        split = serializers.ChoiceField(choices=Split.choices, required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={201: ImportBatchOutputSerializer})
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        center = center_get_or_create(name=data["center"], split=data.get("split"))
        batch = import_batch_create(
            center=center,
            split=data.get("split"),
            source=ImportBatch.Source.UPLOAD if _is_browser(request) else ImportBatch.Source.API,
            user=request.user,
        )
        return Response(ImportBatchOutputSerializer(batch).data, status=status.HTTP_201_CREATED)


class ImportBatchDetailApi(APIView):
    permission_classes = [IsCoordinator]

    @extend_schema(responses=ImportBatchOutputSerializer)
    def get(self, request, batch_id):
        return Response(ImportBatchOutputSerializer(_batch(batch_id)).data)


class ImportBatchFilesAddApi(APIView):
    """Upload files (DICOM or zip) into an open import; multipart field ``files``, repeated.

    An optional repeated field ``paths`` gives each file's relative path (e.g. a folder
    upload's ``webkitRelativePath``), in the same order as ``files``.
    """

    permission_classes = [IsCoordinator]
    parser_classes = [MultiPartParser, FormParser]

    def initial(self, request, *args, **kwargs):
        # Before authentication, whose CSRF check (a browser's session) reads the body: a body
        # past what the batch can still take stops as it arrives, not once it filled the
        # server's temporary files. The room is reckoned when the first file's bytes arrive.
        django_request = request._request
        django_request.upload_handlers.insert(
            0, UploadQuota(django_request, room=lambda: _upload_room(kwargs["batch_id"]))
        )
        super().initial(request, *args, **kwargs)

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    "paths": {"type": "array", "items": {"type": "string"}},
                },
            }
        },
        responses={200: ImportBatchOutputSerializer},
    )
    def post(self, request, batch_id):
        batch = _batch(batch_id)
        uploads = request.FILES.getlist("files")
        paths = request.data.getlist("paths") if hasattr(request.data, "getlist") else []
        if not uploads:
            return Response(
                {"message": "No files in the request (field 'files').", "extra": {}}, status=400
            )
        if paths and len(paths) != len(uploads):
            return Response(
                {"message": "'paths' must name every file in 'files', in order.", "extra": {}},
                status=400,
            )
        names = paths or [upload.name for upload in uploads]
        import_batch_files_add(batch=batch, files=zip(names, uploads, strict=True))
        return Response(ImportBatchOutputSerializer(batch).data)


class ImportBatchStartApi(APIView):
    permission_classes = [IsCoordinator]

    @extend_schema(request=None, responses={202: ImportBatchOutputSerializer})
    def post(self, request, batch_id):
        batch = import_batch_start(batch=_batch(batch_id))
        return Response(ImportBatchOutputSerializer(batch).data, status=status.HTTP_202_ACCEPTED)


class ImportBatchCancelApi(APIView):
    permission_classes = [IsCoordinator]

    @extend_schema(request=None, responses=ImportBatchOutputSerializer)
    def post(self, request, batch_id):
        batch = import_batch_cancel(batch=_batch(batch_id))
        return Response(ImportBatchOutputSerializer(batch).data)


def _batch(batch_id) -> ImportBatch:
    try:
        return import_batch_get(batch_id=batch_id)
    except ImportBatch.DoesNotExist:
        raise Http404 from None


def _upload_room(batch_id) -> int | None:
    try:
        return import_batch_upload_room(batch=import_batch_get(batch_id=batch_id))
    except ImportBatch.DoesNotExist:
        return None  # the view answers 404


def _center_out(center_id: int) -> dict:
    return CenterOutputSerializer(center_list().get(pk=center_id)).data


def _is_browser(request) -> bool:
    return request.successful_authenticator.__class__.__name__ == "SessionAuthentication"
