"""URLs of modelops.registry: pages (``urlpatterns``) and API (``api_urlpatterns``)."""

from django.urls import path

from modelops.registry.api import (
    ModelVersionArtifactApi,
    ModelVersionDetailApi,
    ModelVersionListApi,
    ModelVersionStatusApi,
)
from modelops.registry.views import ModelCompareView, ModelVersionView

urlpatterns = [
    path(
        "versions/<id:version_id>/",
        ModelVersionView.as_view(),
        name="model-version-page",
    ),
    path("compare/", ModelCompareView.as_view(), name="model-compare-page"),
]

api_urlpatterns = [
    path("models/", ModelVersionListApi.as_view(), name="model-version-list"),
    path(
        "models/<id:version_id>/",
        ModelVersionDetailApi.as_view(),
        name="model-version-detail",
    ),
    path(
        "models/<id:version_id>/status/",
        ModelVersionStatusApi.as_view(),
        name="model-version-status",
    ),
    path(
        "models/<id:version_id>/artifact/",
        ModelVersionArtifactApi.as_view(),
        name="model-version-artifact",
    ),
]
