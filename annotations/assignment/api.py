"""REST API of assignment, for study coordinators: assign scans by filter (balanced, with
cross-reads), list the study's reads, reader workload, reassign and unassign a read."""

import re

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

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
from annotations.models import ReadKind, ReadLevel, ReadStatus, Scan, Split
from annotations.permissions import IsCoordinator
from ichlabel.api import validated
from ichlabel.errors import InvalidInput

# A reader id as a JSON object's key: up to 18 ASCII digits, as the path converter takes.
ID_KEY = re.compile(r"[0-9]{1,18}", re.ASCII)
ASSIGNMENT_STATUSES = ("unassigned", "assigned", "in_progress", "completed", "understaffed")


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

        class Meta:
            ref_name = "ScansAssignInput"

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

        class Meta:
            ref_name = "ScansAssignOutput"

    # 201 with the reads made; 200 for a dry run (nothing saved).
    @extend_schema(
        request=InputSerializer, responses={201: OutputSerializer, 200: OutputSerializer}
    )
    def post(self, request):
        data = validated(self.InputSerializer, request.data)
        scans = Scan.objects.all()
        if data.get("center") is not None:
            scans = scans.filter(center_id=data["center"])
        if data.get("split"):
            scans = scans.filter(split=data["split"])
        if data.get("scans") is not None:
            scans = scans.filter(pk__in=data["scans"])
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
