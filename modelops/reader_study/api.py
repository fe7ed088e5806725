"""The reader study's API.

Coordinators (and admins) set studies up, prepare their model output and close them;
coordinators and ML engineers follow them and read the results and the CSV. A reader sees only
their own sessions and reads, one read at a time in their session's order; in an unaided
session nothing of the model reaches them (``"model": null``, the overlay a 404), and no read
of another reader exists for them.
"""

import csv
import io

from django.contrib.auth.models import User
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, HttpResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.models import GroundTruthVersion, JobStatus, Role, Split
from annotations.permissions import IsCoordinator, IsCoordinatorOrMLEngineer, user_has_role
from annotations.reading.api import slice_file_response
from annotations.vocabulary import CLASS_NAMES, HEMORRHAGE_CLASSES, SUBTYPES
from ichlabel.api import validated
from ichlabel.errors import NotFound
from modelops.models import ModelVersion
from modelops.reader_study.models import (
    MAX_CONFIDENCE,
    MAX_WASHOUT_DAYS,
    Modality,
    ReaderStudy,
    ReaderStudyRead,
    StudyStatus,
)
from modelops.reader_study.selectors import (
    CSV_COLUMNS,
    preparation,
    read_records,
    reader_next,
    reader_read_get,
    reader_study_get,
    reader_study_list,
    sessions_of,
    watches_studies,
)
from modelops.reader_study.services import (
    MAX_CASES,
    MAX_READERS,
    OVERLAY_METHOD,
    QUESTIONS,
    api_class,
    field_error,
    reader_study_answer,
    reader_study_close,
    reader_study_create,
    reader_study_prepare,
    reader_study_read_open,
    reader_study_refresh,
    reader_study_update,
)


class IsStudyRole(BasePermission):
    """Readers, coordinators and ML engineers may look; coordinators (and admins) set up."""

    message = "Only coordinators set reader studies up; readers and ML engineers may look."

    def has_permission(self, request, view) -> bool:
        if request.method == "POST":
            return user_has_role(request.user, Role.COORDINATOR)
        return user_has_role(
            request.user, Role.NEURORADIOLOGIST, Role.COORDINATOR, Role.ML_ENGINEER
        )


# ---------------------------------------------------------------------------------------------
# Output shapes


class _OnlyGivenKeys:
    """Outputs only the keys the payload dict holds (optional fields are left out, not null)."""

    def to_representation(self, instance):
        data = super().to_representation(instance)  # type: ignore[misc]
        return {key: value for key, value in data.items() if key in instance}


class NextSerializer(_OnlyGivenKeys, serializers.Serializer):
    state = serializers.ChoiceField(choices=["read", "waiting", "preparing", "done"])
    read = serializers.IntegerField(required=False, help_text="With state read")
    opens_at = serializers.DateTimeField(required=False, help_text="With state waiting")
    modality_sequence = serializers.IntegerField(
        required=False, help_text="With state waiting: the session that opens next"
    )


class SessionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    modality = serializers.ChoiceField(choices=Modality.choices)
    sequence = serializers.IntegerField()
    opens_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    answered = serializers.IntegerField(source="reads_answered")
    total = serializers.IntegerField(source="reads_total")


class ReaderProgressSerializer(serializers.Serializer):
    reader = serializers.IntegerField()
    username = serializers.CharField()
    sessions = SessionSerializer(many=True)


class NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PreparationSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    failed = serializers.IntegerField()
    total = serializers.IntegerField()
    # The metaclass takes declared fields off the class: Serializer.errors stays as it is.
    errors = serializers.ListField(child=serializers.DictField())  # type: ignore[assignment]


