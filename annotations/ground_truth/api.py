"""Ground-truth versions: list, freeze, release, their scan and slice labels, and the comparison of
two versions, for coordinators and ML engineers; and the reader's own view of released versions
(``Reader*Api``: the labels of the scans they read and nothing else), with serializers and schema
components of its own.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.ground_truth.selectors import (
    SCAN_CHANGES,
    ground_truth_compare,
    ground_truth_scan_changes,
    ground_truth_scan_label_list,
    ground_truth_scan_label_list_for_reader,
    ground_truth_slice_label_list,
    ground_truth_slice_label_list_for_reader,
    ground_truth_version_get,
    ground_truth_version_get_for_reader,
    ground_truth_version_list,
    ground_truth_version_list_for_reader,
)
from annotations.ground_truth.services import (
    ground_truth_freeze,
    ground_truth_release,
    ground_truth_release_consequences,
)
from annotations.models import GroundTruthVersion
from annotations.permissions import IsCoordinator, IsCoordinatorOrMLEngineer, IsNeuroradiologist
from ichlabel.api import validated


class LabelValuesSerializer(serializers.Serializer):
    any = serializers.BooleanField(source="any_ich")
    iph = serializers.BooleanField()
    ivh = serializers.BooleanField()
    sah = serializers.BooleanField()
    sdh = serializers.BooleanField()
    edh = serializers.BooleanField()
    reads = serializers.IntegerField()
    adjudicated = serializers.BooleanField()


class GroundTruthVersionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    note = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()
    content_sha256 = serializers.CharField()
    released = serializers.BooleanField()
    released_at = serializers.DateTimeField(allow_null=True)
    scan_count = serializers.IntegerField()
    slice_count = serializers.IntegerField()
    pending_scan_count = serializers.IntegerField()
    counts = serializers.JSONField()


class GroundTruthVersionListApi(APIView):
    permission_classes = [IsCoordinatorOrMLEngineer]
    # Declared for the schema (a paginated answer); get() pages the list itself.
    pagination_class = LimitOffsetPagination

    @extend_schema(responses=GroundTruthVersionOutputSerializer(many=True))
    def get(self, request):
        versions = ground_truth_version_list(user=request.user)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(versions, request, view=self)
        return paginator.get_paginated_response(
            GroundTruthVersionOutputSerializer(page, many=True).data
        )


class GroundTruthFreezeApi(APIView):
    """Freeze the ground truth of every scan whose reads are all done into a new version."""

    permission_classes = [IsCoordinator]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        note = serializers.CharField(allow_blank=True, default="", max_length=5000)

        class Meta:
            ref_name = "GroundTruthFreezeInput"

    @extend_schema(request=InputSerializer, responses={201: GroundTruthVersionOutputSerializer})
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        version = ground_truth_freeze(name=data["name"], note=data["note"], created_by=request.user)
        return Response(
            GroundTruthVersionOutputSerializer(version).data, status=status.HTTP_201_CREATED
        )


class GroundTruthVersionDetailApi(APIView):
    permission_classes = [IsCoordinatorOrMLEngineer]

    @extend_schema(responses=GroundTruthVersionOutputSerializer)
    def get(self, request, version_id: int):
        version = ground_truth_version_get(version_id=version_id, user=request.user)
        return Response(GroundTruthVersionOutputSerializer(version).data)


class GroundTruthReleaseApi(APIView):
    permission_classes = [IsCoordinator]

    @extend_schema(request=None, responses=GroundTruthVersionOutputSerializer)
    def post(self, request, version_id: int):
        version = ground_truth_release(version_id=version_id, released_by=request.user)
        return Response(GroundTruthVersionOutputSerializer(version).data)


class GroundTruthReleaseConsequencesApi(APIView):
    """Who would see what once the version is released (asked before the release)."""

    permission_classes = [IsCoordinator]

    class OutputSerializer(serializers.Serializer):
        version = serializers.IntegerField()
        name = serializers.CharField()
        scans = serializers.IntegerField()
        slices = serializers.IntegerField()
        readers = serializers.IntegerField()
        reader_scans = serializers.IntegerField()
        scans_still_read = serializers.IntegerField()
        refusal = serializers.CharField()

        class Meta:
            ref_name = "GroundTruthReleaseConsequences"

    @extend_schema(responses=OutputSerializer)
    def get(self, request, version_id: int):
        consequences = ground_truth_release_consequences(version_id=version_id)
        return Response(self.OutputSerializer(consequences).data)


class GroundTruthScanLabelListApi(APIView):
    """The scan labels of a version."""

    permission_classes = [IsCoordinatorOrMLEngineer]
    # Declared for the schema (a paginated answer); get() pages the list itself.
    pagination_class = LimitOffsetPagination

    class OutputSerializer(LabelValuesSerializer):
        scan = serializers.IntegerField(source="scan_id")
        series_instance_uid = serializers.CharField(source="scan.series_instance_uid")
        center = serializers.CharField(source="scan.center.name")
        split = serializers.CharField(source="scan.split")
        level = serializers.CharField()
        positive_slices = serializers.IntegerField()

        class Meta:
            ref_name = "GroundTruthScanLabel"

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request, version_id: int):
        version = ground_truth_version_get(version_id=version_id, user=request.user)
        labels = ground_truth_scan_label_list(version=version, user=request.user)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(labels, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class GroundTruthSliceLabelListApi(APIView):
    permission_classes = [IsCoordinatorOrMLEngineer]

    class OutputSerializer(LabelValuesSerializer):
        slice_index = serializers.IntegerField(source="slice.position_index")
        sop_instance_uid = serializers.CharField(source="slice.sop_instance_uid")

        class Meta:
            ref_name = "GroundTruthSliceLabel"

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request, version_id: int, scan_id: int):
        version = ground_truth_version_get(version_id=version_id, user=request.user)
        labels = ground_truth_slice_label_list(version=version, user=request.user, scan_id=scan_id)
        return Response(self.OutputSerializer(labels, many=True).data)


class GroundTruthCompareApi(APIView):
    """What differs between versions ``a`` and ``b``: counts per level and class, and the
    first ``limit`` changed slices and scans with both label sets."""

    permission_classes = [IsCoordinatorOrMLEngineer]

    class FilterSerializer(serializers.Serializer):
        a = serializers.IntegerField()
        b = serializers.IntegerField()
        limit = serializers.IntegerField(min_value=0, max_value=10_000, default=200)

        class Meta:
            ref_name = "GroundTruthCompareFilter"

    @extend_schema(parameters=[FilterSerializer], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        query = validated(self.FilterSerializer, request.query_params)
        version_a = GroundTruthVersion.objects.get(pk=query["a"])
        version_b = GroundTruthVersion.objects.get(pk=query["b"])
        return Response(
            ground_truth_compare(version_a=version_a, version_b=version_b, limit=query["limit"])
        )


class GroundTruthScanChangesApi(APIView):
    """The scans that changed from version ``a`` to ``b`` (scan or slice labels, split; added,
    removed), counted per kind and class, and a page of them with why: the second reads asked
    for (their recorded reason), adjudication decisions, reads completed or withdrawn."""

    permission_classes = [IsCoordinatorOrMLEngineer]

    class FilterSerializer(serializers.Serializer):
        a = serializers.IntegerField()
        b = serializers.IntegerField()
        change = serializers.ChoiceField(choices=SCAN_CHANGES, required=False)
        limit = serializers.IntegerField(min_value=0, max_value=1000, default=100)
        offset = serializers.IntegerField(min_value=0, default=0)

        class Meta:
            ref_name = "GroundTruthScanChangesFilter"

    @extend_schema(parameters=[FilterSerializer], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        query = validated(self.FilterSerializer, request.query_params)
        version_a = ground_truth_version_get(version_id=query["a"], user=request.user)
        version_b = ground_truth_version_get(version_id=query["b"], user=request.user)
        changes = ground_truth_scan_changes(
            version_a=version_a,
            version_b=version_b,
            change=query.get("change"),
            limit=query["limit"],
            offset=query["offset"],
        )
        return Response(changes)


# --- the reader's view of released versions -------------------------------------------------


class ClassValuesSerializer(serializers.Serializer):
    """The ground truth's classes, and nothing of how they were reached."""

    any = serializers.BooleanField(source="any_ich")
    iph = serializers.BooleanField()
    ivh = serializers.BooleanField()
    sah = serializers.BooleanField()
    sdh = serializers.BooleanField()
    edh = serializers.BooleanField()


class ReaderGroundTruthVersionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    released_at = serializers.DateTimeField()
    scan_count = serializers.IntegerField(
        source="scan_count_for_reader", help_text="Scans you read in this version"
    )

    class Meta:
        ref_name = "ReaderGroundTruthVersion"


class ReaderGroundTruthVersionListApi(APIView):
    """Released versions that hold scans you read."""

    permission_classes = [IsNeuroradiologist]
    pagination_class = LimitOffsetPagination

    @extend_schema(responses=ReaderGroundTruthVersionOutputSerializer(many=True))
    def get(self, request):
        versions = ground_truth_version_list_for_reader(reader=request.user)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(versions, request, view=self)
        return paginator.get_paginated_response(
            ReaderGroundTruthVersionOutputSerializer(page, many=True).data
        )


class ReaderGroundTruthVersionDetailApi(APIView):
    permission_classes = [IsNeuroradiologist]

    @extend_schema(responses=ReaderGroundTruthVersionOutputSerializer)
    def get(self, request, version_id: int):
        version = ground_truth_version_get_for_reader(version_id=version_id, reader=request.user)
        return Response(ReaderGroundTruthVersionOutputSerializer(version).data)


class ReaderGroundTruthScanLabelListApi(APIView):
    """The version's labels of the scans you read, each with your read of it."""

    permission_classes = [IsNeuroradiologist]
    pagination_class = LimitOffsetPagination

    class OutputSerializer(ClassValuesSerializer):
        scan = serializers.IntegerField(source="scan_id")
        read = serializers.IntegerField(source="read_id", help_text="Your read of the scan")
        level = serializers.CharField()
        positive_slices = serializers.IntegerField(allow_null=True)

        class Meta:
            ref_name = "ReaderGroundTruthScanLabel"

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request, version_id: int):
        version = ground_truth_version_get_for_reader(version_id=version_id, reader=request.user)
        labels = ground_truth_scan_label_list_for_reader(version=version, reader=request.user)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(labels, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class ReaderGroundTruthSliceLabelListApi(APIView):
    permission_classes = [IsNeuroradiologist]

    class OutputSerializer(ClassValuesSerializer):
        slice_index = serializers.IntegerField(source="slice.position_index")

        class Meta:
            ref_name = "ReaderGroundTruthSliceLabel"

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request, version_id: int, scan_id: int):
        version = ground_truth_version_get_for_reader(version_id=version_id, reader=request.user)
        labels = ground_truth_slice_label_list_for_reader(
            version=version, reader=request.user, scan_id=scan_id
        )
        return Response(self.OutputSerializer(labels, many=True).data)
