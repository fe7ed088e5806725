"""REST API of scan-level reading (the prospective test set) and the reader's view of a read's
level. Readers only, on their own active reads: another reader's read is a 404.

The worklist and a read's detail come from the reads API with two more fields: ``level``
("slice" or "scan") and ``scan_label`` (the scan-level labels, or None while never saved or for
a slice-level read). A read's kind (primary or cross) is never shown to readers: it would tell
a cross-reader that another read of the scan exists."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import selectors
from annotations.api import reads
from annotations.models import LABEL_FIELDS, Read, ScanLabel
from annotations.permissions import IsNeuroradiologist
from annotations.services.scan_labels import scan_label_save
from ichlabel.api import validated


class ScanLabelOutputSerializer(serializers.Serializer):
    iph = serializers.BooleanField()
    ivh = serializers.BooleanField()
    sah = serializers.BooleanField()
    sdh = serializers.BooleanField()
    edh = serializers.BooleanField()
    no_hemorrhage = serializers.BooleanField()
    any = serializers.BooleanField()
    version = serializers.IntegerField()


def _scan_label_of(read: Read) -> dict | None:
    try:
        label = read.scan_label
    except ScanLabel.DoesNotExist:
        return None
    return ScanLabelOutputSerializer(label).data


class ReaderWorklistApi(reads.WorklistApi):
    """The reader's worklist: open reads first, then in each reader's own random order."""

    class OutputSerializer(reads.WorklistApi.OutputSerializer):
        level = serializers.CharField()
        scan_label = serializers.SerializerMethodField()

        class Meta:
            ref_name = "WorklistReadWithLevel"

        def get_scan_label(self, read: Read) -> dict | None:
            return _scan_label_of(read)

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        worklist = selectors.worklist_for_reader(reader=request.user)
        return Response(self.OutputSerializer(worklist, many=True).data)


class ReaderReadDetailApi(reads.ReadDetailApi):
    class OutputSerializer(reads.ReadDetailApi.OutputSerializer):
        level = serializers.CharField()
        scan_label = serializers.SerializerMethodField()

        class Meta:
            ref_name = "ReadWithLabelsAndLevel"

        def get_scan_label(self, read: Read) -> dict | None:
            return _scan_label_of(read)

    @extend_schema(responses=OutputSerializer)
    def get(self, request, read_id: int):
        read = selectors.read_get_for_reader(read_id=read_id, reader=request.user)
        return Response(self.OutputSerializer(read).data)


class ScanLabelApi(APIView):
    """GET the scan-level labels of the reader's own read (``version`` 0: never saved), POST
    them with the version edited; a stale version gets 409 with the current values."""

    permission_classes = [IsNeuroradiologist]

    class InputSerializer(serializers.Serializer):
        version = serializers.IntegerField(min_value=0)
        iph = serializers.BooleanField(default=False)
        ivh = serializers.BooleanField(default=False)
        sah = serializers.BooleanField(default=False)
        sdh = serializers.BooleanField(default=False)
        edh = serializers.BooleanField(default=False)
        no_hemorrhage = serializers.BooleanField(default=False)

        class Meta:
            ref_name = "ScanLabelSaveInput"

    @extend_schema(responses=ScanLabelOutputSerializer)
    def get(self, request, read_id: int):
        read, label = selectors.scan_label_for_reader(read_id=read_id, reader=request.user)
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
            values={name: data[name] for name in LABEL_FIELDS},
            expected_version=data["version"],
        )
        return Response(ScanLabelOutputSerializer(label).data)
