"""URLs of modelops.saliency: pages (``urlpatterns``) and API (``api_urlpatterns``)."""

from django.urls import path

from modelops.saliency.api import (
    SaliencyOverlayApi,
    SaliencyRunCancelApi,
    SaliencyRunDetailApi,
    SaliencyRunListApi,
    SaliencySliceListApi,
)
from modelops.saliency.views import SaliencyCancelView, SaliencyRequestView, SaliencyRunView

urlpatterns = [
    path(
        "versions/<id:version_id>/saliency/",
        SaliencyRequestView.as_view(),
        name="saliency-request",
    ),
    path("saliency/<id:run_id>/", SaliencyRunView.as_view(), name="saliency-run-page"),
    path(
        "saliency/<id:run_id>/cancel/",
        SaliencyCancelView.as_view(),
        name="saliency-run-cancel-page",
    ),
]

api_urlpatterns = [
    path("saliency-runs/", SaliencyRunListApi.as_view(), name="saliency-run-list"),
    path("saliency-runs/<id:run_id>/", SaliencyRunDetailApi.as_view(), name="saliency-run-detail"),
    path(
        "saliency-runs/<id:run_id>/cancel/",
        SaliencyRunCancelApi.as_view(),
        name="saliency-run-cancel",
    ),
    path(
        "saliency-runs/<id:run_id>/slices/",
        SaliencySliceListApi.as_view(),
        name="saliency-slice-list",
    ),
    path("saliency-maps/<uuid:token>.png", SaliencyOverlayApi.as_view(), name="saliency-overlay"),
]
