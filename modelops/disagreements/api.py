"""The disagreement list of a model version, a selection of it sent to a blinded second read,
and scoring runs for scans the version has no score of.

Coordinators and ML engineers see the list; only coordinators send scans to a second read
(they run the reading); readers see none of it (the model's output is blinded to them).
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.assignment.services import neuroradiologist_list
from annotations.models import JobStatus, Split
from annotations.permissions import IsCoordinator, IsCoordinatorOrMLEngineer
from annotations.vocabulary import HEMORRHAGE_CLASSES
from ichlabel.api import validated
from ichlabel.errors import InvalidInput
from modelops.disagreements.selectors import (
    KINDS,
    SECOND_READ_STATES,
    SOURCES,
    disagreement_list,
    disagreement_rows,
    unscored_scan_ids,
)
from modelops.disagreements.services import (
    SCORING_MAX_SCANS,
    SEND_MAX_SCANS,
    disagreements_send,
    scan_scoring_cancel,
    scan_scoring_request,
)
from modelops.models import ModelVersion, ScanScoringRun


class DisagreementFilterSerializer(serializers.Serializer):
    hemorrhage_class = serializers.ChoiceField(choices=HEMORRHAGE_CLASSES, required=False)
    kind = serializers.ChoiceField(choices=KINDS, required=False)
    source = serializers.ChoiceField(choices=SOURCES, required=False)
    split = serializers.ChoiceField(choices=Split.choices, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    offset = serializers.IntegerField(min_value=0, required=False)


class SecondReadStateSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=SECOND_READ_STATES)
    reader = serializers.CharField(allow_null=True)
    open_items = serializers.IntegerField(allow_null=True)
    settled_in = serializers.CharField(allow_null=True, help_text="The ground-truth version")
    reason = serializers.DictField(allow_null=True, help_text="Why it was sent")


class DisagreementSerializer(serializers.Serializer):
    rank = serializers.IntegerField(help_text="1 = the most confident of the filtered list")
    scan = serializers.IntegerField(source="scan_id")
    hemorrhage_class = serializers.ChoiceField(choices=HEMORRHAGE_CLASSES)
    kind = serializers.ChoiceField(choices=KINDS)
    source = serializers.ChoiceField(choices=SOURCES)
    split = serializers.CharField()
    score = serializers.FloatField()
    threshold = serializers.FloatField()
    confidence = serializers.FloatField(
        help_text="How far the score lies beyond the threshold, as a share of the room there"
    )
    reads = serializers.IntegerField(help_text="Completed reads behind the reference")
    second_read = SecondReadStateSerializer()


class DisagreementListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = DisagreementSerializer(many=True)
    counts = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text="Class -> kind -> count, over the source and split asked for",
    )
    thresholds = serializers.DictField(
        child=serializers.FloatField(),
        help_text="Class -> frozen threshold; empty for a version that was not evaluated",
    )
    scored_scans = serializers.IntegerField()


class DisagreementListApi(APIView):
    """Scans on which the version, at its frozen thresholds, disagrees with the ground truth
    of its snapshot or with a training scan's single read: most confident first, paged
    (``limit``, ``offset``), with counts per class and kind."""

    permission_classes = [IsCoordinatorOrMLEngineer]
    pagination_class = LimitOffsetPagination
    FilterSerializer = DisagreementFilterSerializer

    @extend_schema(parameters=[DisagreementFilterSerializer], responses=DisagreementListSerializer)
    def get(self, request, version_id: int):
        version = get_object_or_404(ModelVersion.objects.select_related("snapshot"), pk=version_id)
        filters = validated(DisagreementFilterSerializer, request.query_params)
        filters.pop("limit", None)
        filters.pop("offset", None)
        found = disagreement_list(version=version, **filters)
        paginator = LimitOffsetPagination()
        paginator.default_limit = 50
        page = paginator.paginate_queryset(found.items, request, view=self) or []
        body = {
            "count": paginator.count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": disagreement_rows(page, first_rank=paginator.offset + 1),
            "counts": found.counts,
            "thresholds": found.thresholds,
            "scored_scans": found.scored_scans,
        }
        return Response(DisagreementListSerializer(body).data)


class DisagreementChoiceSerializer(serializers.Serializer):
    scan = serializers.IntegerField(min_value=1)
    hemorrhage_class = serializers.ChoiceField(choices=HEMORRHAGE_CLASSES)
    source = serializers.ChoiceField(choices=SOURCES)

    class Meta:
        ref_name = "DisagreementChoice"


class DisagreementSentSerializer(serializers.Serializer):
    scan = serializers.IntegerField()
    reader = serializers.CharField()
    reason = serializers.DictField()

    class Meta:
        ref_name = "DisagreementSent"


class DisagreementRefusedSerializer(serializers.Serializer):
    scan = serializers.IntegerField()
    code = serializers.CharField()
    reason = serializers.CharField()

    class Meta:
        ref_name = "DisagreementRefused"


class DisagreementSendApi(APIView):
    """Send chosen disagreements' scans to a blinded second read (coordinators). Each item
    names a listed disagreement (scan, class, source); its kind and score are taken from the
    list, not from the request, and recorded as the reason. ``reader`` picks the second
    reader; without it the read goes to the eligible reader with the fewest open reads."""

    permission_classes = [IsCoordinator]

    class InputSerializer(serializers.Serializer):
        items = DisagreementChoiceSerializer(many=True, min_length=1, max_length=SEND_MAX_SCANS)
        reader = serializers.IntegerField(
            min_value=1, required=False, allow_null=True, help_text="None: balanced"
        )

        class Meta:
            ref_name = "DisagreementSendInput"

    class OutputSerializer(serializers.Serializer):
        sent = DisagreementSentSerializer(many=True)
        refused = DisagreementRefusedSerializer(many=True)

        class Meta:
            ref_name = "DisagreementSendResult"

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request, version_id: int):
        version = get_object_or_404(ModelVersion.objects.select_related("snapshot"), pk=version_id)
        data = validated(self.InputSerializer, request.data)
        items = [dict(item) for item in data["items"]]
        reader = None
        if data.get("reader"):
            reader = neuroradiologist_list().filter(pk=data["reader"]).first()
            if reader is None:
                raise InvalidInput("No such neuroradiologist.", extra={"field": "reader"})
        result = disagreements_send(
            version=version, selections=items, requested_by=request.user, reader=reader
        )
        return Response(self.OutputSerializer(result).data)


class ScanScoringRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    model_version = serializers.IntegerField(source="model_version_id")
    status = serializers.ChoiceField(choices=JobStatus.choices)
    message = serializers.CharField()
    progress = serializers.FloatField()
    scans_total = serializers.IntegerField()
    scans_done = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class ScanScoringRunListApi(APIView):
    """A version's scoring runs (GET), and a new one (POST) for the given scans, or, without
    ``scans``, for the scans of its ground truth and the training scans with a completed read
    that it has no score of (up to the limit per run)."""

    permission_classes = [IsCoordinatorOrMLEngineer]

    class InputSerializer(serializers.Serializer):
        scans = serializers.ListField(
            child=serializers.IntegerField(min_value=1),
            required=False,
            max_length=SCORING_MAX_SCANS,
        )

        class Meta:
            ref_name = "ScanScoringInput"

    @extend_schema(responses=ScanScoringRunSerializer(many=True))
    def get(self, request, version_id: int):
        version = get_object_or_404(ModelVersion, pk=version_id)
        runs = ScanScoringRun.objects.filter(model_version=version)[:50]
        return Response(ScanScoringRunSerializer(runs, many=True).data)

    class NothingSerializer(serializers.Serializer):
        message = serializers.CharField()

        class Meta:
            ref_name = "ScanScoringNothingToDo"

    @extend_schema(
        request=InputSerializer, responses={201: ScanScoringRunSerializer, 200: NothingSerializer}
    )
    def post(self, request, version_id: int):
        version = get_object_or_404(ModelVersion.objects.select_related("snapshot"), pk=version_id)
        data = validated(self.InputSerializer, request.data)
        scans = data.get("scans") or unscored_scan_ids(version)[:SCORING_MAX_SCANS]
        if not scans:
            return Response({"message": "Every scan already has a score."})
        run = scan_scoring_request(model_version=version, scans=scans, requested_by=request.user)
        if run is None:
            return Response({"message": "Every scan already has a score or is being scored."})
        return Response(ScanScoringRunSerializer(run).data, status=status.HTTP_201_CREATED)


class ScanScoringRunCancelApi(APIView):
    """Cancel a scoring run of the version (the scores it stored so far are kept)."""

    permission_classes = [IsCoordinatorOrMLEngineer]

    @extend_schema(request=None, responses=ScanScoringRunSerializer)
    def post(self, request, version_id: int, scoring_run_id: int):
        run = get_object_or_404(ScanScoringRun, pk=scoring_run_id, model_version_id=version_id)
        return Response(ScanScoringRunSerializer(scan_scoring_cancel(run=run)).data)
