"""URLs of annotations.ingest: pages (``urlpatterns``) and API (``api_urlpatterns``)."""

from django.urls import path

from annotations.ingest.api import (
    CenterCreateApi,
    CenterListApi,
    CenterSplitChangeApi,
    CenterSplitSetApi,
    ImportBatchCancelApi,
    ImportBatchCreateApi,
    ImportBatchDetailApi,
    ImportBatchFilesAddApi,
    ImportBatchListApi,
    ImportBatchStartApi,
    ScanDetailApi,
    ScanListApi,
)
from annotations.ingest.views import (
    ImportBatchDetailView,
    ImportBatchListView,
    ImportNewView,
    ScanDetailView,
    ScanListView,
    StudyOverviewView,
)

urlpatterns = [
    path("study/", StudyOverviewView.as_view(), name="study"),
    path("study/scans/", ScanListView.as_view(), name="scan-list-page"),
    path("study/scans/<id:scan_id>/", ScanDetailView.as_view(), name="scan-detail-page"),
    path("study/import/", ImportNewView.as_view(), name="import-new"),
    path("study/imports/", ImportBatchListView.as_view(), name="import-list-page"),
    path(
        "study/imports/<uuid:batch_id>/",
        ImportBatchDetailView.as_view(),
        name="import-detail-page",
    ),
]

api_urlpatterns = [
    path("centers/", CenterListApi.as_view(), name="center-list"),
    path("centers/create/", CenterCreateApi.as_view(), name="center-create"),
    path("centers/<id:center_id>/split/", CenterSplitSetApi.as_view(), name="center-split-set"),
    path(
        "centers/<id:center_id>/split/change/",
        CenterSplitChangeApi.as_view(),
        name="center-split-change",
    ),
    path("scans/", ScanListApi.as_view(), name="scan-list"),
    path("scans/<id:scan_id>/", ScanDetailApi.as_view(), name="scan-detail"),
    path("import-batches/", ImportBatchListApi.as_view(), name="import-batch-list"),
    path("import-batches/create/", ImportBatchCreateApi.as_view(), name="import-batch-create"),
    path(
        "import-batches/<uuid:batch_id>/",
        ImportBatchDetailApi.as_view(),
        name="import-batch-detail",
    ),
    path(
        "import-batches/<uuid:batch_id>/files/",
        ImportBatchFilesAddApi.as_view(),
        name="import-batch-files-add",
    ),
    path(
        "import-batches/<uuid:batch_id>/start/",
        ImportBatchStartApi.as_view(),
        name="import-batch-start",
    ),
    path(
        "import-batches/<uuid:batch_id>/cancel/",
        ImportBatchCancelApi.as_view(),
        name="import-batch-cancel",
    ),
]
