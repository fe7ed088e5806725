"""Fixtures of the modelops tests: a small labelled phantom cohort frozen as ground truth."""

import pytest

from tests.conftest import user_with_role

DEMO_ROLES = [
    *[(f"neuro{n}", "neuroradiologist") for n in range(1, 6)],
    ("coordinator", "coordinator"),
    ("mlengineer", "ml_engineer"),
]


def demo_users() -> dict:
    return {name: user_with_role(name, role) for name, role in DEMO_ROLES}


def seed_cohort(scans_per_center: int = 2, size: int = 48):
    """The training demo at test size: 4 training centers, 1 held-out validation center."""
    from modelops.demo import training_demo_seed

    return training_demo_seed(scans_per_center=scans_per_center, size=size, seed=11)


@pytest.fixture
def cohort(db):
    users = demo_users()
    result = seed_cohort()
    return users, result.version
