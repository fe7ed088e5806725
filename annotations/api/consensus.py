"""REST API of consensus: the adjudication queue (coordinators) and ground-truth versions
(frozen and released by coordinators; listed for coordinators and ML engineers, and for
readers once released, limited to the scans they read)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import selectors
from annotations.models import (
    SUBTYPES,
    AdjudicationReason,
    AdjudicationStatus,
    GroundTruthVersion,
    Role,
    Split,
)
from annotations.permissions import IsCoordinator, IsCoordinatorOrMLEngineer, user_has_role
from annotations.services.adjudication import (
    adjudication_item_resolve,
    adjudication_missing_reads_refresh,
    adjudication_split_votes_create,
)
from annotations.services.consensus import ground_truth_freeze, ground_truth_release
from ichlabel.api import validated


class IsStudyMember(IsAuthenticated):
    """Coordinators, ML engineers and readers; the selectors narrow what each one sees."""

    message = "Only members of the study may see ground truth."

    def has_permission(self, request, view) -> bool:
        return user_has_role(
            request.user, Role.COORDINATOR, Role.ML_ENGINEER, Role.NEURORADIOLOGIST
        )


class LabelValuesSerializer(serializers.Serializer):
    any = serializers.BooleanField(source="any_ich")
    iph = serializers.BooleanField()
    ivh = serializers.BooleanField()
    sah = serializers.BooleanField()
    sdh = serializers.BooleanField()
    edh = serializers.BooleanField()
    reads = serializers.IntegerField()
    adjudicated = serializers.BooleanField()


class AdjudicationItemOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    scan = serializers.IntegerField(source="scan_id")
    center = serializers.CharField(source="scan.center.name")
    split = serializers.CharField(source="scan.split")
    slice_index = serializers.IntegerField(source="slice.position_index", default=None)
    label = serializers.CharField()
    reason = serializers.CharField()
    status = serializers.CharField()
    positive_votes = serializers.IntegerField()
    total_votes = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField()
    decided_by = serializers.CharField(source="decided_by.username", default=None)
    decision_reason = serializers.CharField()


class AdjudicationItemListApi(APIView):
    permission_classes = [IsCoordinator]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=AdjudicationStatus.choices, required=False)
        reason = serializers.ChoiceField(choices=AdjudicationReason.choices, required=False)
        scan = serializers.IntegerField(required=False)

        class Meta:
            ref_name = "AdjudicationItemListFilter"

    @extend_schema(
        parameters=[FilterSerializer], responses=AdjudicationItemOutputSerializer(many=True)
    )
    def get(self, request):
        filters = validated(self.FilterSerializer, request.query_params)
        items = selectors.adjudication_item_list(
            status=filters.get("status"), reason=filters.get("reason"), scan_id=filters.get("scan")
        )
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(items, request, view=self)
        return paginator.get_paginated_response(
            AdjudicationItemOutputSerializer(page, many=True).data
        )


class AdjudicationItemDetailApi(APIView):
    """One item with every read of its scan and what each says (the adjudicator's view)."""

    permission_classes = [IsCoordinator]

    class OutputSerializer(AdjudicationItemOutputSerializer):
        votes = serializers.ListField(child=serializers.DictField())
        decision = serializers.ListField(child=serializers.DictField())

        class Meta:
            ref_name = "AdjudicationItemDetail"

    @extend_schema(responses=OutputSerializer)
    def get(self, request, item_id: int):
        item = selectors.adjudication_item_get(item_id=item_id)
        item.votes = selectors.adjudication_item_votes(item=item)
        item.decision = selectors.adjudication_item_decision(item=item)
        return Response(self.OutputSerializer(item).data)


class AdjudicationMissingReadsRefreshApi(APIView):
    """Open items for scans short of reads; retire those whose scans have their reads."""

    permission_classes = [IsCoordinator]

    class OutputSerializer(serializers.Serializer):
        created = serializers.IntegerField()
        obsolete = serializers.IntegerField()

        class Meta:
            ref_name = "AdjudicationMissingReadsOutput"

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request):
        return Response(self.OutputSerializer(adjudication_missing_reads_refresh()).data)


