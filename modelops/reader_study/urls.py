"""URLs of the reader study: pages (``study_urlpatterns``, mounted at /reader-studies/ by
ichlabel/urls.py: readers read there too) and API (``api_urlpatterns``, under /api/v1/)."""

from django.urls import path

from modelops.reader_study.api import (
    ReaderStudyAnswerApi,
    ReaderStudyCloseApi,
    ReaderStudyDetailApi,
    ReaderStudyListApi,
    ReaderStudyNextApi,
    ReaderStudyPrepareApi,
    ReaderStudyReadApi,
    ReaderStudyReadOverlayApi,
    ReaderStudyReadsCsvApi,
    ReaderStudyReadSliceApi,
    ReaderStudyResultsApi,
)
from modelops.reader_study.views import (
    ReaderStudyListView,
    ReaderStudyReadView,
    ReaderStudyView,
)

study_urlpatterns = [
    path("", ReaderStudyListView.as_view(), name="reader-study-list-page"),
    path("<id:study_id>/", ReaderStudyView.as_view(), name="reader-study-page"),
    path("<id:study_id>/read/", ReaderStudyReadView.as_view(), name="reader-study-read-page"),
]

api_urlpatterns = [
    path("reader-studies/", ReaderStudyListApi.as_view(), name="reader-study-list"),
    path(
        "reader-studies/<id:study_id>/", ReaderStudyDetailApi.as_view(), name="reader-study-detail"
    ),
    path(
        "reader-studies/<id:study_id>/close/",
        ReaderStudyCloseApi.as_view(),
        name="reader-study-close",
    ),
    path(
        "reader-studies/<id:study_id>/prepare/",
        ReaderStudyPrepareApi.as_view(),
        name="reader-study-prepare",
    ),
    path(
        "reader-studies/<id:study_id>/next/", ReaderStudyNextApi.as_view(), name="reader-study-next"
    ),
    path(
        "reader-studies/<id:study_id>/results/",
        ReaderStudyResultsApi.as_view(),
        name="reader-study-results",
    ),
    path(
        "reader-studies/<id:study_id>/reads.csv",
        ReaderStudyReadsCsvApi.as_view(),
        name="reader-study-reads-csv",
    ),
    path(
        "reader-study-reads/<id:read_id>/", ReaderStudyReadApi.as_view(), name="reader-study-read"
    ),
    path(
        "reader-study-reads/<id:read_id>/answer/",
        ReaderStudyAnswerApi.as_view(),
        name="reader-study-answer",
    ),
    path(
        "reader-study-reads/<id:read_id>/slices/<id:position_index>/",
        ReaderStudyReadSliceApi.as_view(),
        name="reader-study-read-slice",
    ),
    path(
        "reader-study-reads/<id:read_id>/overlay/<id:position_index>.png",
        ReaderStudyReadOverlayApi.as_view(),
        name="reader-study-read-overlay",
    ),
]
