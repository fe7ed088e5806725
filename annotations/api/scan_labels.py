"""REST API of scan-level reading (the prospective test set): the scan-level labels of a read.
Readers only, on their own active reads: another reader's read is a 404. (The worklist and a
read's detail, in the reads API, carry each read's ``level`` and ``scan_label``.)"""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import selectors
from annotations.api.reads import LabelValuesInputSerializer, ScanLabelOutputSerializer
from annotations.models import LABEL_FIELDS
from annotations.permissions import IsNeuroradiologist
from annotations.services.scan_labels import scan_label_save
from ichlabel.api import validated


class ScanLabelApi(APIView):
    """GET the scan-level labels of the reader's own read (``version`` 0: never saved), POST
    them with the version edited; a stale version gets 409 with the current values."""

    permission_classes = [IsNeuroradiologist]

    class InputSerializer(LabelValuesInputSerializer):
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
