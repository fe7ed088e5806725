"""URLs of annotations.adjudication: pages (``urlpatterns``) and API (``api_urlpatterns``)."""

from django.urls import path

from annotations.adjudication.api import (
    AdjudicationItemDetailApi,
    AdjudicationItemListApi,
    AdjudicationItemResolveApi,
    AdjudicationMissingReadsRefreshApi,
    AdjudicationSplitVotesCreateApi,
)
from annotations.adjudication.views import AdjudicationView

urlpatterns = [
    path("study/adjudication/", AdjudicationView.as_view(), name="adjudication-page"),
]

api_urlpatterns = [
    # Adjudication (coordinators)
    path("adjudication/", AdjudicationItemListApi.as_view(), name="adjudication-list"),
    path(
        "adjudication/missing-reads/",
        AdjudicationMissingReadsRefreshApi.as_view(),
        name="adjudication-missing-reads",
    ),
    path(
        "adjudication/split-votes/",
        AdjudicationSplitVotesCreateApi.as_view(),
        name="adjudication-split-votes",
    ),
    path(
        "adjudication/<id:item_id>/",
        AdjudicationItemDetailApi.as_view(),
        name="adjudication-detail",
    ),
    path(
        "adjudication/<id:item_id>/resolve/",
        AdjudicationItemResolveApi.as_view(),
        name="adjudication-resolve",
    ),
]
