"""URLs of annotations.reading: pages (``urlpatterns``) and API (``api_urlpatterns``)."""

from django.urls import path

from annotations.reading.api import (
    ReadCompleteApi,
    ReadDetailApi,
    ReadFlagsSetApi,
    ReadProgressApi,
    ScanLabelApi,
    SliceFileApi,
    SliceLabelSaveApi,
    WorklistApi,
)
from annotations.reading.views import ReadingView, WorklistView

urlpatterns = [
    path("reading/", WorklistView.as_view(), name="worklist-page"),
    path("reading/<id:read_id>/", ReadingView.as_view(), name="reading-page"),
]

api_urlpatterns = [
    path(
        "scans/<id:scan_id>/slices/<id:position_index>/file",
        SliceFileApi.as_view(),
        name="slice-file",
    ),
    # The reads API with each read's level and scan label (scan-level reads of test scans).
    path("worklist/", WorklistApi.as_view(), name="worklist"),
    path("reads/<id:read_id>/", ReadDetailApi.as_view(), name="read-detail"),
    path("reads/<id:read_id>/labels/", SliceLabelSaveApi.as_view(), name="slice-labels-save"),
    path("reads/<id:read_id>/progress/", ReadProgressApi.as_view(), name="read-progress"),
    path("reads/<id:read_id>/flags/", ReadFlagsSetApi.as_view(), name="read-flags-set"),
    path("reads/<id:read_id>/complete/", ReadCompleteApi.as_view(), name="read-complete"),
    path("reads/<id:read_id>/scan-label/", ScanLabelApi.as_view(), name="scan-label"),
]
