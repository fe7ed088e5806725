"""The reader study's pages: thin shells around their page scripts (frontend/src/pages/
reader_study*.ts), which read and write through the API. The list (a reader's own studies;
every study, and the form to set one up, for coordinators), the reading page, and the study's
page with its plan, progress and results (coordinators and ML engineers)."""

from django.conf import settings
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views import View

from annotations.assignment.services import neuroradiologist_list
from annotations.models import GroundTruthScanLabel, GroundTruthVersion, Role
from annotations.pages import RoleRequiredMixin
from annotations.permissions import user_has_role
from modelops.models import ModelVersion
from modelops.pages import render_page
from modelops.reader_study.models import Modality, ReaderStudy
from modelops.reader_study.selectors import reader_study_get, reader_study_list
from modelops.reader_study.services import DEFAULT_PRIMARY_ENDPOINT

STUDY_ROLES = (Role.NEURORADIOLOGIST, Role.COORDINATOR, Role.ML_ENGINEER)


def design_options() -> dict:
    """What the coordinator's form offers: ground-truth versions with their positive and
    negative scans per split, model versions, readers, modalities."""
    counts = (
        GroundTruthScanLabel.objects.values("version_id", "split")
        .annotate(positive=Count("pk", filter=Q(any_ich=True)), total=Count("pk"))
        .order_by()
    )
    splits: dict[int, dict] = {}
    for row in counts:
        splits.setdefault(row["version_id"], {})[row["split"]] = {
            "positive": row["positive"],
            "negative": row["total"] - row["positive"],
        }
    return {
        "ground_truth_versions": [
            {"id": v.pk, "name": v.name, "splits": splits.get(v.pk, {})}
            for v in GroundTruthVersion.objects.order_by("-created_at", "-id")
        ],
        "model_versions": [
            {"id": v.pk, "name": v.name, "status": v.status}
            for v in ModelVersion.objects.order_by("-created_at", "-id")
        ],
        "readers": [{"id": u.pk, "username": u.username} for u in neuroradiologist_list()],
        "modalities": [{"value": v, "label": label} for v, label in Modality.choices],
        "default_primary_endpoint": DEFAULT_PRIMARY_ENDPOINT,
    }


def design_context(user) -> dict:
    """What a page that sets up or edits a study's design needs: whether ``user`` manages
    studies, and then the form's options (json_script "reader-study-options")."""
    manages = user_has_role(user, Role.COORDINATOR)
    return {"manages": manages, "options": design_options() if manages else None}


class ReaderStudyListView(RoleRequiredMixin, View):
    roles = STUDY_ROLES

    def get(self, request):
        context = {
            **design_context(request.user),
            "watches": user_has_role(request.user, Role.COORDINATOR, Role.ML_ENGINEER),
            "api_url": reverse("reader-study-list"),
        }
        return render_page(request, "reader_study/list.html", context)


class ReaderStudyReadView(RoleRequiredMixin, View):
    """The reader's reading page of one study: the API says which read comes next."""

    roles = (Role.NEURORADIOLOGIST,)

    def get(self, request, study_id: int):
        study = get_object_or_404(
            reader_study_list(request.user).filter(sessions__reader=request.user).distinct(),
            pk=study_id,
        )
        context = {
            "study": study,
            "window_presets": settings.WINDOW_PRESETS,
            "study_url": reverse("reader-study-detail", args=[study.pk]),
            "next_url": reverse("reader-study-next", args=[study.pk]),
            "read_url": reverse("reader-study-read", args=[0]).replace("/0/", "/{read}/"),
            "list_url": reverse("reader-study-list-page"),
        }
        return render_page(request, "reader_study/read.html", context)


class ReaderStudyView(RoleRequiredMixin, View):
    """The study's page: plan, preparation, progress and results; for a coordinator, the
    design's form (the list page's) while the plan is not frozen."""

    roles = (Role.COORDINATOR, Role.ML_ENGINEER)

    def get(self, request, study_id: int):
        try:
            study = reader_study_get(request.user, study_id)
        except ReaderStudy.DoesNotExist:
            raise Http404 from None
        context = {
            **design_context(request.user),
            "study": study,
            "study_url": reverse("reader-study-detail", args=[study.pk]),
            "results_url": reverse("reader-study-results", args=[study.pk]),
            "csv_url": reverse("reader-study-reads-csv", args=[study.pk]),
            "close_url": reverse("reader-study-close", args=[study.pk]),
            "prepare_url": reverse("reader-study-prepare", args=[study.pk]),
            "list_url": reverse("reader-study-list-page"),
        }
        return render_page(request, "reader_study/study.html", context)
