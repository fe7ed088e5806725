"""A model version's prospective page (/models/versions/<id>/prospective/): the nodes' scans
that radiologists have since read, laid out like the paper's Table 2 at the frozen thresholds,
and the drift of its scores against validation, week by week."""

from django.shortcuts import get_object_or_404

from modelops.metrics import HEMORRHAGE_CLASSES
from modelops.monitoring.prospective import (
    MIN_READS,
    prospective_drift,
    prospective_report,
    scored_predictions,
)
from modelops.pages import ModelOpsPage, class_label, render_page
from modelops.registry.selectors import model_version_list
from modelops.registry.views import TABLE2_COLUMNS, methods_note, table2


class ProspectiveView(ModelOpsPage):
    def get(self, request, version_id: int):
        version = get_object_or_404(model_version_list(), pk=version_id)
        cls = request.GET.get("class", "any")
        if cls not in HEMORRHAGE_CLASSES:
            cls = "any"
        predictions = scored_predictions(version)
        prospective = prospective_report(version, predictions)
        report = prospective["report"] or {}
        context = {
            "version": version,
            "counts": prospective,
            "min_reads": MIN_READS,
            "columns": [heading for _key, heading in TABLE2_COLUMNS],
            "splits": table2(report),
            "methods_note": methods_note(report) if report else "",
            "drift": prospective_drift(version, cls, predictions),
            "classes": [(c, class_label(c)) for c in HEMORRHAGE_CLASSES],
            "drift_class": cls,
        }
        return render_page(request, "modelops/prospective.html", context)
