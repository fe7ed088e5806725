"""REST API of assignment, for study coordinators: assign scans by filter (balanced, with
cross-reads), list the study's reads, reader workload, reassign and unassign a read."""

import re

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.assignment.second_reads import second_read_list, second_read_request
from annotations.assignment.selectors import (
    read_change_consequences,
    reader_workload_list,
    study_read_list,
)
from annotations.assignment.services import (
    read_reassign,
    read_unassign,
    scan_assignment_filter,
    scans_assign,
)
from annotations.assignment.uncertainty import (
    UncertaintyPool,
    uncertainty_model_get,
    uncertainty_pool,
    uncertainty_scoring_request,
)
from annotations.models import (
    ReadKind,
    ReadLevel,
    ReadStatus,
    Scan,
    SecondReadRequest,
    SecondReadState,
    Split,
)
from annotations.permissions import IsCoordinator
from ichlabel.api import validated
from ichlabel.errors import InvalidInput

# A reader id as a JSON object's key: up to 18 ASCII digits, as the path converter takes.
ID_KEY = re.compile(r"[0-9]{1,18}", re.ASCII)
ASSIGNMENT_STATUSES = ("unassigned", "assigned", "in_progress", "completed", "understaffed")
ASSIGNMENT_ORDERS = ("balanced", "uncertainty")


class StudyReadOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    scan = serializers.IntegerField(source="scan_id")
    center = serializers.CharField(source="scan.center.name")
    split = serializers.ChoiceField(choices=Split.choices, source="scan.split")
    reader = serializers.IntegerField(source="reader_id")
    reader_username = serializers.CharField(source="reader.username")
    kind = serializers.ChoiceField(choices=ReadKind.choices)
    level = serializers.ChoiceField(choices=ReadLevel.choices)
    status = serializers.ChoiceField(choices=ReadStatus.choices)
    order_key = serializers.IntegerField()
    assigned_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    withdrawn_reason = serializers.CharField()


class UncertaintyPoolSerializer(serializers.Serializer):
    model_version = serializers.IntegerField()
    model_name = serializers.CharField()
    threshold = serializers.FloatField()
    pool = serializers.IntegerField(help_text="Never-read scans of the selection")
    scored = serializers.IntegerField(help_text="Of those, scans the model version scored")
    scans = serializers.ListField(
        child=serializers.DictField(),
        help_text="Scans in assignment order: scan, score, distance to the threshold",
    )

    class Meta:
        ref_name = "UncertaintyPool"


def _pool_out(pool: UncertaintyPool | None, *, planned=None, head: int = 0) -> dict | None:
    """The pool's summary, with its first ``head`` scans or, after an assignment, the planned
    scans in the pool's order."""
    if pool is None:
        return None
    if planned is not None:
        rows = [row for row in pool.head(pool.total) if row["scan"] in planned]
    else:
        rows = pool.head(head)
    return {
        "model_version": pool.model_version,
        "model_name": pool.model_name,
        "threshold": pool.threshold,
        "pool": pool.total,
        "scored": pool.scored,
        "scans": rows,
    }


def _selection(data: dict):
    scans = Scan.objects.all()
    if data.get("center") is not None:
        scans = scans.filter(center_id=data["center"])
    if data.get("split"):
        scans = scans.filter(split=data["split"])
    return scans


def _readers(ids: list[int]) -> list:
    users = {user.pk: user for user in get_user_model().objects.filter(pk__in=ids)}
    missing = [pk for pk in ids if pk not in users]
    if missing:
        raise InvalidInput(f"No user {missing[0]}.", extra={"readers": missing})
    return [users[pk] for pk in ids]


def _read_out(read_id: int) -> dict:
    return StudyReadOutputSerializer(study_read_list().get(pk=read_id)).data


