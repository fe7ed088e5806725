"""URLs of modelops.likert: pages (``urlpatterns``) and API (``api_urlpatterns``)."""

from django.urls import path

from modelops.likert.api import (
    LikertCaseOverlayApi,
    LikertCaseSliceApi,
    LikertItemListApi,
    LikertResultsApi,
    LikertScoreApi,
    LikertScoresCsvApi,
    LikertStudyCloseApi,
    LikertStudyListApi,
)
from modelops.likert.views import LikertListView, LikertResultsView, LikertScoreView

urlpatterns: list = []

# Readers score here too, so the study's pages are not under /models/ (ichlabel/urls.py mounts
# them at /likert/).
study_urlpatterns = [
    path("", LikertListView.as_view(), name="likert-list-page"),
    path("<id:study_id>/score/", LikertScoreView.as_view(), name="likert-score-page"),
    path("<id:study_id>/results/", LikertResultsView.as_view(), name="likert-results-page"),
]

api_urlpatterns = [
    path("likert-studies/", LikertStudyListApi.as_view(), name="likert-study-list"),
    path(
        "likert-studies/<id:study_id>/items/",
        LikertItemListApi.as_view(),
        name="likert-item-list",
    ),
    path("likert-studies/<id:study_id>/scores/", LikertScoreApi.as_view(), name="likert-score"),
    path(
        "likert-studies/<id:study_id>/close/",
        LikertStudyCloseApi.as_view(),
        name="likert-study-close",
    ),
    path(
        "likert-studies/<id:study_id>/results/",
        LikertResultsApi.as_view(),
        name="likert-study-results",
    ),
    path(
        "likert-studies/<id:study_id>/scores.csv",
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
