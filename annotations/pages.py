"""What every page of the study shares: the role check, the home page's redirect by role, rendering
without caching, and the coordinators' query-string helpers.
"""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views import View

from annotations.models import Role
from annotations.permissions import user_has_role, user_roles
from ichlabel.accounts import start_page_url


class RoleRequiredMixin(LoginRequiredMixin, UserPassesTestMixin):
    roles: tuple[str, ...] = ()

    def test_func(self) -> bool:
        return user_has_role(self.request.user, *self.roles)


@login_required
def home(request):
    start = start_page_url(request.user)
    if start is not None:
        return redirect(start)
    return render(request, "annotations/home.html", {"roles": user_roles(request.user)})


PAGE_SIZE = 50


def query_choice(value: str | None, allowed) -> str | None:
    return value if value in allowed else None


def query_number(value: str | None) -> int | None:
    """A whole number from a query string or form field; None for anything else (other
    scripts' digits included) and for numbers too long for an id column."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else None


def query_string(filters: dict) -> str:
    """The filters as a query string for pagination links (empty ones left out)."""
    return urlencode({key: value for key, value in filters.items() if value not in (None, "")})


def render_page(request, template: str, context: dict):
    response = render(request, template, context)
    add_never_cache_headers(response)  # the script re-fetches the page after each change
    return response


class CoordinatorPage(RoleRequiredMixin, View):
    roles = (Role.COORDINATOR,)