class ScansAssignApi(APIView):
    """Give the selected scans the reads their split needs: a primary read (balanced by open
    workload, capacity-aware), two blinded cross-reads for validation scans, three scan-level
    reads for test scans. ``dry_run`` returns the plan without saving it."""

    permission_classes = [IsCoordinator]

    class InputSerializer(serializers.Serializer):
        center = serializers.IntegerField(required=False)
        split = serializers.ChoiceField(choices=Split.choices, required=False)
        status = serializers.ChoiceField(choices=ASSIGNMENT_STATUSES, default="unassigned")
        scans = serializers.ListField(
            child=serializers.IntegerField(), required=False, max_length=100_000
        )
        limit = serializers.IntegerField(min_value=1, required=False)
        readers = serializers.ListField(
            child=serializers.IntegerField(), required=False, min_length=1
        )
        capacity = serializers.IntegerField(min_value=0, required=False, allow_null=True)
        capacities = serializers.DictField(
            child=serializers.IntegerField(min_value=0), required=False
        )
        seed = serializers.IntegerField(min_value=0, required=False, allow_null=True)
        dry_run = serializers.BooleanField(default=False)
        order = serializers.ChoiceField(
            choices=ASSIGNMENT_ORDERS,
            default="balanced",
            help_text="balanced: scans by id; uncertainty: never-read scans, those closest to "
            "the model version's frozen threshold for any ICH first (active learning)",
        )
        model_version = serializers.IntegerField(required=False, allow_null=True)

        class Meta:
            ref_name = "ScansAssignInput"

        def validate(self, attrs: dict) -> dict:
            if attrs.get("order") == "uncertainty" and attrs.get("model_version") is None:
                raise serializers.ValidationError(
                    {"model_version": "Choose the model version whose uncertainty orders scans."}
                )
            return attrs

        def validate_capacities(self, value: dict) -> dict:
            """Keys are reader ids (JSON keys are strings): ASCII digits, as any id."""
            for key in value:
                if not ID_KEY.fullmatch(key):
                    raise serializers.ValidationError(f"{key!r} is not a reader id.")
            return {int(key): capacity for key, capacity in value.items()}

    class OutputSerializer(serializers.Serializer):
        seed = serializers.IntegerField()
        dry_run = serializers.BooleanField()
        assigned_scans = serializers.IntegerField()
        reads = serializers.ListField(child=serializers.DictField())
        skipped = serializers.ListField(child=serializers.DictField())
        uncertainty = UncertaintyPoolSerializer(required=False, allow_null=True)

        class Meta:
            ref_name = "ScansAssignOutput"

    # 201 with the reads made; 200 for a dry run (nothing saved).
    @extend_schema(
        request=InputSerializer, responses={201: OutputSerializer, 200: OutputSerializer}
    )
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        scans = _selection(data)
        if data.get("scans") is not None:
            scans = scans.filter(pk__in=data["scans"])
        pool = None
        if data["order"] == "uncertainty":
            # Never-read scans only (the status filter is moot): most uncertain first.
            model = uncertainty_model_get(model_version_id=data["model_version"])
            pool = uncertainty_pool(scans=scans, model_version=model)
            chosen = pool.scan_ids[: data["limit"]] if data.get("limit") else pool.scan_ids
            scans = Scan.objects.filter(pk__in=chosen)
        else:
            scans = scan_assignment_filter(scans, status=data["status"]).order_by("id")
            if data.get("limit"):
                scans = Scan.objects.filter(
                    pk__in=list(scans.values_list("pk", flat=True)[: data["limit"]])
                )
        result = scans_assign(
            scans=scans,
            assigned_by=request.user,
            readers=_readers(data["readers"]) if data.get("readers") else None,
            capacity=data.get("capacity"),
            capacities=data.get("capacities", {}),
            seed=data.get("seed"),
            dry_run=data["dry_run"],
            scan_order=pool.scan_ids if pool is not None else None,
        )
        ids = {(read.scan_id, read.reader_id): read.pk for read in result.reads}
        body = {
            "seed": result.seed,
            "dry_run": result.dry_run,
            "assigned_scans": result.assigned_scans,
            "reads": [
                {
                    "id": ids.get((item.scan_id, item.reader_id)),
                    "scan": item.scan_id,
                    "reader": item.reader_id,
                    "kind": item.kind,
                    "level": item.level,
                }
                for item in result.planned
            ],
            "skipped": result.skipped,
            "uncertainty": _pool_out(pool, planned={item.scan_id for item in result.planned}),
        }
        code = status.HTTP_200_OK if result.dry_run else status.HTTP_201_CREATED
        return Response(body, status=code)


