"""URLs of the monitoring: a model version's prospective page and the CSV of every table (the
node tables are on the inference nodes' page)."""

from django.urls import path

from modelops.monitoring import api
from modelops.monitoring.views import ProspectiveView

urlpatterns = [
    path(
        "versions/<id:version_id>/prospective/",
        ProspectiveView.as_view(),
        name="prospective-page",
    ),
]

api_urlpatterns = [
    path("predictions.csv", api.PredictionCsvApi.as_view(), name="prediction-csv"),
    path("monitoring.csv", api.MonitoringCsvApi.as_view(), name="monitoring-csv"),
    path(
        "models/<id:version_id>/prospective.csv",
        api.ProspectiveCsvApi.as_view(),
        name="prospective-csv",
    ),
    path("models/<id:version_id>/drift.csv", api.DriftCsvApi.as_view(), name="drift-csv"),
]
