"""What Django answers by itself (no route matched, a body too large, a refusal before any view,
a crash): under /api/ the API's one JSON error shape, elsewhere the site's pages."""

from django.http import JsonResponse
from django.views import defaults

API_PREFIX = "/api/"


def _api_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"message": message, "extra": {}}, status=status)


def bad_request(request, exception=None):
    if request.path.startswith(API_PREFIX):
        # e.g. a body over DATA_UPLOAD_MAX_MEMORY_SIZE: Django's message names the limit
        return _api_error(str(exception) or "Bad request.", 400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if request.path.startswith(API_PREFIX):
        return _api_error("You do not have permission to perform this action.", 403)
    return defaults.permission_denied(request, exception)


def not_found(request, exception=None):
    if request.path.startswith(API_PREFIX):
        return _api_error(f"No API route {request.path}.", 404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith(API_PREFIX):
        return _api_error("Internal error: the server logged it.", 500)
    return defaults.server_error(request)
