"""Saliency maps: the NormGrad and Grad-CAM formulas, the chained gradient against one computed
the straightforward way, padding, chunking, determinism and the paper's backbone."""

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from modelops.ml.model import PAD_VALUE, build_backbone, build_scan_model, build_sequence_head
from modelops.ml.preprocess import resize
from modelops.ml.saliency import (
    INCEPTION_RESNET_V2_LAYERS,
    SaliencyModel,
    Target,
    gradcam_map,
    normalise,
    normgrad_map,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def scan_model() -> keras.Model:
    keras.utils.set_random_seed(3)
    backbone = build_backbone("small", 32)
    head = build_sequence_head(256, rnn_units=8, attention_units=8)
    return build_scan_model(backbone, head, 16, 32)


@pytest.fixture(scope="module")
def scan() -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 1, (5, 32, 32, 3)).astype(np.float32)


def test_normgrad_is_the_frobenius_norm_of_the_outer_product():
    rng = np.random.default_rng(1)
    a, g = rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(2, 3, 4, 5))

    expected = np.empty((2, 3, 4))
    selective = np.empty((2, 3, 4))
    for index in np.ndindex(2, 3, 4):
        expected[index] = np.linalg.norm(np.outer(g[index], a[index]), "fro")
        products = np.maximum(a[index] * g[index], 0.0)
        selective[index] = np.sqrt(sum(p**2 for p in products))

    np.testing.assert_allclose(normgrad_map(a, g), expected, rtol=1e-5)
    np.testing.assert_allclose(normgrad_map(a, g, selective=True), selective, rtol=1e-5)


def test_gradcam_weights_channels_by_their_mean_gradient():
    rng = np.random.default_rng(2)
    a, g = rng.normal(size=(1, 3, 3, 2)), rng.normal(size=(1, 3, 3, 2))
    w0, w1 = g[0, :, :, 0].mean(), g[0, :, :, 1].mean()

    expected = np.maximum(w0 * a[0, :, :, 0] + w1 * a[0, :, :, 1], 0)

    np.testing.assert_allclose(gradcam_map(a, g)[0], expected, rtol=1e-5)


def _straightforward(model: keras.Model, scan: np.ndarray, target: Target, layers: list[str]):
    """The keras.io way, in one tape: a backbone with the layers as extra outputs, the head on
    its features, the gradient of the target with respect to each layer."""
    import tensorflow as tf

    from modelops.ml.config import LABELS
    from modelops.ml.saliency import split_scan_model

    backbone, head = split_scan_model(model)
    taps = keras.Model(
        backbone.input, [*(backbone.get_layer(n).output for n in layers), backbone.output]
    )
    with tf.GradientTape() as tape:
        *activations, features = taps(tf.convert_to_tensor(scan))
        out = head(tf.expand_dims(features, 0))
        label = LABELS.index(target.label)
        value = (
            out["scan"][0, label]
            if target.slice_index is None
            else (out["slice"][0, target.slice_index, label])
        )
    gradients = tape.gradient(value, activations)
    return [np.asarray(a) for a in activations], [np.asarray(g) for g in gradients], float(value)


def _upsampled(maps: np.ndarray) -> np.ndarray:
    return normalise(resize(maps[..., None], 32)[..., 0])


@pytest.mark.parametrize(
    "target", [Target("any"), Target("sdh", level="slice", slice_index=3)], ids=["scan", "slice"]
)
def test_maps_equal_a_straightforward_computation(scan_model, scan, target):
    saliency = SaliencyModel(scan_model, chunk_slices=2)
    layers = list(saliency.layers.normgrad)
    activations, gradients, value = _straightforward(scan_model, scan, target, layers)

    result = saliency.maps(scan, target)

    gradcam = _upsampled(gradcam_map(activations[-1], gradients[-1]))
    normgrad = np.ones_like(gradcam)
    for a, g in zip(activations, gradients, strict=True):
        normgrad *= _upsampled(normgrad_map(a, g))
    assert saliency.layers.gradcam == layers[-1]
    assert result.score == pytest.approx(value, abs=1e-6)
    np.testing.assert_allclose(result.gradcam, gradcam, atol=1e-4)
    np.testing.assert_allclose(result.normgrad, normalise(normgrad), atol=1e-4)
    assert result.normgrad.shape == (5, 32, 32) and 0 <= result.normgrad.min() <= 1


def test_a_padded_scan_has_the_maps_of_the_unpadded_scan(scan_model, scan):
    saliency = SaliencyModel(scan_model)
    padded = np.concatenate([scan, np.full((3, 32, 32, 3), PAD_VALUE, np.float32)])

    plain = saliency.maps(scan, Target("iph"))
    with_padding = saliency.maps(padded, Target("iph"))

    assert with_padding.gradcam.shape == (8, 32, 32) and not with_padding.gradcam[5:].any()
    assert with_padding.score == pytest.approx(plain.score, abs=1e-6)
    np.testing.assert_allclose(with_padding.normgrad[:5], plain.normgrad, atol=1e-4)
    np.testing.assert_allclose(with_padding.gradcam[:5], plain.gradcam, atol=1e-4)


