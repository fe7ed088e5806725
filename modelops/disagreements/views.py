"""The page of a model version's disagreements: filters, counts per class, the ranked list with
each scan's second-read state, and (for coordinators) the selection sent to a second read."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404
from django.urls import reverse

from annotations.assignment.services import neuroradiologist_list
from annotations.models import Role, Split
from annotations.pages import query_choice, query_number
from annotations.permissions import user_has_role
from annotations.vocabulary import HEMORRHAGE_CLASSES
from modelops.disagreements.selectors import (
    KIND_NAMES,
    KINDS,
    SOURCE_NAMES,
    SOURCES,
    disagreement_list,
    disagreement_rows,
)
from modelops.models import ModelVersion, ScanScoringRun
from modelops.pages import ModelOpsPage, class_label, render_page

PAGE_SIZE = 50

STATE_NAMES = {
    "not_sent": "Not sent",
    "reading": "Second read pending",
    "adjudication": "Adjudication pending",
    "settled": "Settled",
    "withdrawn": "Second read withdrawn",
}


class DisagreementsView(ModelOpsPage):
    def get(self, request, version_id: int):
        version = get_object_or_404(
            ModelVersion.objects.select_related("snapshot__ground_truth"), pk=version_id
        )
        may_send = user_has_role(request.user, Role.COORDINATOR)
        filters = {
            "hemorrhage_class": query_choice(request.GET.get("class"), HEMORRHAGE_CLASSES),
            "kind": query_choice(request.GET.get("kind"), KINDS),
            "source": query_choice(request.GET.get("source"), SOURCES),
            "split": query_choice(request.GET.get("split"), Split.values),
        }
        context = {
            "version": version,
            "ground_truth": version.snapshot.ground_truth,
            "filters": filters,
            "classes": [(name, class_label(name)) for name in HEMORRHAGE_CLASSES],
            "kinds": list(KIND_NAMES.items()),
            "sources": list(SOURCE_NAMES.items()),
            "splits": Split.choices,
            "may_send": may_send,
            "readers": neuroradiologist_list().order_by("username") if may_send else [],
            "send_url": reverse("model-disagreements-send", kwargs={"version_id": version.pk}),
            "scoring_url": reverse("model-scoring-runs", kwargs={"version_id": version.pk}),
            "scoring_runs": ScanScoringRun.objects.filter(model_version=version)[:5],
        }
        found = disagreement_list(version=version, **filters)
        if not found.thresholds:
            context["problem"] = (
                f"Model {version.name} has no frozen thresholds: it was not evaluated."
            )
            return render_page(request, "modelops/disagreements.html", context)
        page = Paginator(found.items, PAGE_SIZE).get_page(query_number(request.GET.get("page")))
        rows = disagreement_rows(list(page.object_list), first_rank=page.start_index())
        for row in rows:
            row["class_label"] = class_label(row["hemorrhage_class"])
            row["kind_label"] = KIND_NAMES[row["kind"]]
            row["source_label"] = SOURCE_NAMES[row["source"]]
            row["state_label"] = STATE_NAMES.get(row["second_read"]["state"], "—")
        query = request.GET.copy()
        query.pop("page", None)
        context.update(
            {
                "rows": rows,
                "page": page,
                "query": query.urlencode(),
                "total": len(found.items),
                "scored_scans": found.scored_scans,
                "count_rows": [
                    {
                        "cls": name,
                        "label": class_label(name),
                        "threshold": found.thresholds[name],
                        **found.counts[name],
                    }
                    for name in found.counts
                ],
            }
        )
        return render_page(request, "modelops/disagreements.html", context)
