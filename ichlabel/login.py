"""Log-in pages that count failures (``ichlabel.throttling``): the site's /login/ and the admin's.
After the site's log-in a user goes to ``next`` if the link asked for a page, else to their
role's start page (``ichlabel.accounts``).

A locked account or address gets the lock's message in place of the form's error, and the
site's page answers 429 with Retry-After; the credentials are not checked at all while the
lock holds.
"""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponse

from ichlabel.accounts import start_page_url
from ichlabel.throttling import (
    Lockout,
    client_address,
    login_failure_record,
    login_lockout_get,
    login_success_record,
)


class ThrottledLoginMixin:
    """For an ``AuthenticationForm``: refuses while locked, counts failures and successes."""

    lockout: Lockout | None = None

    def clean(self):
        username = str(self.data.get("username", ""))  # type: ignore[attr-defined]
        address = client_address(self.request)  # type: ignore[attr-defined]
        self.lockout = login_lockout_get(username=username, address=address)
        if self.lockout is None:
            try:
                cleaned = super().clean()  # type: ignore[misc]
            except forms.ValidationError:
                self.lockout = login_failure_record(username=username, address=address)
                if self.lockout is None:
                    raise
            else:
                login_success_record(username=username)
                return cleaned
        raise forms.ValidationError(self.lockout.message(), code="locked")


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class LoginView(auth_views.LoginView):
    """Django's log-in view with the throttled form; a locked log-in answers 429."""

    authentication_form = ThrottledAuthenticationForm

    def get_default_redirect_url(self) -> str:
        """Without a ``next`` to go back to, each role's own start page."""
        return start_page_url(self.request.user) or super().get_default_redirect_url()

    def form_invalid(self, form) -> HttpResponse:
        response = super().form_invalid(form)
        lockout = getattr(form, "lockout", None)
        if lockout is not None:
            response.status_code = 429
            response["Retry-After"] = str(lockout.retry_after_s)
        return response
