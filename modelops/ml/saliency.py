"""Saliency maps of the scan model: NormGrad and Grad-CAM for every slice of a scan.

The scan model is a backbone run on each slice and a sequence head (RNN, attention, RNN) over
the slices (``modelops.ml.model``). A class output, of the scan or of one slice, depends on every
slice through the head, so its gradient reaches each slice's feature maps. Keras 3 does not
expose the layers of the nested backbone as nodes of the scan model's graph, so the backbone is
cut at the layers whose maps are wanted: a chain of sub-models that share its weights,

    image -> stage 0 -> a_1 -> stage 1 -> a_2 -> ... -> a_k -> top -> features -> head -> score

Every layer used is a cut point of the backbone (all its paths pass through it), so the chain
computes exactly what the backbone does. The slices' activations are computed once, forwards;
the score's gradient then goes backwards through the head once for all slices together, and
through each backbone stage a few slices at a time (``chunk_slices``), recomputing that stage's
forward pass on the gradient tape, which bounds memory at InceptionResNetV2's 480 px.

Methods (each map upsampled to the model's input and scaled to 0-1 per slice):

- **NormGrad** (Rebuffi, Fong, Ji and Vedaldi, CVPR 2020): at each spatial position u of a
  layer, the Frobenius norm of the outer product of the gradient and activation vectors over
  channels, ``s_u = ||g_u|| ||a_u||``; the selective variant ``s_u = ||max(0, a_u * g_u)||``;
  several layers combined by multiplying their normalised, upsampled maps.
  InceptionResNetV2: the ends of its three grids of residual blocks, ``block35_10_ac``
  (35 x 35 grid at 299 px), ``block17_20_ac`` (17 x 17) and ``conv_7b_ac`` (8 x 8). Small
  backbone: the ReLU outputs of its second, third and fourth blocks.
- **Grad-CAM** (Selvaraju et al., ICCV 2017, as keras.io's example computes it): channel
  weights are the spatial mean of the gradient; the map is the ReLU of the weighted sum of the
  channels, at the last convolutional block (``conv_7b_ac``; the small backbone's last ReLU).

Plain Python, NumPy and Keras 3 (no Django). Gradients through the backend in use: TensorFlow
(``GradientTape``) and JAX (``jax.vjp``).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras
import numpy as np

from modelops.ml.config import LABELS
from modelops.ml.model import PAD_VALUE
from modelops.ml.preprocess import resize

NORMGRAD = "normgrad"
GRADCAM = "gradcam"
METHODS = (NORMGRAD, GRADCAM)
LEVELS = ("scan", "slice")
SCALES = ("slice", "scan")


@dataclass(frozen=True)
class SaliencyLayers:
    """The backbone layers of each method, by name."""

    normgrad: tuple[str, ...]
    gradcam: str

    def ordered(self, backbone: keras.Model) -> list[str]:
        """Every layer used, from the input to the output."""
        wanted = {*self.normgrad, self.gradcam}
        return [layer.name for layer in backbone.layers if layer.name in wanted]


INCEPTION_RESNET_V2_LAYERS = SaliencyLayers(
    normgrad=("block35_10_ac", "block17_20_ac", "conv_7b_ac"), gradcam="conv_7b_ac"
)


def saliency_layers(backbone: keras.Model) -> SaliencyLayers:
    """The layers for the backbones ``modelops.ml.model`` builds."""
    names = {layer.name for layer in backbone.layers}
    if set(INCEPTION_RESNET_V2_LAYERS.normgrad) <= names:
        return INCEPTION_RESNET_V2_LAYERS
    # The small backbone's layers carry Keras's automatic names (re_lu, re_lu_7, ...), so its
    # block outputs are found by kind and order: one ReLU per conv block.
    relus = [layer.name for layer in backbone.layers if isinstance(layer, keras.layers.ReLU)]
    if len(relus) < 3:
        raise ValueError(f"no saliency layers known for the backbone {backbone.name!r}")
    return SaliencyLayers(normgrad=tuple(relus[-3:]), gradcam=relus[-1])


@dataclass(frozen=True)
class Target:
    """The output whose gradient makes the maps: a class of the scan, or of one slice."""

    label: str
    level: str = "scan"
    slice_index: int | None = None

    def __post_init__(self) -> None:
        if self.label not in LABELS:
            raise ValueError(f"unknown class {self.label!r}; use one of {', '.join(LABELS)}")
        if self.level not in LEVELS:
            raise ValueError(f"unknown level {self.level!r}; use 'scan' or 'slice'")
        if (self.level == "slice") != (self.slice_index is not None):
            raise ValueError("a slice-level target names its slice, a scan-level one does not")


@dataclass
class ScanSaliency:
    """Maps of every slice of one scan (slices, size, size) in 0-1, and the target's score.
    Padded slices have all-zero maps."""

    normgrad: np.ndarray
    gradcam: np.ndarray
    score: float

    def by_method(self) -> dict[str, np.ndarray]:
        return {NORMGRAD: self.normgrad, GRADCAM: self.gradcam}


class SaliencyModel:
    """A trained scan model cut for saliency; ``maps`` gives both methods for one scan."""

    def __init__(self, model: keras.Model, *, chunk_slices: int = 8) -> None:
        self.backbone, self.head = split_scan_model(model)
        self.layers = saliency_layers(self.backbone)
        self.chunk_slices = chunk_slices
        names = self.layers.ordered(self.backbone)
        outputs = [self.backbone.get_layer(name).output for name in names]
        self._names = names
        self._first = keras.Model(self.backbone.input, outputs[0])
        self._stages = [keras.Model(a, b) for a, b in zip(outputs, outputs[1:], strict=False)]
        self._top = keras.Model(outputs[-1], self.backbone.output)

    @property
    def image_size(self) -> int:
        return int(self.backbone.input_shape[1])

    def maps(
        self, images: np.ndarray, target: Target, *, selective: bool = False, scale: str = "slice"
    ) -> ScanSaliency:
        """``images`` (slices, size, size, 3) as the model takes them, right-padded slices all
        PAD_VALUE allowed. ``selective`` takes NormGrad's selective variant. ``scale`` "slice"
        scales each slice's map to 0-1 (a sampled slice scored on its own); "scan" scales over
        the whole scan, so a slice the output hardly depends on keeps a faint map (what a
        viewer scrolling through the scan should see)."""
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; use one of {', '.join(SCALES)}")
        images = np.asarray(images, dtype=np.float32)
        real = _real_slices(images)
        if target.slice_index is not None and not 0 <= target.slice_index < real:
            raise ValueError(f"slice {target.slice_index} is not a slice of this scan")
        activations = self._forward(images[:real])
        score, gradients = self._backward(activations, target, padded=len(images) - real)
        normgrad = combine(
            [
                normgrad_map(activations[n], gradients[n], selective=selective)
                for n in self.layers.normgrad
            ],
            self.image_size,
            per_slice=scale == "slice",
        )
        gradcam = combine(
            [gradcam_map(activations[self.layers.gradcam], gradients[self.layers.gradcam])],
            self.image_size,
            per_slice=scale == "slice",
        )
        return ScanSaliency(
            normgrad=_pad(normgrad, len(images)), gradcam=_pad(gradcam, len(images)), score=score
        )

    def scan_scores(self, images: np.ndarray) -> np.ndarray:
        """The model's scan-level score of every class (``LABELS`` order) for one scan."""
        images = np.asarray(images, dtype=np.float32)
        features = self._features(images[: _real_slices(images)])
        return keras.ops.convert_to_numpy(self.head(features[None])["scan"])[0]

    def slice_scorer(
        self, images: np.ndarray, target: Target, slice_index: int
    ) -> Callable[[np.ndarray], np.ndarray]:
        """The target's score when slice ``slice_index`` is replaced by other images: a stack
        (n, size, size, 3) -> n scores. The other slices' features are computed once, so a
        deletion curve costs one backbone pass per image, not one per scan."""
        images = np.asarray(images, dtype=np.float32)
        images = images[: _real_slices(images)]
        if not 0 <= slice_index < len(images):
            raise ValueError(f"slice {slice_index} is not a slice of this scan")
        features = self._features(images)
        label = LABELS.index(target.label)

        def score(stack: np.ndarray) -> np.ndarray:
            sequences = np.repeat(features[None], len(stack), axis=0)
            sequences[:, slice_index] = self._features(np.asarray(stack, dtype=np.float32))
            out = self.head(sequences)
            if target.level == "scan":
                return keras.ops.convert_to_numpy(out["scan"][:, label])
            return keras.ops.convert_to_numpy(out["slice"][:, target.slice_index, label])

        return score

    def _features(self, images: np.ndarray) -> np.ndarray:
        return np.concatenate(
            [
                keras.ops.convert_to_numpy(self.backbone(images[chunk]))
                for chunk in _chunks(len(images), self.chunk_slices)
            ]
        )

    def _forward(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """Each layer's activations for every slice, a chunk of slices at a time."""
        parts: dict[str, list[np.ndarray]] = {name: [] for name in self._names}
        for chunk in _chunks(len(images), self.chunk_slices):
            a = self._first(images[chunk])
            parts[self._names[0]].append(keras.ops.convert_to_numpy(a))
            for name, stage in zip(self._names[1:], self._stages, strict=True):
                a = stage(a)
                parts[name].append(keras.ops.convert_to_numpy(a))
        return {name: np.concatenate(arrays) for name, arrays in parts.items()}

    def _backward(
        self, activations: dict[str, np.ndarray], target: Target, *, padded: int
    ) -> tuple[float, dict[str, np.ndarray]]:
        """The target's score and its gradient with respect to each layer's activations."""
        label = LABELS.index(target.label)

        def score(last):
            features = self._top(last)
            if padded:
                pad = keras.ops.full((padded, features.shape[-1]), PAD_VALUE, dtype=features.dtype)
                features = keras.ops.concatenate([features, pad], axis=0)
            out = self.head(keras.ops.expand_dims(features, 0))
            if target.level == "scan":
                return out["scan"][0, label]
            return out["slice"][0, target.slice_index, label]

        value, pull = vjp(score, activations[self._names[-1]])
        gradients = {self._names[-1]: keras.ops.convert_to_numpy(pull(None))}
        for index in range(len(self._stages) - 1, -1, -1):
            below, above = self._names[index], self._names[index + 1]
            parts = []
            for chunk in _chunks(len(activations[below]), self.chunk_slices):
                _, pull_stage = vjp(self._stages[index], activations[below][chunk])
                parts.append(keras.ops.convert_to_numpy(pull_stage(gradients[above][chunk])))
            gradients[below] = np.concatenate(parts)
        return float(keras.ops.convert_to_numpy(value)), gradients


def split_scan_model(model: keras.Model) -> tuple[keras.Model, keras.Model]:
    """The backbone (one image in) and the sequence head (features of every slice in) that
    ``modelops.ml.model.build_scan_model`` nested in the scan model."""
    nested = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    backbones = [m for m in nested if len(m.input_shape) == 4]
    heads = [m for m in nested if len(m.input_shape) == 3]
    if len(backbones) != 1 or len(heads) != 1:
        raise ValueError(f"{model.name!r} is not a scan model of modelops.ml.model")
    return backbones[0], heads[0]


def vjp(fn: Callable, x: np.ndarray) -> tuple[object, Callable]:
    """``fn(x)`` and its pullback: cotangent of the output -> gradient with respect to ``x``
    (None for a scalar output), in the backend Keras runs on."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        source = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(source)
            out = fn(source)
        return out, lambda g: tape.gradient(out, source, output_gradients=g)
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        out, pullback = jax.vjp(fn, jnp.asarray(x))
        return out, lambda g: pullback(jnp.ones_like(out) if g is None else jnp.asarray(g))[0]
    raise NotImplementedError(f"saliency maps need TensorFlow or JAX, not {backend!r}")


def normgrad_map(
    activations: np.ndarray, gradients: np.ndarray, *, selective: bool = False
) -> np.ndarray:
    """(..., h, w, channels) twice -> (..., h, w): ||g_u|| ||a_u||, the Frobenius norm of the
    outer product g_u a_u^T; or, selective, ||max(0, a_u * g_u)||."""
    a = activations.astype(np.float32)
    g = gradients.astype(np.float32)
    if selective:
        return np.linalg.norm(np.maximum(a * g, 0.0), axis=-1)
    return np.linalg.norm(a, axis=-1) * np.linalg.norm(g, axis=-1)


def gradcam_map(activations: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    """(n, h, w, channels) twice -> (n, h, w): ReLU(sum_k mean_hw(g_k) a_k)."""
    weights = gradients.astype(np.float32).mean(axis=(-3, -2), keepdims=True)
    return np.maximum((activations.astype(np.float32) * weights).sum(axis=-1), 0.0)


def combine(layer_maps: Sequence[np.ndarray], size: int, *, per_slice: bool = True) -> np.ndarray:
    """Maps of one or more layers, each (n, h, w) -> (n, size, size) in 0-1: each upsampled to
    the input and min-max scaled (per slice, or over all slices), then multiplied (NormGrad's
    combination), and the product scaled again so every method's map spans the same range."""
    product = np.ones((len(layer_maps[0]), size, size), dtype=np.float32)
    for maps in layer_maps:
        product *= normalise(resize(maps[..., None], size)[..., 0], per_slice=per_slice)
    return normalise(product, per_slice=per_slice)


def normalise(maps: np.ndarray, *, per_slice: bool = True) -> np.ndarray:
    """Maps (n, h, w) min-max scaled to 0-1, each slice on its own or all together; a
    constant map becomes all zero."""
    axes = (1, 2) if per_slice else (0, 1, 2)
    low = maps.min(axis=axes, keepdims=True)
    span = maps.max(axis=axes, keepdims=True) - low
    safe = np.where(span > 0, span, 1.0)
    return np.where(span > 0, (maps - low) / safe, 0.0).astype(np.float32)


def _real_slices(images: np.ndarray) -> int:
    """How many slices come before the padding; padding anywhere else is refused."""
    real = np.any(images != PAD_VALUE, axis=(1, 2, 3))
    count = int(real.sum())
    if not real[:count].all():
        raise ValueError("padded slices must follow the scan's slices")
    if count == 0:
        raise ValueError("the scan has no slices")
    return count


def _chunks(count: int, size: int) -> list[slice]:
    return [slice(start, min(start + size, count)) for start in range(0, count, size)]


def _pad(maps: np.ndarray, length: int) -> np.ndarray:
    if len(maps) == length:
        return maps
    pad = np.zeros((length - len(maps), *maps.shape[1:]), dtype=maps.dtype)
    return np.concatenate([maps, pad])
