"""Which series a node scores: rules in the JSON format of MONAI Deploy's series selection, so a
site can bring the rules it already has.

    {"selections": [
        {"name": "Non-contrast head CT",
         "conditions": {"Modality": "(?i)^CT$",
                        "ImageType": ["ORIGINAL", "PRIMARY", "!LOCALIZER"],
                        "SliceThickness": [2.5, 5],
                        "ImageOrientationPatient": "Axial",
                        "SeriesDescription": "(?i)head"}}]}

A series meets a selection when it meets every condition; the rules select it under the name of
the first selection it meets. The matching follows ``DICOMSeriesSelectorOperator`` of
monai-deploy-app-sdk 3.5.0 (``monai/deploy/operators/dicom_series_selector_operator.py`` at
commit 0d8fd45, January 2026):

- Keys are DICOM keywords. A key's value is the study's or the series' (what the PACS answers
  for the series); when that is missing or empty, the series' first instance's.
- A condition whose value is empty (``""``, ``[]``, ``null``, ``0``, ``false``) is ignored; an
  attribute that is missing or empty (``0`` too) fails its condition.
- Text: equal ignoring case, or else the condition is a regular expression found anywhere in the
  value (``re.search``, ignoring case; anchor it with ``^``/``$`` to match the whole).
- Numbers (IS, DS): ``5`` equal; ``[2, 5]`` from 2 to 5 inclusive; ``[2, ">"]`` with ``>``,
  ``>=``, ``<``, ``<=`` or ``!=``; a string is a regular expression for the whole number as text.
- Several values (ImageType): each term of a list (or a single string) must occur in the values'
  text, ignoring case; a term starting with ``!`` must not. The SDK tests substrings of the
  printed value, so ``"PRIMARY"`` also finds ``"PRIMARY_X"``; so does this.
- ``ImageOrientationPatient``: ``"Axial"``, ``"Coronal"`` or ``"Sagittal"``, the plane whose
  normal (row x column cosines) is closest, for a series whose PatientPosition is one of HFS,
  HFP, HFDR, HFDL, FFS, FFP, FFDR, FFDL.
- ``select_series`` applies rules to one study's series as the SDK does: for each selection in
  order, its first matching series, or all of them with ``all_matched`` (then in descending
  instance count with ``sort_by_sop_instance_count``); no rules select every series.

Where the SDK fails on odd data, this does not: a list condition on a single-valued attribute
takes the value as a one-value list (the SDK raises AttributeError); an orientation condition on a
series without a known PatientPosition does not match (the SDK raises). A condition the SDK
cannot evaluate at all (a list that is neither a range nor a relation on a number) is a
``RuleError``, and rules are checked when loaded (a bad regular expression, an unknown plane).

``contrast_given`` is ICHLabel's own guard beside the rules: the model reads non-contrast CT, so
a series whose instances name a contrast agent is not scored, whatever the rules say.
"""

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from pydicom import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence as DicomSequence
from pydicom.valuerep import PersonName

