"""URLs of annotations.progress: pages (``urlpatterns``) and API (``api_urlpatterns``)."""

from django.urls import path

from annotations.progress.api import ProgressApi, ProgressCsvApi
from annotations.progress.views import DashboardView

urlpatterns = [
    path("study/dashboard/", DashboardView.as_view(), name="dashboard-page"),
]

api_urlpatterns = [
    # Reading progress (coordinators): JSON for the dashboard, each table as CSV
    path("progress/", ProgressApi.as_view(), name="progress"),
    path("progress/<str:table>.csv", ProgressCsvApi.as_view(), name="progress-csv"),
]
