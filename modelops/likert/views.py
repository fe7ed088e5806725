"""The Likert study's pages: the list of studies (a reader's own open ones; every study, and the
form to set one up, for coordinators), the reader's scoring page, and the results."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View

from annotations.models import JobStatus, Role
from annotations.pages import RoleRequiredMixin, query_number
from annotations.permissions import user_has_role
from ichlabel.errors import DomainError, InvalidInput
from modelops.likert.selectors import likert_study_list, likert_study_of_reader
from modelops.likert.services import likert_study_close, likert_study_create
from modelops.models import LikertStudy, SaliencyRun
from modelops.pages import render_page

STUDY_ROLES = (Role.NEURORADIOLOGIST, Role.COORDINATOR, Role.ML_ENGINEER)


class LikertListView(RoleRequiredMixin, View):
    roles = STUDY_ROLES

    def get(self, request):
        manages = user_has_role(request.user, Role.COORDINATOR)
        context = {
            "studies": likert_study_list(request.user),
            "watches": user_has_role(request.user, Role.COORDINATOR, Role.ML_ENGINEER),
            "manages": manages,
        }
        if manages:
            context["runs"] = SaliencyRun.objects.filter(status=JobStatus.SUCCEEDED).select_related(
                "model_version"
            )
            context["readers"] = User.objects.filter(
                groups__name=Role.NEURORADIOLOGIST, is_active=True
            ).order_by("username")
        return render_page(request, "modelops/likert_list.html", context)

    def post(self, request):
        """A coordinator's new study, from the form; refusals come back with the reason."""
        if not user_has_role(request.user, Role.COORDINATOR):
            raise PermissionDenied("Only coordinators set up studies.")
        run = SaliencyRun.objects.filter(pk=query_number(request.POST.get("saliency_run"))).first()
        readers = list(
            User.objects.filter(pk__in=[query_number(v) for v in request.POST.getlist("readers")])
        )
        try:
            if run is None:
                raise InvalidInput("Choose a finished saliency run.")
            study = likert_study_create(
                name=request.POST.get("name", ""),
                saliency_run=run,
                readers=readers,
                seed=query_number(request.POST.get("seed")) or 0,
                created_by=request.user,
            )
        except DomainError as error:
            messages.error(request, str(error))
            return redirect("likert-list-page")
        messages.success(request, f"Study {study.name} is open for {len(readers)} readers.")
        return redirect("likert-results-page", study_id=study.pk)


class LikertScoreView(RoleRequiredMixin, View):
    """The reader's scoring page: their cases one at a time, the map over the slice."""

    roles = (Role.NEURORADIOLOGIST,)

    def get(self, request, study_id: int):
        try:
            study = likert_study_of_reader(request.user, study_id)
        except LikertStudy.DoesNotExist:
            raise Http404 from None
        context = {
            "study": study,
            "window_presets": settings.WINDOW_PRESETS,
            "items_url": reverse("likert-item-list", args=[study.pk]),
            "score_url": reverse("likert-score", args=[study.pk]),
            "case_url": "/api/v1/modelops/likert-cases/{case}/",
        }
        return render_page(request, "modelops/likert_score.html", context)


class LikertResultsView(RoleRequiredMixin, View):
    roles = (Role.COORDINATOR, Role.ML_ENGINEER)

    def get(self, request, study_id: int):
        from modelops.likert.results import results_context

        study = get_object_or_404(likert_study_list(request.user), pk=study_id)
        context = {
            "study": study,
            "manages": user_has_role(request.user, Role.COORDINATOR),
            **results_context(study),
        }
        return render_page(request, "modelops/likert_results.html", context)

    def post(self, request, study_id: int):
        """Close the study (coordinators)."""
        if not user_has_role(request.user, Role.COORDINATOR):
            raise PermissionDenied("Only coordinators close studies.")
        study = get_object_or_404(likert_study_list(request.user), pk=study_id)
        try:
            likert_study_close(study=study)
        except DomainError as error:
            messages.error(request, str(error))
        return redirect("likert-results-page", study_id=study.pk)
