"""URLs of builds (API; the list and the Build button are on the model version's page)."""

from django.urls import path

from modelops.builds.api import BuildDetailApi, BuildFileApi, BuildListApi, BuildPublicKeyApi

urlpatterns: list = []

api_urlpatterns = [
    path("builds/", BuildListApi.as_view(), name="build-list"),
    path("builds/public-key/", BuildPublicKeyApi.as_view(), name="build-public-key"),
    path("builds/<int:build_id>/", BuildDetailApi.as_view(), name="build-detail"),
    path("builds/<int:build_id>/files/<str:name>", BuildFileApi.as_view(), name="build-file"),
]
