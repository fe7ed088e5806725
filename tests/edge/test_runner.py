"""The runner (``ichlabel_edge.runner``): a phantom series, its files in any order, scored with
an installed build. The node's model input is the app's (``prepare_scan``) value for value;
the decision is the build's thresholds applied to the scan scores; every original slice gets
the scores of its model slice; a series that cannot be scored is refused with the reason."""

import copy
import random
from dataclasses import replace

import numpy as np
import pytest
from ichlabel_edge.runner import (
    MIN_SLICES,
    SeriesRefused,
    model_input,
    order_series,
    quantise,
    score_series,
    series_hu,
)
from ichlabel_edge.runtime import open_session, predict_scan
from pydicom.uid import generate_uid

from modelops.builds.manifest import BuildRefused


def shuffled(datasets, seed=0):
    datasets = list(datasets)
    random.Random(seed).shuffle(datasets)
    return datasets


def with_thresholds(build, thresholds):
    return replace(build, manifest={**build.manifest, "thresholds": thresholds})


def app_input(hu, z_mm, manifest):
    """The app's preprocessing of a scan (predict.py imports Keras: the node never runs this)."""
    from modelops.ml.predict import prepare_scan

    pre = manifest["preprocessing"]
    return prepare_scan(
        hu,
        z_mm,
        image_size=pre["image_size"],
        windows=[tuple(w) for w in pre["windows"]],
        slice_mm=pre["slice_mm"],
    )


# Scores and decision


def test_a_series_is_scored_with_the_builds_thresholds(phantom, active):
    scored = score_series(shuffled(phantom.datasets), active)

    classes = tuple(active.manifest["classes"])
    assert scored.classes == classes and scored.build == 1
    assert scored.model_name == "edge-test-1"
    assert set(scored.scan_scores) == set(classes)
    assert all(0.0 <= v <= 1.0 for v in scored.scan_scores.values())
    assert scored.thresholds == dict.fromkeys(classes, 0.5)
    assert scored.decision == {c: scored.scan_scores[c] >= 0.5 for c in classes}
    assert len(scored.model_z_mm) == 32  # 5 mm already: nothing resampled
    assert [s.sop_instance_uid for s in scored.slices] == phantom.sop_uids
    assert all(set(s.scores) == set(classes) for s in scored.slices)
    assert all(0.0 <= v <= 1.0 for s in scored.slices for v in s.scores.values())
    assert set(scored.timings_ms) == {"preprocess", "load_model", "inference"}
    assert all(ms > 0 for ms in scored.timings_ms.values())
    assert scored.study_instance_uid == phantom.truth["study_instance_uid"]
    assert scored.series_instance_uid == phantom.truth["series_instance_uid"]


def test_a_class_is_positive_at_its_threshold_and_negative_just_above(phantom, active):
    scores = score_series(phantom.datasets, active).scan_scores
    at = {"any", "iph", "sah"}
    thresholds = {c: scores[c] if c in at else float(np.nextafter(scores[c], 2.0)) for c in scores}

    scored = score_series(phantom.datasets, with_thresholds(active, thresholds))

    assert {c for c, positive in scored.decision.items() if positive} == at
    assert scored.positive == ["any", "iph", "sah"]
    assert set(scored.key_slices) == at
    for name in at:  # the key slice: the original slice of the highest-scoring model slice
        best = max(s.scores[name] for s in scored.slices)
        assert scored.key_slice(name).scores[name] == best
    assert scored.warnings == ()


def test_a_subtype_above_threshold_while_any_is_not_is_reported(phantom, active):
    scores = score_series(phantom.datasets, active).scan_scores
    thresholds = {c: 0.0 for c in scores} | {"any": float(np.nextafter(scores["any"], 2.0))}

    scored = score_series(phantom.datasets, with_thresholds(active, thresholds))

    assert not scored.decision["any"] and all(scored.decision[c] for c in scores if c != "any")
    assert "above threshold while any is not" in scored.warnings[0]


