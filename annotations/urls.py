from django.urls import path

from annotations.api import images, reads
from annotations.api import study as api

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
    path(
        "scans/<int:scan_id>/slices/<int:position_index>/file",
        images.SliceFileApi.as_view(),
        name="slice-file",
    ),
    path("worklist/", reads.WorklistApi.as_view(), name="worklist"),
    path("reads/<int:read_id>/", reads.ReadDetailApi.as_view(), name="read-detail"),
    path(
        "reads/<int:read_id>/labels/", reads.SliceLabelSaveApi.as_view(), name="slice-labels-save"
    ),
    path("reads/<int:read_id>/progress/", reads.ReadProgressApi.as_view(), name="read-progress"),
    path("reads/<int:read_id>/flags/", reads.ReadFlagsSetApi.as_view(), name="read-flags-set"),
    path("reads/<int:read_id>/complete/", reads.ReadCompleteApi.as_view(), name="read-complete"),
]