class ReaderStudySerializer(_OnlyGivenKeys, serializers.Serializer):
    """A study as its people see it: readers get the first group of fields and their own
    sessions; coordinators, ML engineers and admins get everything (the optional fields)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=StudyStatus.choices)
    modalities = serializers.ListField(child=serializers.ChoiceField(choices=Modality.choices))
    questions = serializers.ListField(child=serializers.DictField())
    sessions = SessionSerializer(many=True, help_text="The requesting user's own sessions")
    next = NextSerializer(allow_null=True, help_text="The requesting reader's place; else null")
    # Coordinators, ML engineers, admins:
    cases = serializers.IntegerField(required=False)
    readers = serializers.IntegerField(required=False)
    ground_truth_version = NamedSerializer(required=False)
    split = serializers.CharField(required=False)
    case_count = serializers.IntegerField(required=False)
    model_version = NamedSerializer(required=False, allow_null=True)
    washout_days = serializers.IntegerField(required=False)
    seed = serializers.IntegerField(required=False)
    primary_endpoint = serializers.CharField(required=False)
    plan = serializers.DictField(required=False)
    plan_frozen_at = serializers.DateTimeField(required=False, allow_null=True)
    created_by = serializers.CharField(required=False)
    created_at = serializers.DateTimeField(required=False)
    closed_at = serializers.DateTimeField(required=False, allow_null=True)
    preparation = PreparationSerializer(required=False)
    progress = ReaderProgressSerializer(many=True, required=False)


def study_payload(study: ReaderStudy, user, *, detail: bool) -> dict:
    """What ``user`` may know of the study (``detail``: with preparation and progress); the
    user's sessions as the list prefetched them (``own_sessions``), else read here."""
    own = getattr(study, "own_sessions", None)
    if own is None:
        own = list(sessions_of(study, user))
    payload: dict = {
        "id": study.pk,
        "name": study.name,
        "description": study.description,
        "status": study.status,
        "modalities": study.modalities,
        "questions": QUESTIONS,
        "sessions": own,
        "next": reader_next(study, user) if own else None,
    }
    if not watches_studies(user):
        return payload
    payload.update(
        cases=getattr(study, "cases_total", study.case_count),
        readers=getattr(study, "readers_total", 0),
        ground_truth_version={
            "id": study.ground_truth_version_id,
            "name": study.ground_truth_version.name,
        },
        split=study.split,
        case_count=study.case_count,
        model_version=None
        if study.model_version is None
        else {"id": study.model_version_id, "name": study.model_version.name},
        washout_days=study.washout_days,
        seed=study.seed,
        primary_endpoint=study.primary_endpoint,
        plan=study.plan,
        plan_frozen_at=study.plan_frozen_at,
        created_by=study.created_by.username,
        created_at=study.created_at,
        closed_at=study.closed_at,
    )
    if detail:
        by_reader: dict[int, dict] = {}
        for session in sessions_of(study):
            row = by_reader.setdefault(
                session.reader_id,
                {"reader": session.reader_id, "username": session.reader.username, "sessions": []},
            )
            row["sessions"].append(session)
        payload["preparation"] = preparation(study)
        payload["progress"] = list(by_reader.values())
    return payload


# ---------------------------------------------------------------------------------------------
# Studies


class ReaderStudyListApi(APIView):
    permission_classes = [IsStudyRole]
    pagination_class = LimitOffsetPagination

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
        ground_truth_version = serializers.IntegerField(min_value=1)
        split = serializers.ChoiceField(choices=Split.choices, required=False, allow_blank=True)
        case_count = serializers.IntegerField(min_value=2, max_value=MAX_CASES)
        readers = serializers.ListField(
            child=serializers.IntegerField(min_value=1), min_length=2, max_length=MAX_READERS
        )
        modalities = serializers.ListField(
            child=serializers.ChoiceField(choices=Modality.choices), min_length=2, max_length=3
        )
        model_version = serializers.IntegerField(min_value=1, required=False, allow_null=True)
        washout_days = serializers.IntegerField(min_value=0, max_value=MAX_WASHOUT_DAYS)
        seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
        primary_endpoint = serializers.CharField(max_length=2000, required=False, allow_blank=True)

        class Meta:
            ref_name = "ReaderStudyInput"

    @extend_schema(responses=ReaderStudySerializer(many=True))
    def get(self, request):
        studies = reader_study_list(request.user).select_related("created_by")
        own = sessions_of(None, request.user)
        studies = studies.prefetch_related(Prefetch("sessions", own, to_attr="own_sessions"))
        paginator = LimitOffsetPagination()
        page = [
            reader_study_refresh(study)
            for study in paginator.paginate_queryset(studies, request, view=self) or []
        ]
        return paginator.get_paginated_response(
            [ReaderStudySerializer(study_payload(s, request.user, detail=False)).data for s in page]
        )

    @extend_schema(request=InputSerializer, responses={201: ReaderStudySerializer})
    def post(self, request):
        """A study: its cases sampled, every reader's sessions planned, model output asked."""
        data = validated(self.InputSerializer, request.data)
        version = _ground_truth_version(data["ground_truth_version"])
        model_version = _model_version(data.get("model_version"))
        readers = _readers(data["readers"])
        study = reader_study_create(
            name=data["name"],
            description=data.get("description", ""),
            ground_truth_version=version,
            split=data.get("split", ""),
            case_count=data["case_count"],
            readers=readers,
            modalities=data["modalities"],
            model_version=model_version,
            washout_days=data["washout_days"],
            seed=data.get("seed", 0),
            primary_endpoint=data.get("primary_endpoint", ""),
            created_by=request.user,
        )
        study = reader_study_get(request.user, study.pk)
        payload = study_payload(study, request.user, detail=True)
        return Response(ReaderStudySerializer(payload).data, status=status.HTTP_201_CREATED)