def test_an_open_session_is_used_as_given(phantom, active):
    session = open_session(active.directory / "model.onnx")

    scored = score_series(phantom.datasets, active, session=session)

    assert set(scored.timings_ms) == {"preprocess", "inference"}


def test_every_original_slice_is_scored_and_each_positive_class_has_a_key_slice(phantom, active):
    scores = score_series(phantom.datasets, active).scan_scores
    scored = score_series(phantom.datasets, with_thresholds(active, {c: 0.0 for c in scores}))

    assert scored.decision == dict.fromkeys(scores, True)
    assert scored.thresholds == dict.fromkeys(scores, 0.0)
    assert [s.sop_instance_uid for s in scored.slices] == phantom.sop_uids
    assert set(scored.key_slices) == set(scores)
    assert {scored.key_slice(c).sop_instance_uid for c in scores} <= set(phantom.sop_uids)
    assert set(scored.timings_ms) == {"preprocess", "load_model", "inference"}


# The app's preprocessing, value for value


def test_the_nodes_model_input_is_the_apps(phantom, active):
    manifest = active.manifest
    ordered = order_series(shuffled(phantom.datasets, seed=3))

    images, z = model_input(series_hu(ordered.datasets), ordered.z_mm, manifest["preprocessing"])
    expected_images, expected_z = app_input(phantom.hu(), phantom.z_mm, manifest)

    assert [str(ds.SOPInstanceUID) for ds in ordered.datasets] == phantom.sop_uids
    np.testing.assert_allclose(ordered.z_mm, phantom.z_mm, atol=1e-6)
    assert images.dtype == expected_images.dtype == np.float32
    assert images.shape == expected_images.shape == (32, 32, 32, 3)
    assert np.array_equal(images, expected_images)
    np.testing.assert_allclose(z, expected_z, atol=1e-6)


def test_the_scores_are_the_models_on_the_apps_input(phantom, active):
    session = open_session(active.directory / "model.onnx")
    images, _ = app_input(phantom.hu(), phantom.z_mm, active.manifest)
    expected = predict_scan(session, images)

    scored = score_series(shuffled(phantom.datasets, seed=5), active, session=session)

    classes = scored.classes
    assert [scored.scan_scores[c] for c in classes] == expected.scan.tolist()
    assert [[s.scores[c] for c in classes] for s in scored.slices] == expected.slices.tolist()


