"""Every prediction the nodes reported, as CSV (ML engineers; coordinators watch)."""

import csv
import io

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from annotations.vocabulary import HEMORRHAGE_CLASSES
from modelops.monitoring.selectors import prediction_list
from modelops.monitoring.services import STAGES
from modelops.permissions import IsMLEngineerOrWatcher


class PredictionCsvApi(APIView):
    permission_classes = [IsMLEngineerOrWatcher]

    @extend_schema(responses={(200, "text/csv"): bytes})
    def get(self, request):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "node",
                "center",
                "build",
                "key",
                "scan",
                "scored_at",
                "received_at",
                *(f"score_{c}" for c in HEMORRHAGE_CLASSES),
                *(f"positive_{c}" for c in HEMORRHAGE_CLASSES),
                *(f"{stage}_ms" for stage in STAGES),
                "error",
            ]
        )
        for p in prediction_list().order_by("scored_at", "id").iterator():
            writer.writerow(
                [
                    p.node.name,
                    p.node.center.name,
                    p.build.number,
                    p.key,
                    p.scan_id or "",
                    p.scored_at.isoformat(),
                    p.received_at.isoformat(),
                    *(p.scores.get(c, "") for c in HEMORRHAGE_CLASSES),
                    *(p.decision.get(c, "") for c in HEMORRHAGE_CLASSES),
                    *(p.timings_ms.get(stage, "") for stage in STAGES),
                    p.error,
                ]
            )
        response = HttpResponse(out.getvalue(), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="predictions.csv"'
        return response
