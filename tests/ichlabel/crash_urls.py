"""The site's URL conf with a page and an API route that crash, for the 500 handlers' tests."""

from django.urls import path

from ichlabel.urls import handler400, handler403, handler404, handler500
from ichlabel.urls import urlpatterns as site


def crash(request):
    raise RuntimeError("a bug")


urlpatterns = [path("crash/", crash), path("api/v1/crash/", crash), *site]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
