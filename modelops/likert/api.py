"""The Likert study's API. Readers get their own cases by study token, their scores, the slice
and the overlay of each case: nothing that names a method. Coordinators set studies up and
close them; coordinators and ML engineers read the scores (CSV) and the results."""

import csv
import io

from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.models import Role
from annotations.permissions import (
    IsCoordinator,
    IsCoordinatorOrMLEngineer,
    IsNeuroradiologist,
    user_has_role,
)
from ichlabel.api import validated
from ichlabel.errors import NotFound
from ichlabel.pagination import paginated
from modelops.likert.results import likert_study_results
from modelops.likert.selectors import (
    likert_case_for,
    likert_reader_items,
    likert_score_records,
    likert_study_list,
    likert_study_of_reader,
)
from modelops.likert.services import likert_score_set, likert_study_close, likert_study_create
from modelops.models import SaliencyRun
from modelops.saliency.selectors import saliency_overlay_path


class IsStudyRole(BasePermission):
    """Readers, coordinators and ML engineers may look; only coordinators set studies up."""

    message = "Only readers of a study, coordinators and ML engineers see Likert studies."

    def has_permission(self, request, view) -> bool:
        if request.method == "POST":
            return user_has_role(request.user, Role.COORDINATOR)
        return user_has_role(
            request.user, Role.NEURORADIOLOGIST, Role.COORDINATOR, Role.ML_ENGINEER
        )


class LikertStudyOutputSerializer(serializers.Serializer):
    """What any of the study's people may know of it: no method, no map."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    cases_total = serializers.IntegerField()
    closed = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()

    def get_closed(self, study) -> bool:
        return study.closed_at is not None

    def get_progress(self, study) -> dict:
        """The requesting reader's own progress; 0 of 0 for others."""
        return {"scored": study.my_scored, "total": study.my_total}


class LikertStudyListApi(APIView):
    permission_classes = [IsStudyRole]
    pagination_class = LimitOffsetPagination

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        saliency_run = serializers.IntegerField(min_value=1)
        readers = serializers.ListField(
            child=serializers.CharField(max_length=150), min_length=1, max_length=50
        )
        seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0)

        class Meta:
            ref_name = "LikertStudyInput"

    @extend_schema(responses=LikertStudyOutputSerializer(many=True))
    def get(self, request):
        return paginated(
            self, request, likert_study_list(request.user), LikertStudyOutputSerializer
        )

    @extend_schema(request=InputSerializer, responses={201: LikertStudyOutputSerializer})
    def post(self, request):
        """A study of every map of a finished saliency run, for the named readers."""
        data = validated(self.InputSerializer, request.data)
        run = SaliencyRun.objects.filter(pk=data["saliency_run"]).first()
        if run is None:
            raise NotFound("That saliency run does not exist.")
        readers = list(User.objects.filter(username__in=data["readers"], is_active=True))
        missing = sorted(set(data["readers"]) - {r.username for r in readers})
        if missing:
            raise NotFound(f"No such readers: {', '.join(missing)}.")
        study = likert_study_create(
            name=data["name"],
            saliency_run=run,
            readers=sorted(readers, key=lambda r: data["readers"].index(r.username)),
            seed=data["seed"],
            created_by=request.user,
        )
        study = likert_study_list(request.user).get(pk=study.pk)
        return Response(LikertStudyOutputSerializer(study).data, status=status.HTTP_201_CREATED)


class LikertItemOutputSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    case = serializers.UUIDField(source="case.token")
    score = serializers.IntegerField(allow_null=True)
    rows = serializers.IntegerField(source="case.saliency_map.item.slice.rows")
    columns = serializers.IntegerField(source="case.saliency_map.item.slice.columns")


