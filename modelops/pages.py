"""What the ML engineer's pages share: the role check, rendering, and the text of figures
(percentages, estimates with their CI, configuration values).
"""

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import fields

from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views import View

from annotations.models import Role
from annotations.pages import RoleRequiredMixin
from annotations.permissions import user_has_role
from annotations.vocabulary import CLASS_NAMES
from modelops.ml.config import TrainingConfig

PAGE_SIZE = 50


def criterion_text(criterion: str) -> str:
    """ "youden" -> "Youden's J"; "target-sensitivity(0.95)" -> "target sensitivity 0.95"."""
    if criterion == "youden":
        return "Youden's J"
    if criterion.startswith("target-sensitivity(") and criterion.endswith(")"):
        return f"target sensitivity {criterion[len('target-sensitivity(') : -1]}"
    return criterion


def number_or_none(value) -> float | None:
    """A finite float, or None for null, NaN and anything that is no number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def percent(value) -> str:
    """0.9834 -> "98.3%"; "—" where undefined."""
    number = number_or_none(value)
    return "—" if number is None else f"{number * 100:.1f}%"


def estimate_text(estimate: Mapping | None) -> str:
    """An Estimate.as_dict() as "98.3% (97.9–98.6)"; "—" where undefined."""
    if not estimate:
        return "—"
    value = number_or_none(estimate.get("value"))
    if value is None:
        return "—"
    lower, upper = number_or_none(estimate.get("lower")), number_or_none(estimate.get("upper"))
    interval = "" if lower is None or upper is None else f" ({lower * 100:.1f}–{upper * 100:.1f})"
    return f"{value * 100:.1f}%{interval}"


def class_label(name: str) -> str:
    return CLASS_NAMES.get(name, name.upper())


def config_text(value) -> str:
    """A configuration value as in its JSON: true/false, null, numbers, plain strings."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def config_keys(configs: Iterable[Mapping]) -> list[str]:
    """The keys of these configurations in TrainingConfig's field order (the database's JSON
    keeps no order), then any others by name."""
    present = {key for config in configs for key in config}
    known = [f.name for f in fields(TrainingConfig) if f.name in present]
    return known + sorted(present - set(known))


def config_rows(config: Mapping) -> list[tuple[str, str]]:
    return [(key, config_text(config[key])) for key in config_keys([config])]


def render_page(request, template: str, context: dict):
    response = render(request, template, context)
    add_never_cache_headers(response)  # the script re-fetches the page to refresh its tables
    return response


class ModelOpsPage(RoleRequiredMixin, View):
    roles = (Role.ML_ENGINEER, Role.COORDINATOR)

    def may_act(self) -> bool:
        return user_has_role(self.request.user, Role.ML_ENGINEER)