ORIENTATIONS = ("Axial", "Coronal", "Sagittal")
PATIENT_POSITIONS = {"HFP", "HFS", "HFDL", "HFDR", "FFP", "FFS", "FFDL", "FFDR"}
RELATIONS: dict[str, Callable[[float, float], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "!=": lambda a, b: a != b,
}
# What a ContrastBolusAgent may say of a series that got no contrast.
NO_CONTRAST = {"none", "no", "n", "nil", "nein", "ohne", "-", "0", "no contrast"}


class RuleError(ValueError):
    """The rules cannot be used; the message names the file, the selection and the key."""


@dataclass(frozen=True)
class Selection:
    name: str
    conditions: Mapping[str, Any]


@dataclass(frozen=True)
class Rules:
    selections: tuple[Selection, ...]

    def keywords(self) -> set[str]:
        """Every attribute some condition looks at (and PatientPosition for orientation)."""
        keys = {key for selection in self.selections for key in selection.conditions}
        return keys | ({"PatientPosition"} if "ImageOrientationPatient" in keys else set())

    def match(self, series: "SeriesAttributes") -> str | None:
        """The name of the first selection ``series`` meets, or None."""
        for selection in self.selections:
            if conditions_met(selection.conditions, series):
                return selection.name
        return None


class SeriesAttributes:
    """One series' attributes as the rules see them: ``values`` (keyword -> value, the study's
    and the series', e.g. a QIDO-RS answer as a pydicom Dataset, or a plain dict), and its first
    instance (a Dataset or dict, or a callable giving one, called once when a value is missing)."""

    def __init__(
        self,
        values: Mapping[str, Any] | Dataset,
        first_instance: Mapping[str, Any] | Dataset | Callable[[], Any] | None = None,
        *,
        instances: int = 0,
    ) -> None:
        self.values = values
        self._first_instance = first_instance
        self.instances = instances

    def get(self, keyword: str) -> Any:
        """The value as str, int, float or list; None when missing or empty."""
        value = _plain(self.values.get(keyword))
        if not value and self.first_instance is not None:  # as the SDK: 0 counts as missing
            value = _plain(self.first_instance.get(keyword))
        return value if value not in ("", []) else None

    @cached_property
    def first_instance(self) -> Mapping[str, Any] | Dataset | None:
        instance = self._first_instance
        return instance() if callable(instance) else instance


def _plain(value: Any) -> Any:
    """A pydicom value as the SDK compares it: numbers as numbers, several values as a list."""
    if value is None or isinstance(value, bytes | DicomSequence | Dataset):
        return None
    if isinstance(value, MultiValue | list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, PersonName):
        return str(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


# Matching


def conditions_met(conditions: Mapping[str, Any], series: SeriesAttributes) -> bool:
    """Whether ``series`` meets every condition (see the module's docstring)."""
    for key, wanted in conditions.items():
        if not wanted:
            continue
        value = series.get(key)
        if not value:
            return False
        if key == "ImageOrientationPatient":
            matched = _orientation_matches(wanted, value, series.get("PatientPosition"))
        elif isinstance(value, int | float):
            matched = _number_matches(key, wanted, value)
        elif isinstance(value, str) and not isinstance(wanted, list):
            wanted = str(wanted)
            matched = value.casefold() == wanted.casefold() or bool(
                re.search(wanted, value, re.IGNORECASE)
            )
        else:
            matched = _values_match(wanted, value if isinstance(value, list) else [value])
        if not matched:
            return False
    return True


def _number_matches(key: str, wanted: Any, value: float) -> bool:
    if isinstance(wanted, list):
        if len(wanted) == 2 and isinstance(wanted[1], str):
            relation = RELATIONS.get(wanted[1])
            if relation is None:
                raise RuleError(f"{key}: unknown relation {wanted[1]!r}")
            return relation(value, float(wanted[0]))
        if len(wanted) == 2 and all(_is_number(v) for v in wanted):
            return bool(wanted[0] <= value <= wanted[1])
        raise RuleError(f"{key}: {wanted!r} is neither a range [min, max] nor [value, relation]")
    if isinstance(wanted, str):
        return re.fullmatch(wanted, str(value)) is not None
    if _is_number(wanted):
        return bool(wanted == value)
    raise RuleError(f"{key}: cannot compare a number with {wanted!r}")


def _values_match(wanted: Any, values: list[Any]) -> bool:
    text = "\\".join(str(v) for v in values).lower()
    terms = [str(t).lower() for t in (wanted if isinstance(wanted, list) else [wanted])]
    return all(t[1:] not in text if t.startswith("!") else t in text for t in terms)


def _orientation_matches(wanted: str, value: Any, patient_position: Any) -> bool:
    if patient_position not in PATIENT_POSITIONS:
        return False
    try:
        cosines = np.asarray([float(v) for v in value], np.float64)
    except (TypeError, ValueError):
        return False
    if cosines.shape != (6,):
        return False
    normal = np.cross(cosines[:3], cosines[3:])
    if not np.linalg.norm(normal):
        return False
    return ORIENTATIONS[::-1][int(np.argmax(np.abs(normal)))] == wanted.strip().capitalize()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class Selected:
    name: str
    series: SeriesAttributes = field(compare=False)


def select_series(
    rules: Rules | None,
    study_series: Sequence[SeriesAttributes],
    *,
    all_matched: bool = False,
    sort_by_sop_instance_count: bool = False,
) -> list[Selected]:
    """One study's selected series, as the SDK's ``filter`` selects them for one study."""
    if rules is None:
        return [Selected("", series) for series in study_series]
    chosen: list[Selected] = []
    for selection in rules.selections:
        found = [s for s in study_series if conditions_met(selection.conditions, s)]
        if not all_matched:
            found = found[:1]
        elif sort_by_sop_instance_count:
            found.sort(key=lambda s: s.instances, reverse=True)
        chosen += [Selected(selection.name, series) for series in found]
    return chosen


def contrast_given(series: SeriesAttributes) -> bool:
    """Whether the series names a contrast agent (ContrastBolusAgent other than "none")."""
    agent = series.get("ContrastBolusAgent")
    if isinstance(agent, list):
        agent = "\\".join(str(v) for v in agent)
    return agent is not None and str(agent).strip().lower() not in NO_CONTRAST


# Loading


def parse_rules(data: Any, *, source: str = "rules") -> Rules:
    """Rules from their JSON value, checked; ``RuleError`` says what is wrong and where."""
    if not isinstance(data, dict):
        raise RuleError(f'{source}: expected a JSON object with "selections"')
    selections = data.get("selections")
    if not selections or not isinstance(selections, list):
        raise RuleError(f'{source}: expected "selections", a non-empty list')
    parsed = []
    for index, selection in enumerate(selections):
        if not isinstance(selection, dict):
            raise RuleError(f"{source}: selection {index} is not an object")
        name = selection.get("name", "")
        if not isinstance(name, str):
            raise RuleError(f"{source}: selection {index}: name must be a string")
        conditions = selection.get("conditions")
        if not conditions:
            continue  # as the SDK: a selection without conditions selects nothing
        where = f"{source}: selection {name.strip() or index}"
        if not isinstance(conditions, dict):
            raise RuleError(f"{where}: conditions must be an object")
        for key, wanted in conditions.items():
            _check_condition(where, key, wanted)
        parsed.append(Selection(name.strip(), dict(conditions)))
    if not parsed:
        raise RuleError(f"{source}: no selection has conditions")
    return Rules(tuple(parsed))


def _check_condition(where: str, key: str, wanted: Any) -> None:
    if not wanted:
        return
    if key == "ImageOrientationPatient":
        if not isinstance(wanted, str) or wanted.strip().capitalize() not in ORIENTATIONS:
            raise RuleError(f"{where}: {key} must be one of {', '.join(ORIENTATIONS)}")
        return
    items = wanted if isinstance(wanted, list) else [wanted]
    for item in items:
        if isinstance(item, dict | list) or item is None:
            raise RuleError(f"{where}: {key}: {item!r} is not a string or a number")
        if isinstance(item, str) and not isinstance(wanted, list):
            try:
                re.compile(item)
            except re.error as error:
                raise RuleError(f"{where}: {key}: bad regular expression: {error}") from error
    relation = isinstance(wanted, list) and len(wanted) == 2 and _is_number(wanted[0])
    if relation and isinstance(wanted[1], str) and wanted[1] not in RELATIONS:
        raise RuleError(
            f"{where}: {key}: unknown relation {wanted[1]!r} (use {', '.join(RELATIONS)})"
        )


def load_rules(path: Path) -> Rules:
    """The rules in the JSON file at ``path``, checked."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as error:
        raise RuleError(f"series selection rules {path} cannot be read: {error}") from error
    except (ValueError, UnicodeDecodeError) as error:
        raise RuleError(f"series selection rules {path} are not valid JSON: {error}") from error
    return parse_rules(data, source=str(path))


# ICHLabel's default: axial non-contrast head CT, no localizer.

# Words that say a series had contrast, unless "non", "w/o", "wo", "without", "no", "ohne" or
# "un" (and maybe "iv") comes just before; CT angiography, venography and perfusion;
# localizers; dose reports.
_NEGATED = "".join(
    f"(?<!{w}{iv})"
    for w in ("non", "non-", "non ", "w/o ", "wo ", "without ", "no ", "ohne ", "un")
    for iv in ("", "iv ")
)
_NOT_FOR_THE_MODEL = (
    rf"{_NEGATED}(contrast|kontrast|enhanced|\bcontr?\b|\bkm\b|\bc\+)"
    r"|\bw/? ?(iv )?con(trast)?\b|\bcta\b|\bctv\b|angio|venogra|perfusion|\bperf\b|arterial"
    r"|scout|topogram|locali[sz]er|locator|surview|scanogram|\bpilot\b|dose ?(report|info)"
)
_HEAD = r"head|brain|kopf|sch(ä|ae)del|cran|skull|neuro|stroke"
NON_CONTRAST = rf"(?i)^(?!.*({_NOT_FOR_THE_MODEL}))"
NON_CONTRAST_HEAD = rf"(?i)^(?!.*({_NOT_FOR_THE_MODEL}))(?=.*({_HEAD}))"
_AXIAL_PRIMARY_CT = {
    "Modality": "(?i)^CT$",
    "ImageType": ["ORIGINAL", "PRIMARY", "!LOCALIZER"],
    "ImageOrientationPatient": "Axial",
}
DEFAULT_RULES: dict[str, Any] = {
    "selections": [
        {
            "name": "Non-contrast head CT",
            "conditions": {
                **_AXIAL_PRIMARY_CT,
                "BodyPartExamined": "(?i)^(head|brain|skull)$",
                "SeriesDescription": NON_CONTRAST,
            },
        },
        {
            "name": "Non-contrast head CT (by description)",
            "conditions": {**_AXIAL_PRIMARY_CT, "SeriesDescription": NON_CONTRAST_HEAD},
        },
    ]
}


def default_rules() -> Rules:
    """ICHLabel's rules: axial original CT, no localizer, the head by BodyPartExamined or by
    SeriesDescription, no contrast, angiography, perfusion or scout in the description."""
    return parse_rules(DEFAULT_RULES, source="ICHLabel's default rules")
