"""The Content-Security-Policy header, from ``SECURE_CSP`` (settings_production.py).

Django 6 brings this middleware itself (``django.middleware.csp``, reading the same setting in
the same shape: directive -> list of sources); on Django 5 this small one stands in, and a move
to 6 only swaps the middleware's name.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def csp_header_value(policy: dict[str, list[str]]) -> str:
    """``{"default-src": ["'self'"], ...}`` as ``default-src 'self'; ...``."""
    return "; ".join(
        " ".join([directive, *sources]) if sources else directive
        for directive, sources in policy.items()
    )


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.value = csp_header_value(getattr(settings, "SECURE_CSP", {}))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.value and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.value
        return response
