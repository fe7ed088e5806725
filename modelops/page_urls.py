"""The ML engineer's pages, mounted at /models/ (the API lives under /api/v1/modelops/)."""

from django.urls import path

from modelops import views

urlpatterns = [
    path("", views.ModelsWorkspaceView.as_view(), name="models-page"),
    path("runs/<uuid:run_id>/", views.TrainingRunView.as_view(), name="training-run-page"),
    path(
        "versions/<int:version_id>/",
        views.ModelVersionView.as_view(),
        name="model-version-page",
    ),
    path("compare/", views.ModelCompareView.as_view(), name="model-compare-page"),
]
