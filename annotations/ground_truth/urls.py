"""URLs of annotations.ground_truth: pages (``urlpatterns``) and API (``api_urlpatterns``)."""

from django.urls import path

from annotations.ground_truth.api import (
    GroundTruthCompareApi,
    GroundTruthFreezeApi,
    GroundTruthReleaseApi,
    GroundTruthReleaseConsequencesApi,
    GroundTruthScanChangesApi,
    GroundTruthScanLabelListApi,
    GroundTruthSliceLabelListApi,
    GroundTruthVersionDetailApi,
    GroundTruthVersionListApi,
    ReaderGroundTruthScanLabelListApi,
    ReaderGroundTruthSliceLabelListApi,
    ReaderGroundTruthVersionDetailApi,
    ReaderGroundTruthVersionListApi,
)
from annotations.ground_truth.views import GroundTruthChangesView, GroundTruthView

urlpatterns = [
    path("study/ground-truth/", GroundTruthView.as_view(), name="ground-truth-page"),
    path(
        "study/ground-truth/changes/",
        GroundTruthChangesView.as_view(),
        name="ground-truth-changes-page",
    ),
]

api_urlpatterns = [
    # Ground-truth versions
    path("ground-truth/", GroundTruthVersionListApi.as_view(), name="ground-truth-list"),
    path(
        "ground-truth/freeze/",
        GroundTruthFreezeApi.as_view(),
        name="ground-truth-freeze",
    ),
    path(
        "ground-truth/compare/",
        GroundTruthCompareApi.as_view(),
        name="ground-truth-compare",
    ),
    path(
        "ground-truth/compare/scans/",
        GroundTruthScanChangesApi.as_view(),
        name="ground-truth-scan-changes",
    ),
    path(
        "ground-truth/<id:version_id>/",
        GroundTruthVersionDetailApi.as_view(),
        name="ground-truth-detail",
    ),
    path(
        "ground-truth/<id:version_id>/release/",
        GroundTruthReleaseApi.as_view(),
        name="ground-truth-release",
    ),
    path(
        "ground-truth/<id:version_id>/release/consequences/",
        GroundTruthReleaseConsequencesApi.as_view(),
        name="ground-truth-release-consequences",
    ),
    path(
        "ground-truth/<id:version_id>/scans/",
        GroundTruthScanLabelListApi.as_view(),
        name="ground-truth-scans",
    ),
    path(
        "ground-truth/<id:version_id>/scans/<id:scan_id>/slices/",
        GroundTruthSliceLabelListApi.as_view(),
        name="ground-truth-slices",
    ),
    # The reader's view of released versions: the scans they read, nothing more.
    path(
        "reader/ground-truth/",
        ReaderGroundTruthVersionListApi.as_view(),
        name="reader-ground-truth-list",
    ),
    path(
        "reader/ground-truth/<id:version_id>/",
        ReaderGroundTruthVersionDetailApi.as_view(),
        name="reader-ground-truth-detail",
    ),
    path(
        "reader/ground-truth/<id:version_id>/scans/",
        ReaderGroundTruthScanLabelListApi.as_view(),
        name="reader-ground-truth-scans",
    ),
    path(
        "reader/ground-truth/<id:version_id>/scans/<id:scan_id>/slices/",
        ReaderGroundTruthSliceLabelListApi.as_view(),
        name="reader-ground-truth-slices",
    ),
]
