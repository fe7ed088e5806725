"""System checks of the study settings, run by ``manage.py check``, migrate and the servers."""

import math

from django.conf import settings
from django.core.checks import Error, register

from annotations.vocabulary import READER_KEYS


@register()
def window_presets_check(app_configs, **kwargs) -> list[Error]:
    """Each preset: one free key (no two alike), a name, a centre and a positive width in HU."""
    presets = settings.WINDOW_PRESETS
    if not isinstance(presets, list) or not presets:
        return [_error("must be a non-empty JSON list of presets")]
    errors, seen = [], set()
    for number, preset in enumerate(presets, start=1):
        problem = _preset_problem(preset, seen)
        if problem:
            errors.append(_error(f"preset {number}: {problem}"))
    return errors


def _preset_problem(preset, seen: set[str]) -> str | None:
    if not isinstance(preset, dict):
        return "is not an object with key, name, center and width"
    key = preset.get("key")
    if not isinstance(key, str) or len(key) != 1:
        return "key must be a single character"
    if key.lower() in READER_KEYS:
        return f"key {key!r} is already a reading key (0-5, c, u, r, d, h, ?)"
    if key.lower() in seen:
        return f"key {key!r} is used by two presets"
    seen.add(key.lower())
    if not isinstance(preset.get("name"), str) or not preset["name"].strip():
        return "needs a name"
    center, width = preset.get("center"), preset.get("width")
    if not all(_is_number(value) for value in (center, width)) or width <= 0:
        return "center and width must be numbers (HU), width above 0"
    return None


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _error(text: str) -> Error:
    return Error(f"ICHLABEL_WINDOW_PRESETS {text}", id="ichlabel.E001")
