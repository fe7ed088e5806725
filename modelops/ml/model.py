"""The joint CNN-RNN with attention of Alis et al. (2022), in Keras 3.

    slice images -> CNN backbone (InceptionResNetV2 without its top, or a small CNN for CPUs)
                 -> one feature vector per slice, stacked per scan
                 -> bidirectional RNN -> additive attention -> bidirectional RNN
                 -> "slice": six sigmoids per slice, "scan": six sigmoids per scan

Backend-agnostic: only keras.ops, so the same code trains on TensorFlow (CPU) and JAX (GPU).
Scans in a batch are right-padded to a common length; a padded step is all PAD_VALUE (-1, which
no window value in 0-1 nor a post-ReLU feature can take), and the masks derived from it keep
padding out of the RNNs, the attention and hence the scan output.
"""

import keras
from keras import layers, ops

from modelops.ml.config import LABELS

PAD_VALUE = -1.0
N_LABELS = len(LABELS)
_NEG_INF = -1e9


@keras.saving.register_keras_serializable(package="ichlabel")
class AdditiveAttention(layers.Layer):
    """Bahdanau-style attention over time steps: a_t = softmax_t(v . tanh(W h_t + b)).

    With `pool=False` it returns each step's state concatenated with the attention context
    (batch, time, 2 x features), keeping the mask, so a following RNN reads every slice in
    the light of the slices that matter most; with `pool=True` it returns the context alone
    (batch, features). Masked steps get zero weight.
    """

    def __init__(self, units: int, pool: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.units = units
        self.pool = pool
        self.supports_masking = True

    def build(self, input_shape: tuple) -> None:
        features = input_shape[-1]
        self.w = self.add_weight(shape=(features, self.units), initializer="glorot_uniform")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros")
        self.v = self.add_weight(shape=(self.units, 1), initializer="glorot_uniform")

    def weights_over_time(self, inputs, mask=None):
        scores = ops.squeeze(ops.matmul(ops.tanh(ops.matmul(inputs, self.w) + self.b), self.v), -1)
        if mask is not None:
            scores = ops.where(mask, scores, ops.full_like(scores, _NEG_INF))
        return ops.softmax(scores, axis=-1)

    def call(self, inputs, mask=None):
        alpha = self.weights_over_time(inputs, mask)
        context = ops.sum(inputs * ops.expand_dims(alpha, -1), axis=1)
        if self.pool:
            return context
        steps = ops.shape(inputs)[1]
        return ops.concatenate(
            [inputs, ops.repeat(ops.expand_dims(context, 1), steps, axis=1)], axis=-1
        )

    def compute_mask(self, inputs, mask=None):
        return None if self.pool else mask

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        if self.pool:
            return (input_shape[0], input_shape[-1])
        return (*input_shape[:-1], 2 * input_shape[-1])

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units, "pool": self.pool}


@keras.saving.register_keras_serializable(package="ichlabel")
class FoldTime(layers.Layer):
    """(batch, time, h, w, c) -> (batch x time, h, w, c), so the backbone sees plain images.

    Used instead of TimeDistributed, whose open-time-axis path (vectorized_map) gave the real
    slices of a padded scan different features from the unpadded scan on TensorFlow.
    """

    def call(self, images):
        return ops.reshape(images, (-1, *images.shape[2:]))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (None, *input_shape[2:])


@keras.saving.register_keras_serializable(package="ichlabel")
class UnfoldTime(layers.Layer):
    """Per-slice features back to (batch, time, d), with padded steps set to PAD_VALUE so the
    head's Masking layer finds them (the backbone's features of a padding image mean nothing).
    Inputs: [images (batch, time, h, w, c), features (batch x time, d)]."""

    def call(self, inputs):
        images, features = inputs
        shape = ops.shape(images)
        features = ops.reshape(features, (shape[0], shape[1], features.shape[-1]))
        real = ops.any(ops.not_equal(images, PAD_VALUE), axis=(2, 3, 4))
        return ops.where(ops.expand_dims(real, -1), features, ops.full_like(features, PAD_VALUE))

    def compute_output_shape(self, input_shapes: list) -> tuple:
        images, features = input_shapes
        return (images[0], images[1], features[-1])


