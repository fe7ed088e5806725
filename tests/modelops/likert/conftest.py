"""The Likert tests' world: the registry's models, a finished saliency run of two slices (four
maps) and three readers."""

import pytest
from django.contrib.auth.models import User

from tests.modelops.registry_factories import seed_registry
from tests.modelops.saliency.factories import finished_saliency_run


@pytest.fixture
def world(db):
    registry = seed_registry()
    run = finished_saliency_run(registry)
    readers = [User.objects.get(username=f"neuro{n}") for n in (1, 2, 3)]
    return {**registry, "run": run, "readers": readers}
