"""URLs of annotations.assignment: pages (``urlpatterns``) and API (``api_urlpatterns``)."""

from django.urls import path

from annotations.assignment.api import (
    ReadChangeApi,
    ReaderWorkloadListApi,
    ReadReassignApi,
    ReadUnassignApi,
    ScansAssignApi,
    SecondReadListApi,
    StudyReadListApi,
    UncertaintyPoolApi,
)
from annotations.assignment.views import ReadingRoundView

urlpatterns = [
    path("study/reading/", ReadingRoundView.as_view(), name="reading-round-page"),
]

api_urlpatterns = [
    # Assignment (coordinators)
    path("assignments/", ScansAssignApi.as_view(), name="scans-assign"),
    path(
        "assignments/uncertainty/",
        UncertaintyPoolApi.as_view(),
        name="assignment-uncertainty",
    ),
    path("study-reads/", StudyReadListApi.as_view(), name="study-read-list"),
    path("study-reads/<id:read_id>/change/", ReadChangeApi.as_view(), name="read-change"),
    path(
        "study-reads/<id:read_id>/reassign/",
        ReadReassignApi.as_view(),
        name="read-reassign",
    ),
    path(
        "study-reads/<id:read_id>/unassign/",
        ReadUnassignApi.as_view(),
        name="read-unassign",
    ),
    path("readers/workload/", ReaderWorkloadListApi.as_view(), name="reader-workload"),
    # Second reads on request (coordinators)
    path("second-reads/", SecondReadListApi.as_view(), name="second-read-list"),
]
