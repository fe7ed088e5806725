"""The viewer's maps of a whole scan, and who may see them: the request rules, both maps of
every stored slice with the model's scores, and the release of a model's output to the readers
of chosen scans (approved models only, withdrawn again, every release kept)."""

import io

import numpy as np
import pytest
from PIL import Image

from annotations.models import GroundTruthScanLabel, JobStatus, Scan
from annotations.reading.services import read_assign
from ichlabel.errors import Conflict, InvalidInput, NotFound
from modelops.models import ModelOutputRelease, ModelStatus, ScanSaliencyRun
from modelops.releases.selectors import release_scans, released_by_split
from modelops.releases.services import model_output_release, model_output_withdraw
from modelops.saliency.render import overlay_png
from modelops.scan_saliency.selectors import model_versions_for_scan, scan_saliency_dir
from modelops.scan_saliency.services import scan_saliency_execute, scan_saliency_request
from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db


def _scan(model_version) -> Scan:
    labels = GroundTruthScanLabel.objects.filter(version_id=model_version.snapshot.ground_truth_id)
    return Scan.objects.filter(pk__in=labels.values("scan_id")).order_by("pk").first()


def test_a_scan_is_mapped_once_per_model_and_class(
    model_version, jobs_queued, django_capture_on_commit_callbacks
):
    scan = _scan(model_version)
    engineer = model_version.engineer
    with pytest.raises(InvalidInput, match="Unknown class"):
        scan_saliency_request(
            model_version=model_version, scan=scan, label="blood", requested_by=engineer
        )

    with django_capture_on_commit_callbacks(execute=True):
        first, queued = scan_saliency_request(
            model_version=model_version, scan=scan, label="any", requested_by=engineer
        )
        again, queued_again = scan_saliency_request(
            model_version=model_version, scan=scan, label="any", requested_by=engineer
        )
        other, queued_other = scan_saliency_request(
            model_version=model_version, scan=scan, label="sdh", requested_by=engineer
        )

    assert queued and not queued_again and queued_other
    assert first.pk == again.pk != other.pk
    assert jobs_queued == [first.pk, other.pk]


def test_both_maps_of_every_stored_slice_with_the_models_scores(model_version, jobs_queued):
    scan = _scan(model_version)
    run, _ = scan_saliency_request(
        model_version=model_version, scan=scan, label="any", requested_by=model_version.engineer
    )

    run = scan_saliency_execute(run_id=run.pk)

    assert run.status == JobStatus.SUCCEEDED, run.message
    assert run.progress == 1.0
    assert set(run.scores) == {"any", "iph", "ivh", "sah", "sdh", "edh"}
    assert all(0.0 <= score <= 1.0 for score in run.scores.values())
    directory = scan_saliency_dir(run.pk)
    for method in ("normgrad", "gradcam"):
        maps = np.load(directory / f"{method}.npy")
        assert maps.dtype == np.float16 and maps.shape[1:] == (32, 32)
        # One scale over the scan: its peak is 1, and no slice goes past it.
        assert maps.max() == pytest.approx(1.0, abs=1e-3) and maps.min() >= 0
        pngs = sorted(p.name for p in (directory / method).iterdir())
        assert pngs == sorted(f"{s.position_index}.png" for s in scan.slices.all())
    # The phantoms' slices are 5 mm, as the model's: slice i shows the model's slice i.
    first = (directory / "gradcam" / "0.png").read_bytes()
    assert first == overlay_png(np.load(directory / "gradcam.npy")[0].astype(np.float32))
    assert Image.open(io.BytesIO(first)).size == (32, 32)


def test_a_failed_scan_map_asked_for_again_is_queued_again(
    model_version, jobs_queued, django_capture_on_commit_callbacks
):
    scan = _scan(model_version)
    engineer = model_version.engineer
    with django_capture_on_commit_callbacks(execute=True):
        run, _ = scan_saliency_request(
            model_version=model_version, scan=scan, label="iph", requested_by=engineer
        )
    ScanSaliencyRun.objects.filter(pk=run.pk).update(status=JobStatus.FAILED, message="x")

    with django_capture_on_commit_callbacks(execute=True):
        again, queued = scan_saliency_request(
            model_version=model_version, scan=scan, label="iph", requested_by=engineer
        )

    assert queued and again.pk == run.pk and again.status == JobStatus.PENDING
    assert jobs_queued == [run.pk, run.pk]


