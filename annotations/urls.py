from django.urls import path

from annotations import api

urlpatterns = [
    path("centers/", api.CenterListApi.as_view(), name="center-list"),
    path("centers/create/", api.CenterCreateApi.as_view(), name="center-create"),
    path(
        "centers/<int:center_id>/split/", api.CenterSplitSetApi.as_view(), name="center-split-set"
    ),
    path("scans/", api.ScanListApi.as_view(), name="scan-list"),
    path("scans/<int:scan_id>/", api.ScanDetailApi.as_view(), name="scan-detail"),
    path("import-batches/", api.ImportBatchListApi.as_view(), name="import-batch-list"),
    path("import-batches/create/", api.ImportBatchCreateApi.as_view(), name="import-batch-create"),
    path(
        "import-batches/<uuid:batch_id>/",
        api.ImportBatchDetailApi.as_view(),
        name="import-batch-detail",
    ),
    path(
        "import-batches/<uuid:batch_id>/files/",
        api.ImportBatchFilesAddApi.as_view(),
        name="import-batch-files-add",
    ),
    path(
        "import-batches/<uuid:batch_id>/start/",
        api.ImportBatchStartApi.as_view(),
        name="import-batch-start",
    ),
    path(
        "import-batches/<uuid:batch_id>/cancel/",
        api.ImportBatchCancelApi.as_view(),
        name="import-batch-cancel",
    ),
]
