"""Who may do what in modelops: ML engineers run it; coordinators may watch."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from annotations.models import Role
from annotations.permissions import user_has_role


class IsMLEngineerOrWatcher(BasePermission):
    """ML engineers may do everything; coordinators may read."""

    message = "Only ML engineers may change model operations; coordinators may watch them."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return user_has_role(request.user, Role.ML_ENGINEER, Role.COORDINATOR)
        return user_has_role(request.user, Role.ML_ENGINEER)
