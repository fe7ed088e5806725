"""The annotations app's URLs: the home page, then each feature's pages and API, gathered.

The project mounts ``urlpatterns`` at the site root and ``api_urlpatterns`` at /api/v1/.
"""

from django.urls import include, path

from annotations.adjudication import urls as adjudication
from annotations.agreement import urls as agreement
from annotations.assignment import urls as assignment
from annotations.exports import urls as exports
from annotations.ground_truth import urls as ground_truth
from annotations.ingest import urls as ingest
from annotations.pages import home
from annotations.progress import urls as progress
from annotations.reading import urls as reading

FEATURES = (ingest, reading, assignment, adjudication, ground_truth, agreement, progress, exports)

urlpatterns = [
    path("", home, name="home"),
    *(path("", include(feature.urlpatterns)) for feature in FEATURES),
]
api_urlpatterns = [path("", include(feature.api_urlpatterns)) for feature in FEATURES]
