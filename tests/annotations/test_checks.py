"""The settings checks: window presets a reader can actually reach."""

import pytest

from annotations.checks import window_presets_check


def preset(key="k", **overrides):
    return {"key": key, "name": "Stroke", "center": 35, "width": 40} | overrides


def messages(settings, presets):
    settings.WINDOW_PRESETS = presets
    return [error.msg for error in window_presets_check(None)]


def test_the_default_presets_pass(settings):
    assert window_presets_check(None) == []


@pytest.mark.parametrize(
    ("presets", "problem"),
    [
        ([preset("1")], "already a reading key"),
        ([preset("D")], "already a reading key"),
        ([preset("k"), preset("K")], "used by two presets"),
        ([preset("kk")], "single character"),
        ([preset(width=0)], "width above 0"),
        ([preset(center="50")], "must be numbers"),
        ([preset(name=" ")], "needs a name"),
        (["q"], "is not an object"),
        ([], "non-empty JSON list"),
    ],
)
def test_presets_a_reader_cannot_use_are_reported(settings, presets, problem):
    found = messages(settings, presets)

    assert len(found) == 1 and problem in found[0]
    assert found[0].startswith("ICHLABEL_WINDOW_PRESETS")
