from django.urls import path

from annotations.api import assignment, consensus, images, reads, scan_labels
from annotations.api import exports as export_api
from annotations.api import study as api
from annotations.api.agreement import AgreementApi
from annotations.api.dashboard import ProgressApi, ProgressCsvApi

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
    # The reads API with each read's level and scan label (scan-level reads of test scans).
    path("worklist/", reads.WorklistApi.as_view(), name="worklist"),
    path("reads/<int:read_id>/", reads.ReadDetailApi.as_view(), name="read-detail"),
    path(
        "reads/<int:read_id>/labels/", reads.SliceLabelSaveApi.as_view(), name="slice-labels-save"
    ),
    path("reads/<int:read_id>/progress/", reads.ReadProgressApi.as_view(), name="read-progress"),
    path("reads/<int:read_id>/flags/", reads.ReadFlagsSetApi.as_view(), name="read-flags-set"),
    path("reads/<int:read_id>/complete/", reads.ReadCompleteApi.as_view(), name="read-complete"),
    path("reads/<int:read_id>/scan-label/", scan_labels.ScanLabelApi.as_view(), name="scan-label"),
    # Assignment (coordinators)
    path("assignments/", assignment.ScansAssignApi.as_view(), name="scans-assign"),
    path("study-reads/", assignment.StudyReadListApi.as_view(), name="study-read-list"),
    path(
        "study-reads/<int:read_id>/reassign/",
        assignment.ReadReassignApi.as_view(),
        name="read-reassign",
    ),
    path(
        "study-reads/<int:read_id>/unassign/",
        assignment.ReadUnassignApi.as_view(),
        name="read-unassign",
    ),
    path("readers/workload/", assignment.ReaderWorkloadListApi.as_view(), name="reader-workload"),
    # Adjudication (coordinators)
    path("adjudication/", consensus.AdjudicationItemListApi.as_view(), name="adjudication-list"),
    path(
        "adjudication/missing-reads/",
        consensus.AdjudicationMissingReadsRefreshApi.as_view(),
        name="adjudication-missing-reads",
    ),
    path(
        "adjudication/split-votes/",
        consensus.AdjudicationSplitVotesCreateApi.as_view(),
        name="adjudication-split-votes",
    ),
    path(
        "adjudication/<int:item_id>/",
        consensus.AdjudicationItemDetailApi.as_view(),
        name="adjudication-detail",
    ),
    path(
        "adjudication/<int:item_id>/resolve/",
        consensus.AdjudicationItemResolveApi.as_view(),
        name="adjudication-resolve",
    ),
    # Ground-truth versions
    path("ground-truth/", consensus.GroundTruthVersionListApi.as_view(), name="ground-truth-list"),
    path(
        "ground-truth/freeze/",
        consensus.GroundTruthFreezeApi.as_view(),
        name="ground-truth-freeze",
    ),
    path(
        "ground-truth/compare/",
        consensus.GroundTruthCompareApi.as_view(),
        name="ground-truth-compare",
    ),
    path(
        "ground-truth/<int:version_id>/",
        consensus.GroundTruthVersionDetailApi.as_view(),
        name="ground-truth-detail",
    ),
    path(
        "ground-truth/<int:version_id>/release/",
        consensus.GroundTruthReleaseApi.as_view(),
        name="ground-truth-release",
    ),
    path(
        "ground-truth/<int:version_id>/scans/",
        consensus.GroundTruthScanLabelListApi.as_view(),
        name="ground-truth-scans",
    ),
    path(
        "ground-truth/<int:version_id>/scans/<int:scan_id>/slices/",
        consensus.GroundTruthSliceLabelListApi.as_view(),
        name="ground-truth-slices",
    ),
    # Reader agreement (coordinators): JSON for the dashboard, the table as CSV
    path("agreement/", AgreementApi.as_view(), name="agreement"),
    path("agreement.csv", AgreementApi.as_view(), {"format": "csv"}, name="agreement-csv"),
    # Reading progress (coordinators): JSON for the dashboard, each table as CSV
    path("progress/", ProgressApi.as_view(), name="progress"),
    path("progress/<str:table>.csv", ProgressCsvApi.as_view(), name="progress-csv"),
    # Exports of a frozen version: slices.csv, rsna.csv, scans.csv, reader-labels.csv, sr.zip
    path(
        "ground-truth/<int:version_id>/exports/<str:kind>/",
        export_api.GroundTruthExportApi.as_view(),
        name="ground-truth-export",
    ),
]
