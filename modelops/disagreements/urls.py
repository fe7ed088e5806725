"""URLs of modelops.disagreements: the page (``urlpatterns``) and API (``api_urlpatterns``)."""

from django.urls import path

from modelops.disagreements.api import (
    DisagreementListApi,
    DisagreementSendApi,
    ScanScoringRunCancelApi,
    ScanScoringRunListApi,
)
from modelops.disagreements.views import DisagreementsView

urlpatterns = [
    path(
        "versions/<id:version_id>/disagreements/",
        DisagreementsView.as_view(),
        name="model-disagreements-page",
    ),
]

api_urlpatterns = [
    path(
        "models/<id:version_id>/disagreements/",
        DisagreementListApi.as_view(),
        name="model-disagreements",
    ),
    path(
        "models/<id:version_id>/disagreements/second-reads/",
        DisagreementSendApi.as_view(),
        name="model-disagreements-send",
    ),
    path(
        "models/<id:version_id>/scoring-runs/",
        ScanScoringRunListApi.as_view(),
        name="model-scoring-runs",
    ),
    path(
        "models/<id:version_id>/scoring-runs/<id:scoring_run_id>/cancel/",
        ScanScoringRunCancelApi.as_view(),
        name="model-scoring-run-cancel",
    ),
]