class AdjudicationSplitVotesCreateApi(APIView):
    """Queue the 2:1 votes on the chosen subtypes among scans whose reads are all done."""

    permission_classes = [IsCoordinator]

    class InputSerializer(serializers.Serializer):
        subtypes = serializers.ListField(
            child=serializers.ChoiceField(choices=SUBTYPES), min_length=1
        )
        center = serializers.IntegerField(required=False)
        split = serializers.ChoiceField(choices=Split.choices, required=False)
        scans = serializers.ListField(child=serializers.IntegerField(), required=False)

        class Meta:
            ref_name = "AdjudicationSplitVotesInput"

    class OutputSerializer(serializers.Serializer):
        created = serializers.IntegerField()

        class Meta:
            ref_name = "AdjudicationSplitVotesOutput"

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        created = adjudication_split_votes_create(
            subtypes=data["subtypes"],
            created_by=request.user,
            center_id=data.get("center"),
            split=data.get("split"),
            scan_ids=data.get("scans"),
        )
        return Response({"created": created}, status=status.HTTP_201_CREATED)


class SubtypeValuesSerializer(serializers.Serializer):
    iph = serializers.BooleanField(default=False)
    ivh = serializers.BooleanField(default=False)
    sah = serializers.BooleanField(default=False)
    sdh = serializers.BooleanField(default=False)
    edh = serializers.BooleanField(default=False)


class SliceDecisionSerializer(SubtypeValuesSerializer):
    slice_index = serializers.IntegerField(min_value=0)


class AdjudicationItemResolveApi(APIView):
    """Decide an item: ``value`` for a split vote; for a missing read, ``slices`` (the positive
    slices with their subtypes; others are negative) or ``scan`` (scan-level reads)."""

    permission_classes = [IsCoordinator]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=2000)
        value = serializers.BooleanField(required=False, allow_null=True, default=None)
        slices = SliceDecisionSerializer(many=True, required=False, allow_null=True, default=None)
        scan = SubtypeValuesSerializer(required=False, allow_null=True, default=None)

        class Meta:
            ref_name = "AdjudicationResolveInput"

    @extend_schema(request=InputSerializer, responses=AdjudicationItemOutputSerializer)
    def post(self, request, item_id: int):
        data = validated(self.InputSerializer, request.data)
        item = adjudication_item_resolve(
            item_id=item_id,
            decided_by=request.user,
            reason=data["reason"],
            value=data["value"],
            slices=[dict(entry) for entry in data["slices"]] if data["slices"] else None,
            scan_values=dict(data["scan"]) if data["scan"] else None,
        )
        item = selectors.adjudication_item_get(item_id=item.pk)
        return Response(AdjudicationItemOutputSerializer(item).data)


class GroundTruthVersionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    note = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()
    content_sha256 = serializers.CharField()
    released = serializers.BooleanField()
    released_at = serializers.DateTimeField()
    scan_count = serializers.IntegerField()
    slice_count = serializers.IntegerField()
    pending_scan_count = serializers.IntegerField()
    counts = serializers.JSONField()


class GroundTruthVersionListApi(APIView):
    permission_classes = [IsStudyMember]

    @extend_schema(responses=GroundTruthVersionOutputSerializer(many=True))
    def get(self, request):
        versions = selectors.ground_truth_version_list(user=request.user)
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
    permission_classes = [IsStudyMember]

    @extend_schema(responses=GroundTruthVersionOutputSerializer)
    def get(self, request, version_id: int):
        version = selectors.ground_truth_version_get(version_id=version_id, user=request.user)
        return Response(GroundTruthVersionOutputSerializer(version).data)


class GroundTruthReleaseApi(APIView):
    permission_classes = [IsCoordinator]

    @extend_schema(request=None, responses=GroundTruthVersionOutputSerializer)
    def post(self, request, version_id: int):
        version = ground_truth_release(version_id=version_id, released_by=request.user)
        return Response(GroundTruthVersionOutputSerializer(version).data)


class GroundTruthScanLabelListApi(APIView):
    """The scan labels of a version (a reader: released versions, scans they read)."""

    permission_classes = [IsStudyMember]

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
        version = selectors.ground_truth_version_get(version_id=version_id, user=request.user)
        labels = selectors.ground_truth_scan_label_list(version=version, user=request.user)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(labels, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class GroundTruthSliceLabelListApi(APIView):
    permission_classes = [IsStudyMember]

    class OutputSerializer(LabelValuesSerializer):
        slice_index = serializers.IntegerField(source="slice.position_index")
        sop_instance_uid = serializers.CharField(source="slice.sop_instance_uid")

        class Meta:
            ref_name = "GroundTruthSliceLabel"

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request, version_id: int, scan_id: int):
        version = selectors.ground_truth_version_get(version_id=version_id, user=request.user)
        labels = selectors.ground_truth_slice_label_list(
            version=version, user=request.user, scan_id=scan_id
        )
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
            selectors.ground_truth_compare(
                version_a=version_a, version_b=version_b, limit=query["limit"]
            )
        )
