"""Saliency runs through the services: the sample, the request rules, both maps of every sampled
slice with their files and localization figures, and a run that carries on where it stopped."""

import numpy as np
import pytest

from annotations.models import GroundTruthScanLabel, GroundTruthSliceLabel, JobStatus, LesionMask
from annotations.vocabulary import SUBTYPES
from ichlabel.errors import InvalidInput
from modelops.models import SaliencyMap, SaliencyRun
from modelops.saliency.selectors import saliency_dir
from modelops.saliency.services import (
    saliency_run_execute,
    saliency_run_request,
    saliency_sample,
)

pytestmark = pytest.mark.django_db


def _split_with_positives(version) -> str:
    truth = version.snapshot.ground_truth_id
    for split in ("train", "validation"):
        scans = GroundTruthScanLabel.objects.filter(version_id=truth, split=split, any_ich=True)
        if scans.exists():
            return split
    pytest.fail("the cohort has no positive scan")


def test_the_sample_is_seeded_one_slice_per_scan_and_positive_for_its_subtype(model_version):
    truth = model_version.snapshot.ground_truth_id
    split = _split_with_positives(model_version)

    sample = saliency_sample(version_id=truth, split=split, per_subtype=2, seed=5)

    assert sample and sample == saliency_sample(
        version_id=truth, split=split, per_subtype=2, seed=5
    )
    assert len({scan for scan, _, _ in sample}) == len(sample)
    for scan, slice_id, subtype in sample:
        label = GroundTruthSliceLabel.objects.get(version_id=truth, slice_id=slice_id)
        assert label.scan_id == scan and getattr(label, subtype)
        assert GroundTruthScanLabel.objects.get(version_id=truth, scan_id=scan).split == split
    for subtype in SUBTYPES:
        assert sum(1 for *_, s in sample if s == subtype) <= 2


def test_requests_are_checked_and_a_sample_is_mapped_once(
    model_version, jobs_queued, django_capture_on_commit_callbacks
):
    engineer = model_version.engineer
    with pytest.raises(InvalidInput, match="Unknown split"):
        saliency_run_request(
            model_version=model_version, split="x", per_subtype=1, created_by=engineer
        )
    with pytest.raises(InvalidInput, match="per_subtype"):
        saliency_run_request(
            model_version=model_version, split="train", per_subtype=0, created_by=engineer
        )
    with pytest.raises(InvalidInput, match="nothing to map"):
        saliency_run_request(
            model_version=model_version, split="test", per_subtype=1, created_by=engineer
        )
    split = _split_with_positives(model_version)

    with django_capture_on_commit_callbacks(execute=True):
        first, queued = saliency_run_request(
            model_version=model_version, split=split, per_subtype=1, created_by=engineer
        )
        again, queued_again = saliency_run_request(
            model_version=model_version, split=split, per_subtype=1, created_by=engineer
        )

    assert queued and not queued_again and first.pk == again.pk
    assert jobs_queued == [first.pk]


def test_a_run_maps_every_sampled_slice_by_both_methods(model_version, jobs_queued):
    split = _split_with_positives(model_version)
    run, _ = saliency_run_request(
        model_version=model_version, split=split, per_subtype=2, created_by=model_version.engineer
    )

    run = saliency_run_execute(run_id=run.pk)

    assert run.status == JobStatus.SUCCEEDED, run.message
    assert run.slices_done == run.slices_total == run.slices.count() > 0
    maps = list(SaliencyMap.objects.filter(item__run=run))
    assert len(maps) == 2 * run.slices_total
    assert {m.method for m in maps} == {"normgrad", "gradcam"}
    directory = saliency_dir(run.pk)
    for m in maps:
        values = np.load(directory / f"{m.token}.npy")
        assert values.dtype == np.float16 and values.shape == (32, 32)
        assert values.min() >= 0 and values.max() <= 1
        png = (directory / f"{m.token}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and m.method.encode() not in png.lower()
        assert m.deletion_auc is not None and 0 <= m.deletion_auc <= 1
    # The demo cohort's scans carry their phantom masks: every map is scored against its lesion.
    assert LesionMask.objects.filter(scan__in=run.slices.values("scan")).count() == run.slices_total
    assert all(m.pointing_hit is not None and m.energy_inside is not None for m in maps)
    summary = run.localization
    assert summary["maps"] == summary["outlined_maps"] == len(maps)
    overall = {row["method"]: row for row in summary["outlined"] if row["subtype"] is None}
    assert set(overall) == {"normgrad", "gradcam"}
    assert overall["gradcam"]["n"] == run.slices_total
    assert summary["deletion"]["normgrad"]["n"] == run.slices_total


def test_a_stopped_run_carries_on_with_the_slices_not_yet_mapped(
    model_version, jobs_queued, django_capture_on_commit_callbacks
):
    split = _split_with_positives(model_version)
    engineer = model_version.engineer
    run, _ = saliency_run_request(
        model_version=model_version, split=split, per_subtype=2, created_by=engineer
    )
    run = saliency_run_execute(run_id=run.pk)
    items = list(run.slices.order_by("position"))
    kept = {m.token: m.deletion_auc for m in SaliencyMap.objects.filter(item=items[0])}
    files = {t: (saliency_dir(run.pk) / f"{t}.npy").stat().st_mtime_ns for t in kept}
    # As if the worker had died after the first slice and the run had failed.
    run.slices.exclude(pk=items[0].pk).update(done=False, score=None)
    SaliencyRun.objects.filter(pk=run.pk).update(status=JobStatus.FAILED, slices_done=1)

    with django_capture_on_commit_callbacks(execute=True):
        again, queued = saliency_run_request(
            model_version=model_version, split=split, per_subtype=2, created_by=engineer
        )
    finished = saliency_run_execute(run_id=again.pk)

    assert queued and again.pk == run.pk and jobs_queued == [run.pk]
    assert finished.status == JobStatus.SUCCEEDED and finished.slices_done == len(items)
    assert list(finished.slices.order_by("position")) == items, "the sample is drawn once"
    for token, auc in kept.items():
        assert SaliencyMap.objects.get(token=token).deletion_auc == auc
        assert (saliency_dir(run.pk) / f"{token}.npy").stat().st_mtime_ns == files[token]


def test_a_slice_that_cannot_be_read_fails_the_run_with_its_name(model_version, jobs_queued):
    from django.core.files.storage import default_storage

    from annotations.models import Slice

    split = _split_with_positives(model_version)
    truth = model_version.snapshot.ground_truth_id
    scans = GroundTruthScanLabel.objects.filter(version_id=truth, split=split).values("scan_id")
    for stored in Slice.objects.filter(scan_id__in=scans):
        default_storage.delete(stored.storage_key)
    run, _ = saliency_run_request(
        model_version=model_version, split=split, per_subtype=1, created_by=model_version.engineer
    )

    run = saliency_run_execute(run_id=run.pk)

    first = run.slices.order_by("position").select_related("slice").first()
    assert run.status == JobStatus.FAILED
    assert f"scan {first.scan_id}, slice {first.slice.position_index + 1}" in run.message
    assert "FileNotFoundError" in run.message and run.slices_done == 0