def build_backbone(name: str, image_size: int) -> keras.Model:
    """Image (size, size, 3) in 0-1 -> one feature vector."""
    if name == "inception_resnet_v2":
        return keras.applications.InceptionResNetV2(
            include_top=False,
            weights=None,
            pooling="avg",
            input_shape=(image_size, image_size, 3),
        )
    if name == "small":
        return _small_backbone(image_size)
    raise ValueError(f"unknown backbone {name!r}; use 'small' or 'inception_resnet_v2'")


def _small_backbone(image_size: int) -> keras.Model:
    """Four conv-BN-ReLU-pool blocks (about 100k parameters); average and max pooling side by
    side, since a small bleed is a few bright pixels that averaging alone would dilute."""
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = inputs
    for filters in (16, 32, 64, 128):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D(2)(x)
    pooled = [layers.GlobalAveragePooling2D()(x), layers.GlobalMaxPooling2D()(x)]
    return keras.Model(inputs, layers.Concatenate()(pooled), name="small_backbone")


def build_slice_classifier(backbone: keras.Model) -> keras.Model:
    """Stage 1 of two-stage training: image -> six sigmoids."""
    inputs = keras.Input(backbone.input_shape[1:], name="image")
    # float32 outputs keep the loss stable under a mixed_float16 policy
    dense = layers.Dense(N_LABELS, activation="sigmoid", dtype="float32", name="slice")
    outputs = dense(backbone(inputs))
    return keras.Model(inputs, outputs, name="slice_classifier")


def _rnn(kind: str, units: int, name: str) -> layers.Layer:
    cell = {"gru": layers.GRU, "lstm": layers.LSTM}[kind]
    return layers.Bidirectional(cell(units, return_sequences=True), name=name)


def build_sequence_head(
    feature_dim: int, *, rnn: str = "gru", rnn_units: int = 64, attention_units: int = 64
) -> keras.Model:
    """Features (batch, time, feature_dim), padded steps all PAD_VALUE ->
    {"slice": (batch, time, 6), "scan": (batch, 6)}."""
    inputs = keras.Input((None, feature_dim), name="features")
    x = layers.Masking(mask_value=PAD_VALUE)(inputs)
    x = _rnn(rnn, rnn_units, "rnn_1")(x)
    x = AdditiveAttention(attention_units, name="attention")(x)
    x = _rnn(rnn, rnn_units, "rnn_2")(x)
    slice_out = layers.Dense(N_LABELS, activation="sigmoid", dtype="float32", name="slice")(x)
    pooled = AdditiveAttention(attention_units, pool=True, name="scan_pool")(x)
    scan_out = layers.Dense(N_LABELS, activation="sigmoid", dtype="float32", name="scan")(pooled)
    return keras.Model(inputs, {"slice": slice_out, "scan": scan_out}, name="sequence_head")


def build_scan_model(
    backbone: keras.Model, head: keras.Model, max_slices: int | None = None, image_size: int = 0
) -> keras.Model:
    """Images (batch, time, size, size, 3), padded slices all PAD_VALUE -> {"slice", "scan"}.

    The time axis is left open so a scan of any length can be predicted; `max_slices` is the
    training crop and is only recorded in the model's name. `image_size` defaults to the
    backbone's input size.
    """
    image_size = image_size or backbone.input_shape[1]
    images = keras.Input((None, image_size, image_size, 3), name="images")
    features = backbone(FoldTime(name="fold_time")(images))
    features = UnfoldTime(name="unfold_time")([images, features])
    outputs = head(features)
    outputs = {
        "slice": layers.Identity(name="slice")(outputs["slice"]),
        "scan": layers.Identity(name="scan")(outputs["scan"]),
    }
    name = f"scan_model_max{max_slices}" if max_slices else "scan_model"
    return keras.Model(images, outputs, name=name)
