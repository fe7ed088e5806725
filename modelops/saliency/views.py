"""The ML engineer's saliency pages: request maps of a model version (a form on the version's
page), and a run's page with its progress and localization figures."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect

from annotations.models import JobStatus, Split
from annotations.pages import query_number
from annotations.vocabulary import SUBTYPES
from ichlabel.errors import DomainError, InvalidInput
from modelops.models import ACTIVE_STATUSES, ModelVersion, SaliencyMethod
from modelops.pages import ModelOpsPage, class_label, estimate_text, number_or_none, render_page
from modelops.saliency.selectors import saliency_positive_slices, saliency_run_list
from modelops.saliency.services import saliency_run_cancel, saliency_run_request


class SaliencyRequestView(ModelOpsPage):
    """POST from the version page's form: the run for that sample (queued if new), then its
    page. A refused request goes back to the version page with the reason."""

    def post(self, request, version_id: int):
        if not self.may_act():
            raise PermissionDenied("Only ML engineers may compute saliency maps.")
        version = get_object_or_404(ModelVersion, pk=version_id)
        try:
            run, _ = saliency_run_request(
                model_version=version,
                split=request.POST.get("split", ""),
                per_subtype=_whole(request.POST.get("per_subtype"), "Slices per subtype"),
                seed=_whole(request.POST.get("seed") or "0", "Seed"),
                created_by=request.user,
            )
        except DomainError as error:
            messages.error(request, str(error))
            return redirect("model-version-page", version_id=version.pk)
        return redirect("saliency-run-page", run_id=run.pk)


class SaliencyCancelView(ModelOpsPage):
    """POST from a run's page: a queued run stops at once, a running one after its slice."""

    def post(self, request, run_id: int):
        if not self.may_act():
            raise PermissionDenied("Only ML engineers may cancel saliency runs.")
        run = get_object_or_404(saliency_run_list(), pk=run_id)
        try:
            saliency_run_cancel(run=run)
        except DomainError as error:
            messages.error(request, str(error))
        return redirect("saliency-run-page", run_id=run.pk)


class SaliencyRunView(ModelOpsPage):
    """A run: its sample, progress, and per method and subtype how well the maps point at the
    lesions (pointing game, energy inside the lesion, deletion AUC)."""

    def get(self, request, run_id: int):
        run = get_object_or_404(saliency_run_list(), pk=run_id)
        summary = run.localization or {}
        context = {
            "run": run,
            "active": run.status in ACTIVE_STATUSES,
            "may_act": self.may_act(),
            "outlined": [_outlined_row(row) for row in summary.get("outlined", [])],
            "outlined_maps": summary.get("outlined_maps", 0),
            "deletion": [
                {
                    "method": SaliencyMethod(method).label,
                    "n": figures["n"],
                    "auc": _number_text(figures["deletion_auc"]),
                }
                for method, figures in summary.get("deletion", {}).items()
            ],
            "items": run.slices.select_related("slice").prefetch_related("maps")[:200],
            "succeeded": run.status == JobStatus.SUCCEEDED,
        }
        return render_page(request, "modelops/saliency_run.html", context)


def saliency_form_context(version: ModelVersion) -> dict:
    """What the version page's saliency section shows: the form's choices and earlier runs."""
    return {
        "saliency_runs": saliency_run_list(model_version_id=version.pk)[:20],
        # Only the splits that have something to map (most have a test split only later).
        "saliency_splits": [
            (value, label)
            for value, label in Split.choices
            if saliency_positive_slices(version.snapshot.ground_truth_id, value).exists()
        ],
        "saliency_subtypes": ", ".join(class_label(s) for s in SUBTYPES),
    }


def _outlined_row(row: dict) -> dict:
    return {
        "method": SaliencyMethod(row["method"]).label,
        "subtype": class_label(row["subtype"]) if row["subtype"] else "All subtypes",
        "overall": row["subtype"] is None,
        "n": row["n"],
        "pointing": estimate_text(row["pointing_game"]),
        "energy": estimate_text(row["energy_share"]),
        "deletion": _number_text(row["deletion_auc"]),
    }


def _number_text(estimate: dict) -> str:
    """An AUC estimate as "0.213 (0.180–0.246)"; "—" where undefined."""
    value = number_or_none(estimate.get("value"))
    if value is None:
        return "—"
    lower, upper = number_or_none(estimate.get("lower")), number_or_none(estimate.get("upper"))
    interval = "" if lower is None or upper is None else f" ({lower:.3f}–{upper:.3f})"
    return f"{value:.3f}{interval}"


def _whole(text: str | None, field: str) -> int:
    number = query_number(text)
    if number is None:
        raise InvalidInput(f"{field} must be a whole number.")
    return number
