"""Training configuration of the CNN-RNN with attention: one frozen dataclass, validated.

A configuration arrives as JSON from the web side (a training job's form), so `from_dict` checks
every field by name and type and rejects unknown keys; `as_dict` gives the JSON back. Defaults
are small enough to train on a CPU; the paper's configuration is InceptionResNetV2 at 480 px,
Adam at 1e-3 with an exponential decay of 0.96 per epoch.
"""

from dataclasses import asdict, dataclass, fields
from typing import Any

from annotations.vocabulary import HEMORRHAGE_CLASSES

# the model's output order is the vocabulary's class order, as the metrics' is
LABELS: tuple[str, ...] = tuple(HEMORRHAGE_CLASSES)

BACKBONES = ("small", "inception_resnet_v2")
RNNS = ("gru", "lstm")
MODES = ("two_stage", "end_to_end")
# the spellings of modelops.metrics.YOUDEN / TARGET_SENSITIVITY
THRESHOLD_CRITERIA = ("youden", "target-sensitivity")
# keras.applications.InceptionResNetV2 refuses inputs smaller than 75 x 75
INCEPTION_MIN_SIZE = 75


class ConfigError(ValueError):
    """A training configuration that cannot be used; the message names the field."""


@dataclass(frozen=True)
class TrainingConfig:
    backbone: str = "small"
    image_size: int = 128
    rnn: str = "gru"
    rnn_units: int = 64
    attention_units: int = 64
    mode: str = "two_stage"
    epochs: int = 4  # sequence-stage epochs in two_stage, all epochs in end_to_end
    cnn_epochs: int = 2  # stage 1 of two_stage
    batch_size: int = 16  # slices per batch in stage 1
    scans_per_batch: int = 4  # scans per batch in the sequence stage and end to end
    learning_rate: float = 1e-3
    lr_decay: float = 0.96  # per epoch, exponential
    augment: bool = True
    seed: int = 0
    max_slices: int = 64  # longer scans are centre-cropped along z
    threshold_criterion: str = "youden"
    target_sensitivity: float = 0.95  # used only by the target-sensitivity criterion

    def __post_init__(self) -> None:
        _validate(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainingConfig":
        """A configuration from JSON-like data; missing fields take their defaults."""
        if not isinstance(data, dict):
            raise ConfigError(f"configuration must be an object, got {type(data).__name__}")
        known = {field.name: field for field in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(f"unknown field(s): {', '.join(unknown)}")
        values = {name: _coerce(name, known[name].type, value) for name, value in data.items()}
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_TYPES = {"str": str, "int": int, "float": float, "bool": bool}


def _coerce(name: str, type_name: Any, value: Any) -> Any:
    expected = _TYPES[type_name if isinstance(type_name, str) else type_name.__name__]
    # bool is an int in Python; neither direction is accepted silently
    if expected is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false, got {value!r}")
        return value
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    if expected is float and isinstance(value, int | float):
        return float(value)
    if expected is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, expected):
        raise ConfigError(f"{name} must be of type {expected.__name__}, got {value!r}")
    return value


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def _range(name: str, value: Any, low: float, high: float | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{name} must be {bounds}, got {value!r}")


def _validate(config: TrainingConfig) -> None:
    _choice("backbone", config.backbone, BACKBONES)
    _choice("rnn", config.rnn, RNNS)
    _choice("mode", config.mode, MODES)
    _choice("threshold_criterion", config.threshold_criterion, THRESHOLD_CRITERIA)
    _range("image_size", config.image_size, 32, 512)
    if config.backbone == "inception_resnet_v2" and config.image_size < INCEPTION_MIN_SIZE:
        raise ConfigError(
            f"image_size must be at least {INCEPTION_MIN_SIZE} for inception_resnet_v2, "
            f"got {config.image_size}"
        )
    for name in ("rnn_units", "attention_units", "epochs", "batch_size", "scans_per_batch"):
        _range(name, getattr(config, name), 1)
    _range("cnn_epochs", config.cnn_epochs, 0)
    _range("max_slices", config.max_slices, 1)
    _range("seed", config.seed, 0)
    if not 0 < config.learning_rate <= 1:
        raise ConfigError(f"learning_rate must lie in (0, 1], got {config.learning_rate!r}")
    if not 0 < config.lr_decay <= 1:
        raise ConfigError(f"lr_decay must lie in (0, 1], got {config.lr_decay!r}")
    if not 0 < config.target_sensitivity <= 1:
        raise ConfigError(
            f"target_sensitivity must lie in (0, 1], got {config.target_sensitivity!r}"
        )
    if not isinstance(config.augment, bool):
        raise ConfigError(f"augment must be true or false, got {config.augment!r}")
