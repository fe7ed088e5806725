"""URLs of the inference nodes: their page, the node's own API, and the ML engineer's."""

from django.urls import path

from modelops.nodes import api
from modelops.nodes.views import NodeActionView, NodesView

urlpatterns = [
    path("nodes/", NodesView.as_view(), name="nodes-page"),
    path("nodes/<str:action>/", NodeActionView.as_view(), name="nodes-action"),
]

api_urlpatterns = [
    path("node/enrol/", api.NodeEnrolApi.as_view(), name="node-enrol"),
    path("node/heartbeat/", api.NodeHeartbeatApi.as_view(), name="node-heartbeat"),
    path("node/predictions/", api.NodePredictionApi.as_view(), name="node-prediction"),
    path("node/series/", api.NodeSeriesApi.as_view(), name="node-series"),
    path(
        "node/builds/<id:number>/files/<str:name>",
        api.NodeBuildFileApi.as_view(),
        name="node-build-file",
    ),
    path("nodes/", api.NodeListApi.as_view(), name="node-list"),
    path("nodes/<id:node_id>/revoke/", api.NodeRevokeApi.as_view(), name="node-revoke"),
    path("nodes/<id:node_id>/enrolment/", api.NodeEnrolmentApi.as_view(), name="node-enrolment"),
    path("rollouts/", api.RolloutListApi.as_view(), name="rollout-list"),
    path(
        "rollouts/<id:rollout_id>/rollback/",
        api.RolloutRollbackApi.as_view(),
        name="rollout-rollback",
    ),
]