_REFERENCES = ("ground_truth_version", "model_version", "readers")


def _ground_truth_version(pk: int) -> GroundTruthVersion:
    version = GroundTruthVersion.objects.filter(pk=pk).first()
    if version is None:
        raise field_error("ground_truth_version", "That ground-truth version does not exist.")
    return version


def _model_version(pk: int | None) -> ModelVersion | None:
    if not pk:
        return None
    version = ModelVersion.objects.filter(pk=pk).first()
    if version is None:
        raise field_error("model_version", "That model version does not exist.")
    return version


def _readers(ids: list[int]) -> list[User]:
    """The users, in the order given."""
    users = {u.pk: u for u in User.objects.filter(pk__in=ids)}
    missing = sorted(set(ids) - set(users))
    if missing:
        raise field_error("readers", f"No such users: {', '.join(map(str, missing))}.")
    return [users[i] for i in ids]


class IsCoordinatorToChange(BasePermission):
    message = "Only coordinators change reader studies."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return bool(request.user and request.user.is_authenticated)
        return user_has_role(request.user, Role.COORDINATOR)


class ReaderStudyDetailApi(APIView):
    permission_classes = [IsCoordinatorToChange]

    class UpdateSerializer(ReaderStudyListApi.InputSerializer):
        class Meta:
            ref_name = "ReaderStudyUpdateInput"

        def __init__(self, *args, **kwargs):
            super().__init__(*args, partial=True, **kwargs)

    @extend_schema(responses=ReaderStudySerializer)
    def get(self, request, study_id: int):
        study = reader_study_refresh(reader_study_get(request.user, study_id))
        return Response(ReaderStudySerializer(study_payload(study, request.user, detail=True)).data)

    @extend_schema(request=UpdateSerializer, responses=ReaderStudySerializer)
    def patch(self, request, study_id: int):
        """Change the study before its first read opened (409 after: the plan is frozen); a
        change of the design draws its cases, sessions and plan anew."""
        study = reader_study_get(request.user, study_id)
        data = validated(self.UpdateSerializer, request.data)
        changes = {k: v for k, v in data.items() if k not in _REFERENCES}
        if "ground_truth_version" in data:
            changes["ground_truth_version"] = _ground_truth_version(data["ground_truth_version"])
        if "model_version" in data:
            changes["model_version"] = _model_version(data["model_version"])
        if "readers" in data:
            changes["readers"] = _readers(data["readers"])
        reader_study_update(study=study, requested_by=request.user, **changes)
        study = reader_study_get(request.user, study.pk)
        return Response(ReaderStudySerializer(study_payload(study, request.user, detail=True)).data)


class ReaderStudyCloseApi(APIView):
    permission_classes = [IsCoordinator]

    @extend_schema(request=None, responses=ReaderStudySerializer)
    def post(self, request, study_id: int):
        study = reader_study_close(study=reader_study_get(request.user, study_id))
        study = reader_study_get(request.user, study.pk)
        return Response(ReaderStudySerializer(study_payload(study, request.user, detail=True)).data)


