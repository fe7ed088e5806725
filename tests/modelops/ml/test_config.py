"""The training configuration: defaults, validation messages naming the field, JSON round trip."""

import ast
from pathlib import Path

import pytest

from modelops.metrics import HEMORRHAGE_CLASSES
from modelops.ml.config import LABELS, ConfigError, TrainingConfig

ROOT = Path(__file__).resolve().parents[3]


def test_labels_are_in_the_study_order():
    assert LABELS == ("any", "iph", "ivh", "sah", "sdh", "edh")


def test_defaults_round_trip_through_json():
    config = TrainingConfig()
    assert config.backbone == "small" and config.image_size == 128 and config.lr_decay == 0.96
    assert TrainingConfig.from_dict(config.as_dict()) == config


def test_from_dict_accepts_a_partial_object_and_integral_floats():
    config = TrainingConfig.from_dict({"epochs": 2.0, "learning_rate": 1, "rnn": "lstm"})
    assert config.epochs == 2 and isinstance(config.epochs, int)
    assert config.learning_rate == 1.0 and config.rnn == "lstm"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"backbone": "resnet"}, "backbone"),
        ({"image_size": 16}, "image_size"),
        ({"image_size": 600}, "image_size"),
        ({"backbone": "inception_resnet_v2", "image_size": 64}, "image_size"),
        ({"rnn": "transformer"}, "rnn"),
        ({"mode": "one_stage"}, "mode"),
        ({"epochs": 0}, "epochs"),
        ({"epochs": 1.5}, "epochs"),
        ({"batch_size": "16"}, "batch_size"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"lr_decay": 1.5}, "lr_decay"),
        ({"augment": 1}, "augment"),
        ({"seed": True}, "seed"),
        ({"threshold_criterion": "best"}, "threshold_criterion"),
        ({"dropout": 0.5}, "dropout"),
    ],
)
def test_invalid_values_name_their_field(data, field):
    with pytest.raises(ConfigError, match=field):
        TrainingConfig.from_dict(data)


def test_config_error_is_a_value_error_and_direct_construction_validates():
    assert issubclass(ConfigError, ValueError)
    with pytest.raises(ConfigError, match="rnn_units"):
        TrainingConfig(rnn_units=0)


def test_tensorflow_is_imported_only_inside_functions():
    # JAX GPU workers must not load TensorFlow: every import of it sits in a function that
    # first checks the backend (jax is not installed here, so this is checked on the source)
    sources = [*(ROOT / "modelops" / "ml").glob("*.py"), ROOT / "bench" / "model_training_gpu.py"]
    for path in sources:
        tree = ast.parse(path.read_text())
        for node in tree.body:
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(name.split(".")[0] == "tensorflow" for name in names), path


def test_labels_are_the_metrics_classes():
    assert tuple(HEMORRHAGE_CLASSES) == LABELS
