"""A person's own account: the start page each role lands on after logging in, and the change
of one's own password (every user, not only those who may enter the admin).

A password change is logged (``ichlabel.accounts``: who, from which address), not its values;
the session stays logged in (Django updates the session's hash).
"""

import logging

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.urls import reverse, reverse_lazy

from annotations.models import Role
from annotations.permissions import user_has_role
from ichlabel.throttling import client_address

logger = logging.getLogger("ichlabel.accounts")


def start_page_url(user) -> str | None:
    """Where a user starts: the coordinator's study, the ML engineer's model workspace, the
    reader's worklist, a staff member without a role the admin; None for a user without any
    (the home page says to ask for a role). A superuser holds every role: the study."""
    if user_has_role(user, Role.COORDINATOR):
        return reverse("study")
    if user_has_role(user, Role.ML_ENGINEER):
        return reverse("models-page")
    if user_has_role(user, Role.NEURORADIOLOGIST):
        return reverse("worklist-page")
    if user.is_authenticated and user.is_active and user.is_staff:
        return reverse("admin:index")
    return None


class PasswordChangeView(LoginRequiredMixin, auth_views.PasswordChangeView):
    """Django's password change (old password, the new one twice, ``AUTH_PASSWORD_VALIDATORS``)
    in the site's layout; afterwards the user is back on their start page with a message."""

    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        logger.info(
            "password changed: user %s (id %s) from %s",
            self.request.user.get_username(),
            self.request.user.pk,
            client_address(self.request),
        )
        messages.success(self.request, "Your password was changed.")
        return response