def test_readers_see_a_models_output_only_where_it_is_released(
    model_version, jobs_queued, django_capture_on_commit_callbacks
):
    scan = _scan(model_version)
    reader = user_with_role("reader-x", "neuroradiologist")
    stranger = user_with_role("reader-y", "neuroradiologist")
    coordinator = user_with_role("coord-x", "coordinator")
    read_assign(scan=scan, reader=reader)
    scans = Scan.objects.filter(pk=scan.pk)

    def visible(user) -> list[int]:
        return list(
            model_versions_for_scan(scan_id=scan.pk, user=user).values_list("pk", flat=True)
        )

    assert visible(model_version.engineer) == [model_version.pk]
    assert visible(reader) == visible(coordinator) == []
    with pytest.raises(Conflict, match="only an approved model"):
        model_output_release(model_version=model_version, scans=scans, released_by=coordinator)
    model_version.status = ModelStatus.APPROVED
    model_version.save()

    with django_capture_on_commit_callbacks(execute=True):
        counts = model_output_release(
            model_version=model_version, scans=scans, released_by=coordinator
        )
        again = model_output_release(
            model_version=model_version, scans=scans, released_by=coordinator
        )

    assert counts == {"released": 1, "already_released": 0}
    assert again == {"released": 0, "already_released": 1}
    assert visible(reader) == [model_version.pk]
    assert visible(stranger) == visible(coordinator) == []  # no read of the scan; not a reader
    # Releasing queued the maps of "any", so the reader need not wait for them.
    run = ScanSaliencyRun.objects.get(scan=scan, model_version=model_version)
    assert run.label == "any" and jobs_queued == [run.pk]

    assert model_output_withdraw(
        model_version=model_version, scans=scans, withdrawn_by=coordinator
    ) == {"withdrawn": 1}
    assert visible(reader) == []
    model_output_release(model_version=model_version, scans=scans, released_by=coordinator)
    assert visible(reader) == [model_version.pk]
    model_version.status = ModelStatus.RETIRED
    model_version.save()
    assert visible(reader) == []  # a retired model's output leaves the readers' view
    # Every release is kept, the withdrawn one with who withdrew it.
    rows = ModelOutputRelease.objects.filter(scan=scan).order_by("released_at", "id")
    assert [(r.withdrawn_by, r.released_by) for r in rows] == [
        (coordinator, coordinator),
        (None, coordinator),
    ]


def test_a_release_names_its_scans_by_id_or_by_split_and_center(model_version):
    scan = _scan(model_version)
    with pytest.raises(NotFound, match="No scan 999999"):
        release_scans(scan_ids=[scan.pk, 999999])
    with pytest.raises(InvalidInput, match="Name the scans"):
        release_scans()
    with pytest.raises(InvalidInput, match="Unknown split"):
        release_scans(split="holdout")

    by_split = release_scans(split=scan.split)
    by_center = release_scans(split=scan.split, center_id=scan.center_id)

    assert set(by_split.values_list("split", flat=True)) == {scan.split}
    assert set(by_center.values_list("center_id", flat=True)) == {scan.center_id}
    assert scan in by_center and by_center.count() <= by_split.count()
    rows = released_by_split(model_version)
    assert sum(row["scans"] for row in rows) == Scan.objects.count()
    assert all(row["released"] == 0 for row in rows)


def test_no_release_to_readers_who_score_the_models_maps_blind(model_version, jobs_queued):
    from django.utils import timezone

    from modelops.models import LikertStudy, SaliencyRun

    scan = _scan(model_version)
    reader = user_with_role("reader-x", "neuroradiologist")
    coordinator = user_with_role("coord-x", "coordinator")
    read_assign(scan=scan, reader=reader)
    model_version.status = ModelStatus.APPROVED
    model_version.save()
    run = SaliencyRun.objects.create(
        model_version=model_version, split="train", per_subtype=1, created_by=coordinator
    )
    study = LikertStudy.objects.create(name="Round 1", saliency_run=run, created_by=coordinator)
    study.readers.set([reader])
    scans = Scan.objects.filter(pk=scan.pk)

    with pytest.raises(Conflict, match="blind in the open saliency study Round 1"):
        model_output_release(model_version=model_version, scans=scans, released_by=coordinator)
    assert not ModelOutputRelease.objects.exists()

    study.closed_at = timezone.now()
    study.save()
    counts = model_output_release(model_version=model_version, scans=scans, released_by=coordinator)
    assert counts["released"] == 1
