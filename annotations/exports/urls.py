"""URLs of annotations.exports: pages (``urlpatterns``) and API (``api_urlpatterns``)."""

from django.urls import path

from annotations.exports.api import (
    ExportJobCancelApi,
    ExportJobDetailApi,
    ExportJobFileApi,
    ExportJobStartApi,
    GroundTruthExportApi,
)

urlpatterns = []

api_urlpatterns = [
    # Exports of a frozen version: slices.csv, rsna.csv, scans.csv, reader-labels.csv, sr.zip
    path(
        "ground-truth/<id:version_id>/exports/<str:kind>/",
        GroundTruthExportApi.as_view(),
        name="ground-truth-export",
    ),
    # The DICOM SR zip built by a worker: start, follow, download, cancel
    path(
        "ground-truth/<id:version_id>/export-jobs/",
        ExportJobStartApi.as_view(),
        name="export-job-start",
    ),
    path("export-jobs/<uuid:job_id>/", ExportJobDetailApi.as_view(), name="export-job-detail"),
    path("export-jobs/<uuid:job_id>/file/", ExportJobFileApi.as_view(), name="export-job-file"),
    path(
        "export-jobs/<uuid:job_id>/cancel/", ExportJobCancelApi.as_view(), name="export-job-cancel"
    ),
]
