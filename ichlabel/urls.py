"""The site's URLs: each app gathers its features' pages and API (``<app>/urls.py``); the
Likert study's pages, which readers use too, sit at /likert/ rather than under /models/."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.utils.cache import patch_cache_control
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from annotations import urls as annotations
from ichlabel.accounts import PasswordChangeView
from ichlabel.login import LoginView, ThrottledAdminAuthenticationForm
from modelops import urls as modelops
from modelops.likert import urls as likert
from modelops.reader_study import urls as reader_study

# The admin's log-in counts failures as the site's does (ichlabel.throttling).
admin.site.login_form = ThrottledAdminAuthenticationForm


def favicon(request) -> HttpResponseRedirect:
    """The site's icon for browsers that ask /favicon.ico whatever the page links. A temporary
    redirect, cached a day: the icon's static name may carry a hash that changes."""
    response = HttpResponseRedirect(static("ichlabel/favicon.svg"))
    patch_cache_control(response, max_age=86400)
    return response


urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", PasswordChangeView.as_view(), name="password-change"),
    path("favicon.ico", favicon),
    path("", include(annotations.urlpatterns)),
    path("models/", include(modelops.urlpatterns)),
    path("likert/", include(likert.study_urlpatterns)),
    path("reader-studies/", include(reader_study.study_urlpatterns)),
    path("api/v1/modelops/", include(modelops.api_urlpatterns)),
    path("api/v1/", include(reader_study.api_urlpatterns)),
    path("api/v1/", include(annotations.api_urlpatterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The docs page loads its start-up script from itself (?script): no inline script for the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

handler400 = "ichlabel.errorpages.bad_request"
handler403 = "ichlabel.errorpages.permission_denied"
handler404 = "ichlabel.errorpages.not_found"
handler500 = "ichlabel.errorpages.server_error"
