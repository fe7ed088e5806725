from django.urls import path

from modelops import api

urlpatterns = [
    path("snapshots/", api.SnapshotListApi.as_view(), name="snapshot-list"),
    path("snapshots/<int:snapshot_id>/", api.SnapshotDetailApi.as_view(), name="snapshot-detail"),
    path(
        "snapshots/<int:snapshot_id>/cancel/",
        api.SnapshotCancelApi.as_view(),
        name="snapshot-cancel",
    ),
    path("training-config/", api.TrainingConfigApi.as_view(), name="training-config"),
    path("runs/", api.TrainingRunListApi.as_view(), name="training-run-list"),
    path("runs/<uuid:run_id>/", api.TrainingRunDetailApi.as_view(), name="training-run-detail"),
    path(
        "runs/<uuid:run_id>/cancel/",
        api.TrainingRunCancelApi.as_view(),
        name="training-run-cancel",
    ),
    path("runs/<uuid:run_id>/log/", api.TrainingRunLogApi.as_view(), name="training-run-log"),
    path("models/", api.ModelVersionListApi.as_view(), name="model-version-list"),
    path(
        "models/<int:version_id>/",
        api.ModelVersionDetailApi.as_view(),
        name="model-version-detail",
    ),
    path(
        "models/<int:version_id>/status/",
        api.ModelVersionStatusApi.as_view(),
        name="model-version-status",
    ),
    path(
        "models/<int:version_id>/artifact/",
        api.ModelVersionArtifactApi.as_view(),
        name="model-version-artifact",
    ),
]