class StudyReadListApi(APIView):
    permission_classes = [IsCoordinator]
    # Declared for the schema (a paginated answer); get() pages the list itself.
    pagination_class = LimitOffsetPagination

    class FilterSerializer(serializers.Serializer):
        scan = serializers.IntegerField(required=False)
        reader = serializers.IntegerField(required=False)
        status = serializers.ChoiceField(choices=ReadStatus.choices, required=False)
        kind = serializers.ChoiceField(choices=ReadKind.choices, required=False)

        class Meta:
            ref_name = "StudyReadListFilter"

    @extend_schema(parameters=[FilterSerializer], responses=StudyReadOutputSerializer(many=True))
    def get(self, request):
        filters = validated(self.FilterSerializer, request.query_params)
        reads = study_read_list(
            scan_id=filters.get("scan"),
            reader_id=filters.get("reader"),
            status=filters.get("status"),
            kind=filters.get("kind"),
        )
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(reads, request, view=self)
        return paginator.get_paginated_response(StudyReadOutputSerializer(page, many=True).data)


class ReaderWorkloadListApi(APIView):
    permission_classes = [IsCoordinator]

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        open_reads = serializers.IntegerField()
        completed_reads = serializers.IntegerField()
        withdrawn_reads = serializers.IntegerField()

        class Meta:
            ref_name = "ReaderWorkload"

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        return Response(self.OutputSerializer(reader_workload_list(), many=True).data)


class ReadChangeApi(APIView):
    """What reassigning or unassigning a read would affect: the work it holds (kept, on a
    withdrawn read, when there is any; else the read simply moves or is deleted) and the reads
    its scan keeps. Read before the coordinator confirms either change."""

    permission_classes = [IsCoordinator]

    class OutputSerializer(serializers.Serializer):
        read = serializers.IntegerField()
        scan = serializers.IntegerField()
        reader = serializers.CharField()
        role = serializers.CharField()
        status = serializers.ChoiceField(choices=ReadStatus.choices)
        labelled_slices = serializers.IntegerField()
        scan_labelled = serializers.BooleanField()
        flags = serializers.ListField(child=serializers.CharField())
        note = serializers.BooleanField()
        has_work = serializers.BooleanField()
        scan_reads_left = serializers.IntegerField()
        scan_reads_required = serializers.IntegerField()
        scan_readers = serializers.ListField(child=serializers.IntegerField())

        class Meta:
            ref_name = "ReadChange"

    @extend_schema(responses=OutputSerializer)
    def get(self, request, read_id: int):
        return Response(self.OutputSerializer(read_change_consequences(read_id=read_id)).data)


class ReadReassignApi(APIView):
    """Give a read to another reader; a read with labels needs ``force`` (it is withdrawn,
    kept with its audit, and the new reader starts afresh)."""

    permission_classes = [IsCoordinator]

    class InputSerializer(serializers.Serializer):
        reader = serializers.IntegerField()
        force = serializers.BooleanField(default=False)
        reason = serializers.CharField(allow_blank=True, default="", max_length=2000)

        class Meta:
            ref_name = "ReadReassignInput"

    @extend_schema(request=InputSerializer, responses=StudyReadOutputSerializer)
    def post(self, request, read_id: int):
        data = validated(self.InputSerializer, request.data)
        (reader,) = _readers([data["reader"]])
        read = read_reassign(
            read_id=read_id,
            reader=reader,
            by=request.user,
            force=data["force"],
            reason=data["reason"],
        )
        return Response(_read_out(read.pk))


class ReadUnassignApi(APIView):
    """Take a read back: deleted if no work was done (204), else withdrawn with ``force``
    (200 with the withdrawn read)."""

    permission_classes = [IsCoordinator]

    class InputSerializer(serializers.Serializer):
        force = serializers.BooleanField(default=False)
        reason = serializers.CharField(allow_blank=True, default="", max_length=2000)

        class Meta:
            ref_name = "ReadUnassignInput"

    @extend_schema(request=InputSerializer, responses={200: StudyReadOutputSerializer, 204: None})
    def post(self, request, read_id: int):
        data = validated(self.InputSerializer, request.data)
        read = read_unassign(
            read_id=read_id, by=request.user, force=data["force"], reason=data["reason"]
        )
        if read is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(_read_out(read.pk))


# --- second reads on request ---------------------------------------------------------------


class SecondReadOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    scan = serializers.IntegerField(source="scan_id")
    read = serializers.IntegerField(source="read_id", allow_null=True)
    reader = serializers.SerializerMethodField()
    requested_by = serializers.CharField(source="requested_by.username")
    requested_at = serializers.DateTimeField()
    reason = serializers.JSONField()
    state = serializers.ChoiceField(choices=SecondReadState.choices)
    disagreements = serializers.IntegerField(allow_null=True)
    open_items = serializers.IntegerField(default=0)
    read_completed_at = serializers.DateTimeField(allow_null=True)
    settled_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "SecondRead"

    def get_reader(self, request: SecondReadRequest) -> str | None:
        return request.read.reader.username if request.read is not None else None