class LikertItemListApi(APIView):
    """The reader's cases in their own order, with their scores: where to resume."""

    permission_classes = [IsNeuroradiologist]

    @extend_schema(responses=LikertItemOutputSerializer(many=True))
    def get(self, request, study_id: int):
        study = likert_study_of_reader(request.user, study_id)
        items = likert_reader_items(study, request.user)
        return Response(LikertItemOutputSerializer(items, many=True).data)


class LikertScoreApi(APIView):
    """Save (or, with ``score`` null, take back) the reader's score of one of their cases."""

    permission_classes = [IsNeuroradiologist]

    class InputSerializer(serializers.Serializer):
        position = serializers.IntegerField(min_value=0, max_value=1_000_000)
        score = serializers.IntegerField(min_value=1, max_value=4, allow_null=True)

        class Meta:
            ref_name = "LikertScoreInput"

    @extend_schema(request=InputSerializer, responses=LikertItemOutputSerializer)
    def post(self, request, study_id: int):
        study = likert_study_of_reader(request.user, study_id)
        data = validated(self.InputSerializer, request.data)
        row = likert_score_set(
            study=study, reader=request.user, position=data["position"], score=data["score"]
        )
        item = likert_reader_items(study, request.user).get(pk=row.pk)
        return Response(LikertItemOutputSerializer(item).data)


class LikertCaseOverlayApi(APIView):
    """A case's overlay PNG, by the case's study token."""

    permission_classes = [IsStudyRole]

    @extend_schema(responses={(200, "image/png"): bytes})
    def get(self, request, token):
        case = likert_case_for(token, request.user)
        path = saliency_overlay_path(case.saliency_map)
        if not path.is_file():
            raise NotFound("This case's overlay is no longer stored.")
        # Named by the case's token: the stored file's own name is the map's token.
        response = HttpResponse(path.read_bytes(), content_type="image/png")
        response["Content-Disposition"] = f'inline; filename="{case.token}.png"'
        response["Cache-Control"] = "private, no-transform"
        return response


class LikertCaseSliceApi(APIView):
    """The stored DICOM file of a case's slice (Cornerstone: ``wadouri:<url>``)."""

    permission_classes = [IsStudyRole]

    @extend_schema(responses={200: OpenApiResponse(description="application/dicom")})
    def get(self, request, token):
        case = likert_case_for(token, request.user)
        slice_ = case.saliency_map.item.slice
        response = FileResponse(
            default_storage.open(slice_.storage_key, "rb"),
            content_type="application/dicom",
            filename=f"{case.token}.dcm",
        )
        response["Content-Length"] = str(slice_.file_size)
        response["Cache-Control"] = "private, max-age=86400"
        return response


class LikertStudyCloseApi(APIView):
    permission_classes = [IsCoordinator]

    @extend_schema(request=None, responses=LikertStudyOutputSerializer)
    def post(self, request, study_id: int):
        study = likert_study_close(study=likert_study_list(request.user).get(pk=study_id))
        study = likert_study_list(request.user).get(pk=study.pk)
        return Response(LikertStudyOutputSerializer(study).data)


class LikertResultsApi(APIView):
    """The study's figures so far (``modelops.metrics.likert``; null before the first score)."""

    permission_classes = [IsCoordinatorOrMLEngineer]

    @extend_schema(responses=OpenApiResponse(description="LikertResults.as_dict(), or null"))
    def get(self, request, study_id: int):
        results = likert_study_results(likert_study_list(request.user).get(pk=study_id))
        return Response(results.as_dict() if results is not None else None)


class LikertScoresCsvApi(APIView):
    """Every score given in the study, one row each, with its method (not for readers)."""

    permission_classes = [IsCoordinatorOrMLEngineer]

    @extend_schema(responses={(200, "text/csv"): str})
    def get(self, request, study_id: int):
        study = likert_study_list(request.user).get(pk=study_id)
        columns = ["reader", "case", "method", "subtype", "score", "position", "scored_at"]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(likert_score_records(study))
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="likert-{study.pk}-scores.csv"'
        return response
