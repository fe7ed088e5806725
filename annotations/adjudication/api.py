"""The coordinator's adjudication API: open items, missing reads, split votes, resolving an item."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.adjudication.selectors import (
    adjudication_decision_text,
    adjudication_item_decision,
    adjudication_item_get,
    adjudication_item_list,
    adjudication_item_slices,
    adjudication_item_votes,
)
from annotations.adjudication.services import (
    adjudication_item_resolve,
    adjudication_missing_reads_refresh,
    adjudication_split_votes_create,
)
from annotations.models import (
    SUBTYPES,
    AdjudicationItem,
    AdjudicationReason,
    AdjudicationStatus,
    Split,
)
from annotations.permissions import IsCoordinator
from ichlabel.api import validated


class AdjudicationItemOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    scan = serializers.IntegerField(source="scan_id")
    center = serializers.CharField(source="scan.center.name")
    split = serializers.ChoiceField(choices=Split.choices, source="scan.split")
    slice_index = serializers.IntegerField(
        source="slice.position_index", default=None, allow_null=True, read_only=True
    )
    label = serializers.CharField()
    reason = serializers.ChoiceField(choices=AdjudicationReason.choices)
    status = serializers.ChoiceField(choices=AdjudicationStatus.choices)
    positive_votes = serializers.IntegerField(allow_null=True)
    total_votes = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decided_by = serializers.CharField(
        source="decided_by.username", default=None, allow_null=True, read_only=True
    )
    decision_reason = serializers.CharField()
    decision_text = serializers.SerializerMethodField(
        help_text="What was decided, in a few words; empty while the item is open"
    )

    def get_decision_text(self, item: AdjudicationItem) -> str:
        return adjudication_decision_text(item=item)


class AdjudicationItemListApi(APIView):
    permission_classes = [IsCoordinator]
    # Declared for the schema (a paginated answer); get() pages the list itself.
    pagination_class = LimitOffsetPagination

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
        items = adjudication_item_list(
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
        # The slices in question (the viewer's list), each with every read's labels of it.
        slices = serializers.ListField(child=serializers.DictField())

        class Meta:
            ref_name = "AdjudicationItemDetail"

    @extend_schema(responses=OutputSerializer)
    def get(self, request, item_id: int):
        item = adjudication_item_get(item_id=item_id)
        item.votes = adjudication_item_votes(item=item)
        item.decision = adjudication_item_decision(item=item)
        item.slices = adjudication_item_slices(item=item)
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
        item = adjudication_item_get(item_id=item.pk)
        return Response(AdjudicationItemOutputSerializer(item).data)