class ReaderStudyPrepareApi(APIView):
    permission_classes = [IsCoordinator]

    @extend_schema(request=None, responses=ReaderStudySerializer)
    def post(self, request, study_id: int):
        """Ask again for the model output that failed (or was canceled)."""
        study = reader_study_get(request.user, study_id)
        reader_study_prepare(study=study, requested_by=request.user)
        study = reader_study_get(request.user, study.pk)
        return Response(ReaderStudySerializer(study_payload(study, request.user, detail=True)).data)


class ReaderStudyNextApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=NextSerializer)
    def get(self, request, study_id: int):
        """The reader's current read, or why there is none."""
        study = reader_study_get(request.user, study_id)
        if not study.sessions.filter(reader=request.user).exists():
            raise NotFound("You do not read in this study.")
        study = reader_study_refresh(study)
        return Response(NextSerializer(reader_next(study, request.user)).data)


# ---------------------------------------------------------------------------------------------
# Reads


class SubtypesSerializer(serializers.Serializer):
    IPH = serializers.BooleanField(default=False)
    IVH = serializers.BooleanField(default=False)
    SAH = serializers.BooleanField(default=False)
    SDH = serializers.BooleanField(default=False)
    EDH = serializers.BooleanField(default=False)

    class Meta:
        ref_name = "ReaderStudySubtypes"


class AnswerSerializer(serializers.Serializer):
    any_ich = serializers.BooleanField()
    subtypes = SubtypesSerializer()
    confidence = serializers.IntegerField()
    active_time_s = serializers.FloatField()
    answered_at = serializers.DateTimeField()


class ReadSessionSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    modality = serializers.ChoiceField(choices=Modality.choices)
    total = serializers.IntegerField()
    answered = serializers.IntegerField()


class ReadSliceSerializer(serializers.Serializer):
    position_index = serializers.IntegerField()
    url = serializers.CharField()


class ModelOutputSerializer(serializers.Serializer):
    scores = serializers.DictField(child=serializers.FloatField(), help_text='"any", "IPH", ...')
    thresholds = serializers.DictField(
        child=serializers.FloatField(), help_text="The model version's frozen thresholds"
    )
    overlay = serializers.CharField(
        allow_null=True, help_text="aided_saliency: a URL template with {position_index}"
    )


class ReadDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    study = serializers.IntegerField()
    session = ReadSessionSerializer()
    position = serializers.IntegerField()
    slices = ReadSliceSerializer(many=True)
    opened_at = serializers.DateTimeField(allow_null=True)
    answer = AnswerSerializer(allow_null=True)
    model = ModelOutputSerializer(allow_null=True, help_text="null in unaided sessions")


class AnsweredReadSerializer(ReadDetailSerializer):
    next = NextSerializer()


def read_payload(read: ReaderStudyRead) -> dict:
    """The read as its reader sees it: the scan's slices by the read's own URLs, the answer,
    and the model's output only in an aided session."""
    session = read.session
    counts = session.reads.aggregate(
        total=Count("pk"), answered=Count("pk", filter=Q(answered_at__isnull=False))
    )
    indices = read.case.scan.slices.order_by("position_index").values_list(
        "position_index", flat=True
    )
    answer = None
    if read.answered_at is not None:
        answer = {
            "any_ich": read.any_ich,
            "subtypes": {CLASS_NAMES[s]: getattr(read, s) for s in SUBTYPES},
            "confidence": read.confidence,
            "active_time_s": read.active_time_s,
            "answered_at": read.answered_at,
        }
    return {
        "id": read.pk,
        "study": session.study_id,
        "session": {
            "sequence": session.sequence,
            "modality": session.modality,
            "total": counts["total"],
            "answered": counts["answered"],
        },
        "position": read.position,
        "slices": [
            {
                "position_index": index,
                "url": reverse("reader-study-read-slice", args=[read.pk, index]),
            }
            for index in indices
        ],
        "opened_at": read.opened_at,
        "answer": answer,
        "model": _model_output(read),
    }


