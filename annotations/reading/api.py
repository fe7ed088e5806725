"""The reader's API: worklist, read, slice labels, progress, flags, completion, scan-level labels,
and the slice files the viewer loads.
"""

import logging

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_cache_control
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.models import LABEL_FIELDS, Read, ReadLevel, ReadStatus, ScanLabel, Slice
from annotations.permissions import IsNeuroradiologist
from annotations.reading.selectors import (
    read_get_for_reader,
    read_labels,
    scan_label_for_reader,
    scan_slice_positions,
    slice_get_for_viewer,
    worklist_for_reader,
)
from annotations.reading.services import (
    LabelChange,
    read_complete,
    read_flags,
    read_flags_set,
    read_progress_record,
    scan_label_save,
    slice_labels_save,
)
from ichlabel.api import validated

logger = logging.getLogger(__name__)


class ScanLabelOutputSerializer(serializers.Serializer):
    """The labels of a scan (a scan-level read) and their version."""

    iph = serializers.BooleanField()
    ivh = serializers.BooleanField()
    sah = serializers.BooleanField()
    sdh = serializers.BooleanField()
    edh = serializers.BooleanField()
    no_hemorrhage = serializers.BooleanField()
    any = serializers.BooleanField()
    version = serializers.IntegerField()


class LabelOutputSerializer(ScanLabelOutputSerializer):
    """The labels of one slice and their version."""

    slice_index = serializers.IntegerField(source="slice.position_index")


class LabelValuesInputSerializer(serializers.Serializer):
    """Labels as a save sends them: the version edited (0: never saved) and the values it
    changes. A value not sent keeps what the version edited held (False on a new label)."""

    version = serializers.IntegerField(min_value=0)
    iph = serializers.BooleanField(required=False)
    ivh = serializers.BooleanField(required=False)
    sah = serializers.BooleanField(required=False)
    sdh = serializers.BooleanField(required=False)
    edh = serializers.BooleanField(required=False)
    no_hemorrhage = serializers.BooleanField(required=False)


def sent_label_values(data: dict) -> dict[str, bool]:
    """The label values an input names, and only those."""
    return {name: data[name] for name in LABEL_FIELDS if name in data}


class SliceLabelChangeSerializer(LabelValuesInputSerializer):
    slice_index = serializers.IntegerField(min_value=0)


class ReadFlagsOutputSerializer(serializers.Serializer):
    """A read's flags as ``read_flags`` gives them (declared for the schema)."""

    postoperative = serializers.BooleanField()
    artifact = serializers.BooleanField()
    mass_lesion = serializers.BooleanField()
    other = serializers.BooleanField()


class ReadOutputSerializer(serializers.Serializer):
    """A reader's own read. Its kind (primary or cross) is never shown: it would tell a
    cross-reader that another read of the scan exists."""

    id = serializers.IntegerField()
    scan = serializers.IntegerField(source="scan_id")
    slice_count = serializers.IntegerField(source="scan.slice_count")
    series_description = serializers.CharField(source="scan.series_description")
    status = serializers.ChoiceField(choices=ReadStatus.choices)
    assigned_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    time_spent_s = serializers.FloatField()
    last_slice_index = serializers.IntegerField()
    viewed_slices = serializers.ListField(child=serializers.IntegerField())
    flags = serializers.SerializerMethodField()
    note = serializers.CharField()
    version = serializers.IntegerField()
    level = serializers.ChoiceField(choices=ReadLevel.choices)
    scan_label = serializers.SerializerMethodField(
        help_text="Scan-level labels of a scan-level read; null while never saved"
    )

    @extend_schema_field(ReadFlagsOutputSerializer)
    def get_flags(self, read: Read) -> dict[str, bool]:
        return read_flags(read)

    @extend_schema_field(ScanLabelOutputSerializer(allow_null=True))
    def get_scan_label(self, read: Read) -> dict | None:
        try:
            return ScanLabelOutputSerializer(read.scan_label).data
        except ScanLabel.DoesNotExist:
            return None


class WorklistApi(APIView):
    permission_classes = [IsNeuroradiologist]

    class OutputSerializer(ReadOutputSerializer):
        labelled_slices = serializers.IntegerField()

        class Meta:
            ref_name = "WorklistRead"

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        reads = worklist_for_reader(reader=request.user)
        return Response(self.OutputSerializer(reads, many=True).data)


class ReadDetailApi(APIView):
    permission_classes = [IsNeuroradiologist]

    class OutputSerializer(ReadOutputSerializer):
        labels = serializers.SerializerMethodField()
        slice_positions_mm = serializers.SerializerMethodField(
            help_text="Each slice's position along the slice normal, slice 0 (inferior) first"
        )

        class Meta:
            ref_name = "ReadWithLabels"

        @extend_schema_field(LabelOutputSerializer(many=True))
        def get_labels(self, read: Read) -> list[dict]:
            return LabelOutputSerializer(read_labels(read=read), many=True).data

        def get_slice_positions_mm(self, read: Read) -> list[float]:
            return scan_slice_positions(scan_id=read.scan_id)

    @extend_schema(responses=OutputSerializer)
    def get(self, request, read_id: int):
        read = read_get_for_reader(read_id=read_id, reader=request.user)
        return Response(self.OutputSerializer(read).data)


