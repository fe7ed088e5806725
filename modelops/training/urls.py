"""URLs of modelops.training: pages (``urlpatterns``) and API (``api_urlpatterns``)."""

from django.urls import path

from modelops.training.api import (
    TrainingConfigApi,
    TrainingRunCancelApi,
    TrainingRunDetailApi,
    TrainingRunListApi,
    TrainingRunLogApi,
)
from modelops.training.views import TrainingRunView

urlpatterns = [
    path("runs/<uuid:run_id>/", TrainingRunView.as_view(), name="training-run-page"),
]

api_urlpatterns = [
    path("training-config/", TrainingConfigApi.as_view(), name="training-config"),
    path("runs/", TrainingRunListApi.as_view(), name="training-run-list"),
    path("runs/<uuid:run_id>/", TrainingRunDetailApi.as_view(), name="training-run-detail"),
    path(
        "runs/<uuid:run_id>/cancel/",
        TrainingRunCancelApi.as_view(),
        name="training-run-cancel",
    ),
    path("runs/<uuid:run_id>/log/", TrainingRunLogApi.as_view(), name="training-run-log"),
]