def _model_output(read: ReaderStudyRead) -> dict | None:
    modality = read.session.modality
    if modality == Modality.UNAIDED:
        return None
    run = read.case.saliency_run
    study = read.session.study
    if run is None or run.status != JobStatus.SUCCEEDED:  # the session would not be open
        return None
    overlay = None
    if modality == Modality.AIDED_SALIENCY:
        url = reverse("reader-study-read-overlay", args=[read.pk, 0])
        overlay = url.replace("/0.png", "/{position_index}.png")
    return {
        "scores": {
            api_class(cls): float(run.scores[cls])
            for cls in HEMORRHAGE_CLASSES
            if run.scores.get(cls) is not None
        },
        "thresholds": (study.plan.get("model") or {}).get("thresholds", {}),
        "overlay": overlay,
    }


class ReaderStudyReadApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ReadDetailSerializer)
    def get(self, request, read_id: int):
        """The reader's read; opening it starts its clock (and freezes the study's plan)."""
        read = reader_study_read_open(reader_read_get(request.user, read_id))
        return Response(ReadDetailSerializer(read_payload(read)).data)


class ReaderStudyAnswerApi(APIView):
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        any_ich = serializers.BooleanField()
        subtypes = SubtypesSerializer(required=False)
        confidence = serializers.IntegerField(min_value=0, max_value=MAX_CONFIDENCE)
        active_time_s = serializers.FloatField(min_value=0, max_value=7 * 86400)

        class Meta:
            ref_name = "ReaderStudyAnswerInput"

    @extend_schema(request=InputSerializer, responses=AnsweredReadSerializer)
    def post(self, request, read_id: int):
        """The final answer; 409 when the case is answered already."""
        read = reader_read_get(request.user, read_id)
        data = validated(self.InputSerializer, request.data)
        read = reader_study_answer(
            read=read,
            any_ich=data["any_ich"],
            subtypes=data.get("subtypes") or {},
            confidence=data["confidence"],
            active_time_s=data["active_time_s"],
        )
        read = ReaderStudyRead.objects.select_related(
            "session__study", "case__scan", "case__saliency_run"
        ).get(pk=read.pk)
        payload = {
            **read_payload(read),
            "next": reader_next(read.session.study, request.user),
        }
        return Response(AnsweredReadSerializer(payload).data)


class ReaderStudyReadSliceApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OpenApiResponse(description="application/dicom")})
    def get(self, request, read_id: int, position_index: int):
        """A slice of the read's scan: the stored DICOM file (Cornerstone: ``wadouri:<url>``)."""
        read = reader_read_get(request.user, read_id)
        slice_ = read.case.scan.slices.filter(position_index=position_index).first()
        if slice_ is None:
            raise NotFound("That slice does not exist.")
        return slice_file_response(request, slice_)


class ReaderStudyReadOverlayApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, "image/png"): bytes})
    def get(self, request, read_id: int, position_index: int):
        """The model's saliency overlay of a slice: only in the reader's aided_saliency session."""
        from modelops.scan_saliency.selectors import scan_saliency_png

        read = reader_read_get(request.user, read_id)
        run = read.case.saliency_run
        if (
            read.session.modality != Modality.AIDED_SALIENCY
            or run is None
            or run.status != JobStatus.SUCCEEDED
        ):
            raise NotFound("There is no overlay here.")
        path = scan_saliency_png(run, OVERLAY_METHOD, position_index)
        if not path.is_file():
            raise NotFound("That slice has no overlay.")
        response = FileResponse(open(path, "rb"), content_type="image/png")  # noqa: SIM115
        patch_cache_control(response, private=True, max_age=3600)
        return response


# ---------------------------------------------------------------------------------------------
# Results


class ReaderStudyResultsApi(APIView):
    permission_classes = [IsCoordinatorOrMLEngineer]

    @extend_schema(responses=OpenApiResponse(description="modelops.reader_study.results"))
    def get(self, request, study_id: int):
        from modelops.reader_study.results import reader_study_results

        study = reader_study_get(request.user, study_id)
        return Response(reader_study_results(study))


class ReaderStudyReadsCsvApi(APIView):
    permission_classes = [IsCoordinatorOrMLEngineer]

    @extend_schema(responses={(200, "text/csv"): str})
    def get(self, request, study_id: int):
        """Every answered read of the study with its reference (not for readers)."""
        study = reader_study_get(request.user, study_id)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(read_records(study))
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="reader-study-{study.pk}-reads.csv"'
        )
        return response
