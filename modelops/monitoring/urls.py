"""URLs of the monitoring (its tables are on the inference nodes' page)."""

from django.urls import path

from modelops.monitoring.api import PredictionCsvApi

urlpatterns: list = []

api_urlpatterns = [
    path("predictions.csv", PredictionCsvApi.as_view(), name="prediction-csv"),
]
