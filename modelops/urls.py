"""The modelops app's URLs: the workspace, then each feature's pages and API, gathered.

The project mounts ``urlpatterns`` at /models/ and ``api_urlpatterns`` at /api/v1/modelops/.
"""

from django.urls import include, path

from modelops.builds import urls as builds
from modelops.disagreements import urls as disagreements
from modelops.likert import urls as likert
from modelops.monitoring import urls as monitoring
from modelops.nodes import urls as nodes
from modelops.registry import urls as registry
from modelops.releases import urls as releases
from modelops.saliency import urls as saliency
from modelops.scan_saliency import urls as scan_saliency
from modelops.snapshots import urls as snapshots
from modelops.training import urls as training
from modelops.workspace import ModelsWorkspaceView

FEATURES = (
    snapshots,
    training,
    registry,
    saliency,
    likert,
    scan_saliency,
    releases,
    builds,
    nodes,
    monitoring,
    disagreements,
)

urlpatterns = [
    path("", ModelsWorkspaceView.as_view(), name="models-page"),
    *(path("", include(feature.urlpatterns)) for feature in FEATURES),
]
api_urlpatterns = [path("", include(feature.api_urlpatterns)) for feature in FEATURES]
