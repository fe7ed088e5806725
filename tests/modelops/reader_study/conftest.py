"""The reader study tests' world: a frozen ground-truth version of eight training scans (four
with ICH, four without, one read each), a model version with frozen thresholds and its output
for every scan (``ScanSaliencyRun`` rows written as finished: no model runs), readers, a
coordinator and an ML engineer."""

import pytest
from django.utils import timezone

from annotations.ground_truth.services import ground_truth_freeze
from annotations.models import JobStatus
from annotations.reading.services import read_assign
from modelops.models import ScanSaliencyRun
from tests.annotations.study_factories import label_and_complete, make_scan
from tests.conftest import user_with_role
from tests.modelops.registry_factories import make_run, make_snapshot, make_version

THRESHOLDS = {"any": 0.4, "iph": 0.5, "ivh": 0.5, "sah": 0.5, "sdh": 0.5, "edh": 0.5}
POSITIVE = {"iph": True}


def model_scores(index: int) -> dict:
    """The model's scan scores of the world's scan ``index`` (distinct, recognisable values)."""
    return {
        "any": round(0.111 + index * 0.1, 3),
        "iph": 0.6123,
        "ivh": 0.0456,
        "sah": 0.0789,
        "sdh": 0.0321,
        "edh": 0.0135,
    }


def finished_output(model, scan, index: int, user) -> ScanSaliencyRun:
    now = timezone.now()
    return ScanSaliencyRun.objects.create(
        model_version=model,
        scan=scan,
        label="any",
        scores=model_scores(index),
        status=JobStatus.SUCCEEDED,
        progress=1.0,
        created_by=user,
        started_at=now,
        finished_at=now,
    )


@pytest.fixture
def world(db, jobs_queued):
    coordinator = user_with_role("coordinator", "coordinator")
    engineer = user_with_role("mlengineer", "ml_engineer")
    readers = [user_with_role(f"neuro{n}", "neuroradiologist") for n in (1, 2, 3, 4)]
    labeller = user_with_role("labeller", "neuroradiologist")
    scans = [make_scan(split="train", center="Center T", slices=3) for _ in range(8)]
    for index, scan in enumerate(scans):
        labels = {1: POSITIVE} if index % 2 == 0 else None
        label_and_complete(read_assign(scan=scan, reader=labeller), labels)
    version = ground_truth_freeze(name="gt-v1", created_by=coordinator)
    snapshot = make_snapshot(version=version, user=engineer)
    model = make_version(run=make_run(snapshot=snapshot, user=engineer), name="m-1")
    model.evaluation = {"thresholds": {c: {"value": v} for c, v in THRESHOLDS.items()}}
    model.save()
    runs = [finished_output(model, scan, i, engineer) for i, scan in enumerate(scans)]
    return {
        "coordinator": coordinator,
        "engineer": engineer,
        "readers": readers,
        "labeller": labeller,
        "scans": scans,
        "version": version,
        "model": model,
        "runs": runs,
        "queued": jobs_queued,
    }