def test_scan_scaled_maps_keep_the_slices_relative_strength(scan_model, scan):
    saliency = SaliencyModel(scan_model)
    per_slice = saliency.maps(scan, Target("any", level="scan"))
    per_scan = saliency.maps(scan, Target("any", level="scan"), scale="scan")

    # One scale over the scan: its peak is 1, a weaker slice's peak below it.
    peaks = per_scan.gradcam.max(axis=(1, 2))
    assert peaks.max() == pytest.approx(1.0) and peaks.min() < 1.0
    assert np.allclose(per_slice.gradcam.max(axis=(1, 2)), 1.0)
    # A min-max scale is affine: scaled again per slice, Grad-CAM's map is the per-slice one.
    np.testing.assert_allclose(normalise(per_scan.gradcam), per_slice.gradcam, atol=1e-4)
    with pytest.raises(ValueError, match="unknown scale"):
        saliency.maps(scan, Target("any"), scale="volume")


def test_a_map_is_deterministic_and_independent_of_the_chunk_size(scan_model, scan):
    first = SaliencyModel(scan_model, chunk_slices=1).maps(scan, Target("any"))
    second = SaliencyModel(scan_model, chunk_slices=8).maps(scan, Target("any"))
    again = SaliencyModel(scan_model, chunk_slices=8).maps(scan, Target("any"))

    np.testing.assert_array_equal(second.normgrad, again.normgrad)
    np.testing.assert_array_equal(second.gradcam, again.gradcam)
    np.testing.assert_allclose(first.normgrad, second.normgrad, atol=1e-5)
    np.testing.assert_allclose(first.gradcam, second.gradcam, atol=1e-5)


def test_the_slice_scorer_replaces_one_slice_and_keeps_the_rest(scan_model, scan):
    saliency = SaliencyModel(scan_model, chunk_slices=2)
    target = Target("sdh", level="slice", slice_index=3)
    scorer = saliency.slice_scorer(scan, target, 3)
    blank = scan.copy()
    blank[3] = 0.0

    scores = scorer(np.stack([scan[3], np.zeros_like(scan[3])]))

    assert scores[0] == pytest.approx(saliency.maps(scan, target).score, abs=1e-5)
    expected = scan_model.predict_on_batch(blank[None])["slice"][0, 3, 4]
    assert scores[1] == pytest.approx(float(expected), abs=1e-5)


def test_targets_and_scans_are_checked(scan_model, scan):
    saliency = SaliencyModel(scan_model)
    with pytest.raises(ValueError, match="unknown class"):
        Target("xyz")
    with pytest.raises(ValueError, match="names its slice"):
        Target("any", level="slice")
    with pytest.raises(ValueError, match="not a slice"):
        saliency.maps(scan, Target("any", level="slice", slice_index=5))
    gap = scan.copy()
    gap[1] = PAD_VALUE
    with pytest.raises(ValueError, match="must follow"):
        saliency.maps(gap, Target("any"))


def test_inception_resnet_v2_maps_at_its_named_layers():
    keras.utils.set_random_seed(0)
    backbone = build_backbone("inception_resnet_v2", 75)
    head = build_sequence_head(backbone.output_shape[-1], rnn_units=4, attention_units=4)
    saliency = SaliencyModel(build_scan_model(backbone, head, 4, 75))
    scan = np.random.default_rng(0).uniform(0, 1, (2, 75, 75, 3)).astype(np.float32)

    result = saliency.maps(scan, Target("any"))

    assert saliency.layers == INCEPTION_RESNET_V2_LAYERS
    assert result.normgrad.shape == result.gradcam.shape == (2, 75, 75)
    assert np.isfinite(result.normgrad).all() and result.gradcam.max() <= 1


def test_jax_gives_the_maps_tensorflow_gives(scan_model, scan, tmp_path):
    pytest.importorskip("jax")
    scan_model.save(tmp_path / "model.keras")
    np.save(tmp_path / "scan.npy", scan)
    expected = SaliencyModel(scan_model).maps(scan, Target("any"))
    script = (
        "import sys, numpy as np, keras\n"
        "import modelops.ml.model\n"
        "from modelops.ml.saliency import SaliencyModel, Target\n"
        "model = keras.saving.load_model(sys.argv[1], compile=False)\n"
        "maps = SaliencyModel(model).maps(np.load(sys.argv[2]), Target('any'))\n"
        "np.save(sys.argv[3], np.stack([maps.normgrad, maps.gradcam]))\n"
    )
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            tmp_path / "model.keras",
            tmp_path / "scan.npy",
            tmp_path / "jax.npy",
        ],
        check=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )

    normgrad, gradcam = np.load(tmp_path / "jax.npy")
    np.testing.assert_allclose(normgrad, expected.normgrad, atol=1e-3)
    np.testing.assert_allclose(gradcam, expected.gradcam, atol=1e-3)
