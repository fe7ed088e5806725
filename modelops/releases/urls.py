"""URLs of model output releases (API; the form is on the model version's page)."""

from django.urls import path

from modelops.releases.api import ReleaseListApi, ReleaseWithdrawApi

urlpatterns: list = []

api_urlpatterns = [
    path("models/<id:version_id>/releases/", ReleaseListApi.as_view(), name="model-release-list"),
    path(
        "models/<id:version_id>/releases/withdraw/",
        ReleaseWithdrawApi.as_view(),
        name="model-release-withdraw",
    ),
]