class SecondReadScanSerializer(serializers.Serializer):
    scan = serializers.IntegerField()
    reason = serializers.DictField(help_text='Why, e.g. {"source": "model", ...}')

    class Meta:
        ref_name = "SecondReadScan"


class SecondReadListApi(APIView):
    """Second reads on request: list them (GET), or send scans to one (POST), each with why.
    A blinded cross-read by a reader with no read of the scan (``reader``, or balanced by open
    reads); scans that cannot have one now come back in ``refused`` with the reason."""

    permission_classes = [IsCoordinator]
    pagination_class = LimitOffsetPagination

    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(choices=SecondReadState.choices, required=False)
        scan = serializers.IntegerField(required=False)

        class Meta:
            ref_name = "SecondReadListFilter"

    class InputSerializer(serializers.Serializer):
        scans = SecondReadScanSerializer(many=True, min_length=1, max_length=5000)
        reader = serializers.IntegerField(required=False, allow_null=True)
        seed = serializers.IntegerField(min_value=0, required=False, allow_null=True)

        class Meta:
            ref_name = "SecondReadRequestInput"

    class ResultSerializer(serializers.Serializer):
        requests = SecondReadOutputSerializer(many=True)
        refused = serializers.ListField(child=serializers.DictField())

        class Meta:
            ref_name = "SecondReadResult"

    @extend_schema(parameters=[FilterSerializer], responses=SecondReadOutputSerializer(many=True))
    def get(self, request):
        filters = validated(self.FilterSerializer, request.query_params)
        requests = second_read_list(state=filters.get("state"), scan_id=filters.get("scan"))
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(requests, request, view=self)
        return paginator.get_paginated_response(SecondReadOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ResultSerializer})
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        reader = _readers([data["reader"]])[0] if data.get("reader") is not None else None
        result = second_read_request(
            scans=[(item["scan"], item["reason"]) for item in data["scans"]],
            requested_by=request.user,
            reader=reader,
            seed=data.get("seed"),
        )
        made = second_read_list().filter(pk__in=[r.pk for r in result.requests])
        body = {
            "requests": SecondReadOutputSerializer(made, many=True).data,
            "refused": result.refused,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class UncertaintyPoolApi(APIView):
    """Active learning: the never-read scans of a selection (center, split) ordered by how
    unsure the model version is about any ICH (closest to its frozen threshold first), with
    how many it has scored (GET); queue a job scoring the rest (POST: 202 with the job, 200
    when nothing is left to score)."""

    permission_classes = [IsCoordinator]

    class FilterSerializer(serializers.Serializer):
        model_version = serializers.IntegerField()
        center = serializers.IntegerField(required=False)
        split = serializers.ChoiceField(choices=Split.choices, required=False)
        head = serializers.IntegerField(min_value=0, max_value=1000, default=20)

        class Meta:
            ref_name = "UncertaintyPoolFilter"

    class ScoringOutputSerializer(serializers.Serializer):
        job = serializers.CharField(allow_null=True)
        status = serializers.CharField(allow_null=True)
        scans_total = serializers.IntegerField()

        class Meta:
            ref_name = "UncertaintyScoring"

    @extend_schema(parameters=[FilterSerializer], responses=UncertaintyPoolSerializer)
    def get(self, request):
        query = validated(self.FilterSerializer, request.query_params)
        model = uncertainty_model_get(model_version_id=query["model_version"])
        pool = uncertainty_pool(scans=_selection(query), model_version=model)
        return Response(_pool_out(pool, head=query["head"]))

    @extend_schema(
        request=FilterSerializer,
        responses={202: ScoringOutputSerializer, 200: ScoringOutputSerializer},
    )
    def post(self, request):
        data = validated(self.FilterSerializer, request.data)
        model = uncertainty_model_get(model_version_id=data["model_version"])
        job = uncertainty_scoring_request(
            scans=_selection(data), model_version=model, requested_by=request.user
        )
        if job is None:
            return Response({"job": None, "status": None, "scans_total": 0})
        body = {"job": str(job.pk), "status": job.status, "scans_total": job.scans_total}
        return Response(body, status=status.HTTP_202_ACCEPTED)