class SliceLabelSaveApi(APIView):
    """Save the labels of one slice or a range: each change names the version it edited
    (0 for a slice never labelled). A stale version gets 409 with the current values."""

    permission_classes = [IsNeuroradiologist]

    class InputSerializer(serializers.Serializer):
        changes = SliceLabelChangeSerializer(many=True, min_length=1, max_length=1000)

        class Meta:
            ref_name = "SliceLabelSaveInput"

    @extend_schema(request=InputSerializer, responses=LabelOutputSerializer(many=True))
    def post(self, request, read_id: int):
        data = validated(self.InputSerializer, request.data)
        saved = slice_labels_save(
            read_id=read_id,
            reader=request.user,
            changes=[
                LabelChange(
                    slice_index=item["slice_index"],
                    values=sent_label_values(item),
                    expected_version=item["version"],
                )
                for item in data["changes"]
            ],
        )
        return Response(LabelOutputSerializer(saved, many=True).data)


class ReadProgressApi(APIView):
    permission_classes = [IsNeuroradiologist]

    class InputSerializer(serializers.Serializer):
        viewed = serializers.ListField(child=serializers.IntegerField(min_value=0), max_length=5000)
        slice_index = serializers.IntegerField(min_value=0)
        seconds = serializers.FloatField(min_value=0)

        class Meta:
            ref_name = "ReadProgressInput"

    @extend_schema(request=InputSerializer, responses=ReadOutputSerializer)
    def post(self, request, read_id: int):
        data = validated(self.InputSerializer, request.data)
        read = read_progress_record(read_id=read_id, reader=request.user, **data)
        return Response(ReadOutputSerializer(read).data)


class ReadFlagsSetApi(APIView):
    permission_classes = [IsNeuroradiologist]

    class InputSerializer(serializers.Serializer):
        postoperative = serializers.BooleanField(default=False)
        artifact = serializers.BooleanField(default=False)
        mass_lesion = serializers.BooleanField(default=False)
        other = serializers.BooleanField(default=False)
        note = serializers.CharField(allow_blank=True, default="", max_length=2000)
        version = serializers.IntegerField(min_value=0)

        class Meta:
            ref_name = "ReadFlagsInput"

    @extend_schema(request=InputSerializer, responses=ReadOutputSerializer)
    def post(self, request, read_id: int):
        data = validated(self.InputSerializer, request.data)
        note, version = data.pop("note"), data.pop("version")
        read = read_flags_set(
            read_id=read_id, reader=request.user, flags=data, note=note, expected_version=version
        )
        return Response(ReadOutputSerializer(read).data)


class ReadCompleteApi(APIView):
    """Mark the read done; 409 lists slices never shown unless ``unseen_ok`` is true."""

    permission_classes = [IsNeuroradiologist]

    class InputSerializer(serializers.Serializer):
        unseen_ok = serializers.BooleanField(default=False)

        class Meta:
            ref_name = "ReadCompleteInput"

    @extend_schema(request=InputSerializer, responses=ReadOutputSerializer)
    def post(self, request, read_id: int):
        data = validated(self.InputSerializer, request.data)
        read = read_complete(read_id=read_id, reader=request.user, unseen_ok=data["unseen_ok"])
        return Response(ReadOutputSerializer(read).data, status=status.HTTP_200_OK)


class ScanLabelApi(APIView):
    """GET the scan-level labels of the reader's own read (``version`` 0: never saved), POST
    them with the version edited; a stale version gets 409 with the current values."""

    permission_classes = [IsNeuroradiologist]

    class InputSerializer(LabelValuesInputSerializer):
        class Meta:
            ref_name = "ScanLabelSaveInput"

    @extend_schema(responses=ScanLabelOutputSerializer)
    def get(self, request, read_id: int):
        read, label = scan_label_for_reader(read_id=read_id, reader=request.user)
        if label is None:
            empty = dict.fromkeys(LABEL_FIELDS, False)
            return Response({**empty, "any": False, "version": 0, "level": read.level})
        return Response({**ScanLabelOutputSerializer(label).data, "level": read.level})

    @extend_schema(request=InputSerializer, responses=ScanLabelOutputSerializer)
    def post(self, request, read_id: int):
        data = validated(self.InputSerializer, request.data)
        label = scan_label_save(
            read_id=read_id,
            reader=request.user,
            values=sent_label_values(data),
            expected_version=data["version"],
        )
        return Response(ScanLabelOutputSerializer(label).data)


class SliceFileApi(APIView):
    """The stored file of slice ``position_index`` of a scan (Cornerstone: ``wadouri:<url>``)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OpenApiResponse(description="application/dicom")})
    def get(self, request, scan_id: int, position_index: int):
        try:
            slice_ = slice_get_for_viewer(
                scan_id=scan_id, position_index=position_index, user=request.user
            )
        except Slice.DoesNotExist:
            raise Http404 from None
        return slice_file_response(request, slice_)


def slice_file_response(request, slice_: Slice) -> HttpResponse:
    """The stored DICOM file of a slice the caller may see, or 304 where their copy is current
    (its ETag is the file's SHA-256)."""
    etag = f'"{slice_.sha256}"'
    response: HttpResponse
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = FileResponse(_stored(slice_), content_type="application/dicom")
        response["Content-Length"] = str(slice_.file_size)
    response["ETag"] = etag
    # Private: the files are per-user data; immutable: a stored slice never changes.
    patch_cache_control(response, private=True, max_age=86400, immutable=True)
    return response


def _stored(slice_: Slice):
    """The slice's stored file, open; a file gone from the store is a 404 that says so (and an
    error in the log: the database promises a file the storage lost)."""
    try:
        return default_storage.open(slice_.storage_key, "rb")
    except FileNotFoundError:
        logger.error(
            "slice %s of scan %s: stored file %s is missing",
            slice_.position_index,
            slice_.scan_id,
            slice_.storage_key,
        )
        raise NotFound(
            f"The stored file of slice {slice_.position_index} of this scan is missing "
            "from the data folder; the scan must be imported again."
        ) from None
