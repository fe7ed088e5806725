"""What Django answers by itself (no route matched, a body too large, a refusal before any view,
a crash): under /api/ the API's one JSON error shape, elsewhere the site's pages.

A crash because the database cannot be reached (a restart, a failover) is not the request's
fault and passes: under /api/ it is a 503 that says to retry, with ``Retry-After``. Such a
request was not acknowledged: its transaction was rolled back (or, if the connection broke in
its commit, may have finished), so a client sends it again, and a label save's version check
tells a save that did land (409 with the current values).
"""

import sys

from django.http import JsonResponse
from django.views import defaults

from ichlabel.jobs.errors import database_gone

DATABASE_RETRY_AFTER_S = 5

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
        # Django calls this handler while it handles the exception: the exception is at hand.
        if database_gone(sys.exc_info()[1]):
            response = _api_error("The database is unavailable; retry in a few seconds.", 503)
            response["Retry-After"] = str(DATABASE_RETRY_AFTER_S)
            return response
        return _api_error("Internal error: the server logged it.", 500)
    return defaults.server_error(request)
