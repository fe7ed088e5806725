"""URLs of modelops.snapshots: pages (``urlpatterns``) and API (``api_urlpatterns``)."""

from django.urls import path

from modelops.snapshots.api import SnapshotCancelApi, SnapshotDetailApi, SnapshotListApi

urlpatterns = []

api_urlpatterns = [
    path("snapshots/", SnapshotListApi.as_view(), name="snapshot-list"),
    path("snapshots/<id:snapshot_id>/", SnapshotDetailApi.as_view(), name="snapshot-detail"),
    path(
        "snapshots/<id:snapshot_id>/cancel/",
        SnapshotCancelApi.as_view(),
        name="snapshot-cancel",
    ),
]
