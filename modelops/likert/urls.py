"""URLs of modelops.likert: pages (``urlpatterns``) and API (``api_urlpatterns``)."""

from django.urls import path

from modelops.likert.api import (
    LikertCaseOverlayApi,
    LikertCaseSliceApi,
    LikertItemListApi,
    LikertScoreApi,
    LikertScoresCsvApi,
    LikertStudyCloseApi,
    LikertStudyListApi,
)

urlpatterns: list = []

api_urlpatterns = [
    path("likert-studies/", LikertStudyListApi.as_view(), name="likert-study-list"),
    path(
        "likert-studies/<int:study_id>/items/",
        LikertItemListApi.as_view(),
        name="likert-item-list",
    ),
    path("likert-studies/<int:study_id>/scores/", LikertScoreApi.as_view(), name="likert-score"),
    path(
        "likert-studies/<int:study_id>/close/",
        LikertStudyCloseApi.as_view(),
        name="likert-study-close",
    ),
    path(
        "likert-studies/<int:study_id>/scores.csv",
        LikertScoresCsvApi.as_view(),
        name="likert-scores-csv",
    ),
    path(
        "likert-cases/<uuid:token>/overlay.png",
        LikertCaseOverlayApi.as_view(),
        name="likert-case-overlay",
    ),
    path(
        "likert-cases/<uuid:token>/slice/", LikertCaseSliceApi.as_view(), name="likert-case-slice"
    ),
]
