"""URLs of the viewer's saliency overlay (API only; the pages that show it are the reading
view and the scan page)."""

from django.urls import path

from modelops.scan_saliency.api import (
    ScanModelOutputApi,
    ScanSaliencyDetailApi,
    ScanSaliencyOverlayApi,
    ScanSaliencyRequestApi,
)

urlpatterns: list = []

api_urlpatterns = [
    path(
        "scans/<id:scan_id>/model-output/", ScanModelOutputApi.as_view(), name="scan-model-output"
    ),
    path(
        "scans/<id:scan_id>/saliency/",
        ScanSaliencyRequestApi.as_view(),
        name="scan-saliency-request",
    ),
    path(
        "scan-saliency/<id:run_id>/", ScanSaliencyDetailApi.as_view(), name="scan-saliency-detail"
    ),
    path(
        "scan-saliency/<id:run_id>/<str:method>/<id:position_index>.png",
        ScanSaliencyOverlayApi.as_view(),
        name="scan-saliency-overlay",
    ),
]
