"""The version page's card of builds for the inference nodes: the Build form for ML engineers,
every build of the model with its check, expiry and files, and the key the nodes pin."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect

from annotations.pages import query_number
from ichlabel.errors import DomainError
from modelops.builds.selectors import build_list
from modelops.builds.services import MAX_VALID_DAYS, model_build_request
from modelops.models import ModelStatus, ModelVersion
from modelops.pages import ModelOpsPage


def build_card_context(version: ModelVersion) -> dict:
    builds = list(build_list(model_version_id=version.pk)[:20])
    for build in builds:
        check = (build.manifest.get("runtime") or {}).get("check") or {}
        build.max_abs_diff = check.get("max_abs_diff")
        build.check_scans = check.get("scans")
    return {
        "builds": builds,
        "build_open": version.status == ModelStatus.APPROVED,
        "build_max_days": MAX_VALID_DAYS,
    }


class BuildRequestView(ModelOpsPage):
    """POST from the version page's form: a new build, queued; back to the page."""

    def post(self, request, version_id: int):
        if not self.may_act():
            raise PermissionDenied("Only ML engineers may build models for the nodes.")
        version = get_object_or_404(ModelVersion, pk=version_id)
        days = query_number(request.POST.get("valid_days", ""))
        if days is None:
            messages.error(request, "Valid for: a whole number of days.")
            return redirect("model-version-page", version_id=version.pk)
        try:
            build = model_build_request(
                model_version=version, created_by=request.user, valid_days=days
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Build {build.number} is queued on the training worker.")
        return redirect("model-version-page", version_id=version.pk)
