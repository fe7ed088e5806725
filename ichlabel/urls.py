from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from annotations import views
from annotations.coordination_views import AdjudicationView, GroundTruthView, ReadingRoundView

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("study/", views.StudyOverviewView.as_view(), name="study"),
    path("study/scans/", views.ScanListView.as_view(), name="scan-list-page"),
    path("study/scans/<int:scan_id>/", views.ScanDetailView.as_view(), name="scan-detail-page"),
    path("study/import/", views.ImportNewView.as_view(), name="import-new"),
    path("study/imports/", views.ImportBatchListView.as_view(), name="import-list-page"),
    path(
        "study/imports/<uuid:batch_id>/",
        views.ImportBatchDetailView.as_view(),
        name="import-detail-page",
    ),
    path("study/dashboard/", views.DashboardView.as_view(), name="dashboard-page"),
    path("study/reading/", ReadingRoundView.as_view(), name="reading-round-page"),
    path("study/adjudication/", AdjudicationView.as_view(), name="adjudication-page"),
    path("study/ground-truth/", GroundTruthView.as_view(), name="ground-truth-page"),
    path("reading/", views.WorklistView.as_view(), name="worklist-page"),
    path("reading/<int:read_id>/", views.ReadingView.as_view(), name="reading-page"),
    path("models/", include("modelops.page_urls")),
    path("api/v1/modelops/", include("modelops.urls")),
    path("api/v1/", include("annotations.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
