"""URLs of builds: the version page's Build form, and the API."""

from django.urls import path

from modelops.builds.api import BuildDetailApi, BuildFileApi, BuildListApi, BuildPublicKeyApi
from modelops.builds.views import BuildRequestView

urlpatterns = [
    path("versions/<id:version_id>/builds/", BuildRequestView.as_view(), name="build-request"),
]

api_urlpatterns = [
    path("builds/", BuildListApi.as_view(), name="build-list"),
    path("builds/public-key/", BuildPublicKeyApi.as_view(), name="build-public-key"),
    path("builds/<id:build_id>/", BuildDetailApi.as_view(), name="build-detail"),
    path("builds/<id:build_id>/files/<str:name>", BuildFileApi.as_view(), name="build-file"),
]