def test_a_thin_series_is_resampled_as_the_app_does_and_mapped_back(phantom, active):
    thin = copy.deepcopy(phantom.datasets)
    by_uid = {str(ds.SOPInstanceUID): ds for ds in thin}
    for index, uid in enumerate(phantom.sop_uids):  # 1.25 mm apart, same anatomy order
        position = by_uid[uid].ImagePositionPatient
        by_uid[uid].ImagePositionPatient = [position[0], position[1], index * 1.25]
    z_mm = np.arange(32) * 1.25

    ordered = order_series(shuffled(thin))
    images, z = model_input(
        series_hu(ordered.datasets), ordered.z_mm, active.manifest["preprocessing"]
    )
    expected_images, expected_z = app_input(phantom.hu(), z_mm, active.manifest)
    scored = score_series(thin, active)

    assert images.shape[0] == 8 and np.array_equal(images, expected_images)
    np.testing.assert_allclose(z, expected_z)
    assert len(scored.model_z_mm) == 8 and len(scored.slices) == 32
    assert [s.model_slice for s in scored.slices] == [i // 4 for i in range(32)]
    for group in range(8):  # four thin slices share their slab's scores
        same = [s.scores for s in scored.slices if s.model_slice == group]
        assert len(same) == 4 and all(scores == same[0] for scores in same)


def test_quantise_is_the_snapshots():
    from modelops.ml.snapshot_format import quantise as snapshot_quantise

    values = np.random.default_rng(0).uniform(-0.5, 1.5, (4, 8, 8, 3)).astype(np.float32)
    edges = (np.arange(512, dtype=np.float32) - 0.5) / np.float32(255.0)  # halfway points
    for array in (values, edges, np.array([0.0, 1.0, np.nextafter(1.0, 2.0)], np.float32)):
        assert np.array_equal(quantise(array), snapshot_quantise(array))
        assert quantise(array).dtype == np.uint8


# Ordering


def test_slices_are_ordered_by_position_not_instance_number(phantom):
    ordered = order_series(phantom.datasets)

    numbers = [int(ds.InstanceNumber) for ds in ordered.datasets]
    assert numbers == sorted(numbers, reverse=True)  # numbered from the vertex down
    assert ordered.ordered_by == "position" and ordered.warnings == []
    assert np.all(np.diff(ordered.z_mm) > 0)


def test_a_flipped_normal_still_orders_inferior_to_superior(phantom):
    flipped = copy.deepcopy(phantom.datasets)
    for ds in flipped:  # rows run to the patient's right: row x column points to the feet
        ds.ImageOrientationPatient = [-1, 0, 0, 0, 1, 0]

    ordered = order_series(shuffled(flipped))

    assert [str(ds.SOPInstanceUID) for ds in ordered.datasets] == phantom.sop_uids


def test_without_positions_slices_are_ordered_by_instance_number(phantom):
    bare = copy.deepcopy(phantom.datasets)
    for ds in bare:
        del ds.ImagePositionPatient

    ordered = order_series(shuffled(bare))

    numbers = [int(ds.InstanceNumber) for ds in ordered.datasets]
    assert numbers == sorted(numbers)
    assert ordered.ordered_by == "instance_number"
    assert "ordered by InstanceNumber" in ordered.warnings[0]
    np.testing.assert_allclose(ordered.z_mm, np.arange(32) * 5.0)


# Refusals


def _mixed_sizes(datasets):
    small = datasets[4]
    small.PixelData = small.pixel_array[::2, ::2].tobytes()
    small.Rows, small.Columns = 32, 32


def _mixed_orientations(datasets):
    datasets[2].ImageOrientationPatient = [1, 0, 0, 0, 0, -1]


def _no_pixel_data(datasets):
    del datasets[0].PixelData


def _two_series(datasets):
    datasets[1].SeriesInstanceUID = generate_uid()


def _duplicate_position(datasets):
    twin = copy.deepcopy(datasets[0])
    twin.SOPInstanceUID = generate_uid()
    datasets.append(twin)


def _not_ct(datasets):
    for ds in datasets:
        ds.Modality = "MR"


def _several_frames(datasets):
    datasets[3].NumberOfFrames = 2


def _too_few(datasets):
    del datasets[MIN_SLICES - 1 :]


def _no_order(datasets):
    del datasets[0].ImagePositionPatient
    del datasets[1].InstanceNumber


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (_mixed_sizes, r"mixed sizes \(rows x columns: 32x32 \(1\), 64x64 \(31\)\)"),
        (_mixed_orientations, r"mixed orientations \(2 distinct ImageOrientationPatient"),
        (_no_pixel_data, r"1 of 32 instances have no pixel data \(e\.g\. 1\.2\."),
        (_two_series, r"belong to 2 series, not one"),
        (_duplicate_position, r"1 pairs of slices share one position"),
        (_not_ct, r"modality is MR, not CT"),
        (_several_frames, r"1 instances hold several frames"),
        (_too_few, rf"has {MIN_SLICES - 1} slices, fewer than the {MIN_SLICES} a scan needs"),
        (_no_order, r"cannot be ordered"),
    ],
)
def test_a_series_that_cannot_be_scored_is_refused_with_the_reason(phantom, active, spoil, reason):
    datasets = copy.deepcopy(phantom.datasets)
    spoil(datasets)

    with pytest.raises(SeriesRefused, match=reason):
        score_series(datasets, active)


def test_an_empty_series_is_refused(active):
    with pytest.raises(SeriesRefused, match="no instances"):
        score_series([], active)


def test_a_build_without_a_threshold_for_a_class_cannot_decide(phantom, active):
    thresholds = dict.fromkeys(active.manifest["classes"], 0.5) | {"edh": None}

    with pytest.raises(BuildRefused, match="build 1: no threshold for edh: it cannot decide"):
        score_series(phantom.datasets, with_thresholds(active, thresholds))
