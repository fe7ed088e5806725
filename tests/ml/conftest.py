import pytest


@pytest.fixture(autouse=True)
def data_dir():
    """Overrides the project-wide fixture: tests/ml needs no Django settings."""
    return None
