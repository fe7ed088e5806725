"""Every API view refuses a query key it does not declare, before it runs.

A view declares its query keys with a nested ``FilterSerializer`` (read on GET); a view with a
``pagination_class`` takes DRF's ``limit`` and ``offset``; every view takes ``format`` (DRF's
renderer override). A misspelt filter (``?centre=3``) is a 400 that names it, not a list that
silently ignores it. The check runs before authentication, as the routes' own 404 does: it says
no more than the published schema.

``limit`` and ``offset`` are checked here too, for every paginated view: DRF's paginator takes
any script's digits and passes an offset of any size to the database (a 500 there) where it
should say no.
"""

import re

from django.http import HttpRequest, JsonResponse

from ichlabel.errorpages import API_PREFIX
from ichlabel.input_checks import PAGING_KEYS

# Up to 18 ASCII digits: every such number fits the database's 64-bit LIMIT and OFFSET.
PAGING_VALUE = re.compile(r"[0-9]{1,18}", re.ASCII)

# The project's own views; DRF-based views of libraries (the schema) keep their own keys.
OWN_MODULES = ("annotations.", "modelops.", "ichlabel.")


def declared_query_keys(view: type, method: str) -> frozenset[str]:
    keys = {"format"}
    if method in ("GET", "HEAD"):
        filters = getattr(view, "FilterSerializer", None)
        if filters is not None:
            keys |= set(filters().fields)
        if getattr(view, "pagination_class", None) is not None:
            keys |= PAGING_KEYS
    return frozenset(keys)


class ApiQueryKeysMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        view = getattr(view_func, "cls", None)  # DRF's as_view() names its class
        if (
            view is None
            or not request.path.startswith(API_PREFIX)
            or not view.__module__.startswith(OWN_MODULES)
        ):
            return None
        allowed = declared_query_keys(view, request.method or "")
        fields = dict.fromkeys(sorted(set(request.GET) - allowed), ["Unknown query parameter."])
        for key in PAGING_KEYS & allowed:
            values = request.GET.getlist(key)
            if values and (len(values) > 1 or not PAGING_VALUE.fullmatch(values[0])):
                fields[key] = ["Enter one whole number of up to 18 ASCII digits (0-9)."]
        if not fields:
            return None
        body = {"message": "Validation error", "extra": {"fields": fields}}
        return JsonResponse(body, status=400)
