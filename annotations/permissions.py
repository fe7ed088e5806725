"""Role checks. Roles are groups (see ``Role``); superusers hold every role."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from rest_framework.permissions import BasePermission

from annotations.models import Role


def user_has_role(user: AbstractBaseUser | AnonymousUser, *roles: str) -> bool:
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_ichlabel_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._ichlabel_roles = cached
    return bool(cached.intersection(roles))


def user_roles(user: AbstractBaseUser | AnonymousUser) -> list[str]:
    return [role for role in Role.values if user_has_role(user, role)]


class IsCoordinator(BasePermission):
    message = "Only study coordinators may do this."

    def has_permission(self, request, view) -> bool:
        return user_has_role(request.user, Role.COORDINATOR)


class IsCoordinatorOrMLEngineer(BasePermission):
    message = "Only study coordinators and ML engineers may see study data."

    def has_permission(self, request, view) -> bool:
        return user_has_role(request.user, Role.COORDINATOR, Role.ML_ENGINEER)


class IsNeuroradiologist(BasePermission):
    message = "Only neuroradiologists read scans."

    def has_permission(self, request, view) -> bool:
        return user_has_role(request.user, Role.NEURORADIOLOGIST)
