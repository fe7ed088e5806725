"""URLs of annotations.exports: pages (``urlpatterns``) and API (``api_urlpatterns``)."""

from django.urls import path

from annotations.exports.api import GroundTruthExportApi

urlpatterns = []

api_urlpatterns = [
    # Exports of a frozen version: slices.csv, rsna.csv, scans.csv, reader-labels.csv, sr.zip
    path(
        "ground-truth/<id:version_id>/exports/<str:kind>/",
        GroundTruthExportApi.as_view(),
        name="ground-truth-export",
    ),
]
