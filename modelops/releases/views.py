"""The version page's card of the model's output for readers: what is released per split and
center, with Release and Withdraw for coordinators (the buttons call the release API)."""

from annotations.models import Role
from annotations.permissions import user_has_role
from modelops.models import ModelStatus, ModelVersion
from modelops.releases.selectors import released_by_split


def release_card_context(*, version: ModelVersion, user) -> dict:
    """Rows of released scans per split and center; whether ``user`` may release (coordinators)
    and whether the model's output may be released now (approved models only)."""
    return {
        "release_rows": released_by_split(version),
        "may_release": user_has_role(user, Role.COORDINATOR),
        "release_open": version.status == ModelStatus.APPROVED,
    }
