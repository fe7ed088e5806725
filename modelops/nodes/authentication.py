"""How a node authenticates: ``Authorization: Node <token>``. Only the node API's views accept
it, so a node token reaches nothing else; those views accept nothing but it. An address that
keeps sending unknown tokens is locked for a while (``ichlabel.throttling``: a 429)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from ichlabel.throttling import token_check_not_locked, token_failure
from modelops.models import EdgeNode
from modelops.nodes.services import node_by_token


class NodePrincipal:
    """``request.user`` of a node's request: authenticated, with no role and no staff rights."""

    is_authenticated = True
    is_active = True
    is_superuser = False
    is_staff = False

    def __init__(self, node: EdgeNode) -> None:
        self.node = node
        self.pk = None
        self._ichlabel_roles: set[str] = set()  # read by user_has_role: no role at all

    def __str__(self) -> str:
        return f"node {self.node.name}"


class NodeTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Node"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        token_check_not_locked(request)
        if len(header) != 2:
            token_failure(request)
            raise exceptions.AuthenticationFailed("Authorization: Node <token>.")
        node = node_by_token(header[1].decode("latin-1"))
        if node is None:
            token_failure(request)
            raise exceptions.AuthenticationFailed("Unknown or revoked node token.")
        return NodePrincipal(node), node

    def authenticate_header(self, request) -> str:
        return self.keyword


class NodeTokenScheme(OpenApiAuthenticationExtension):
    """The node token in the API schema: ``Authorization: Node <token>``."""

    target_class = "modelops.nodes.authentication.NodeTokenAuthentication"
    name = "nodeTokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Node <token>: an inference node's own token",
        }
