"""Checks on an API input before its serializer sees it: keys it does not know, at any depth, and
numbers that DRF's fields would take but the database or the user did not mean.

DRF's ``IntegerField`` parses with ``int()``, which takes any script's digits ('١٢' is 12) and
any size (an id beyond 64 bits reached the database and failed there, a 500). Here an integer
is ASCII digits within the database's 64-bit range (PostgreSQL's bigint, SQLite's integer);
a field may narrow that with its own ``min_value``/``max_value``.
"""

import re
from collections.abc import Mapping
from typing import Any

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.fields import empty

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
# What DRF's IntegerField parses, in ASCII only: an optional sign, digits, '.0' allowed.
ASCII_INTEGER = re.compile(r"\s*[-+]?[0-9]+(\.0*)?\s*", re.ASCII)

NOT_ASCII = "Enter a number in ASCII digits (0-9)."
OUT_OF_RANGE = f"Ensure this value is between {INT_MIN} and {INT_MAX}."

# Query keys every API view takes besides its own: DRF's paging and its renderer override.
PAGING_KEYS = frozenset({"limit", "offset"})
QUERY_KEYS = PAGING_KEYS | {"format"}


def unknown_fields(serializer: serializers.Serializer, data: Any, prefix: str = "") -> list[str]:
    """The keys of ``data`` that ``serializer`` has no field for, nested ones by their path.
    In a query string or form the paging keys are known to every serializer."""
    if not isinstance(data, Mapping):
        return []  # not an object: the serializer itself says what is wrong
    fields = serializer.fields
    allowed = QUERY_KEYS if isinstance(data, QueryDict) else frozenset()
    out = [f"{prefix}{key}" for key in data if key not in fields and key not in allowed]
    for name, field in fields.items():
        value = data.get(name)
        if isinstance(field, serializers.Serializer):
            out += unknown_fields(field, value, f"{prefix}{name}.")
        elif isinstance(field, serializers.ListSerializer) and isinstance(value, list):
            items = value if isinstance(field.child, serializers.Serializer) else []
            for index, item in enumerate(items):
                out += unknown_fields(field.child, item, f"{prefix}{name}[{index}].")
    return out


def number_errors(serializer: serializers.Serializer, data: Any, prefix: str = "") -> dict:
    """Field path -> message for each number in ``data`` that is not ASCII digits or, for an
    integer, lies outside the 64-bit range; the serializer checks everything else."""
    if not isinstance(data, Mapping):
        return {}
    out: dict[str, list[str]] = {}
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        raw = field.get_value(data)  # a QueryDict's lists and forms' checkboxes as DRF reads them
        if raw is empty:
            continue
        path = f"{prefix}{name}"
        if isinstance(field, serializers.Serializer):
            out.update(number_errors(field, raw, f"{path}."))
        elif isinstance(field, serializers.ListSerializer) and isinstance(raw, list):
            if isinstance(field.child, serializers.Serializer):
                for index, item in enumerate(raw):
                    out.update(number_errors(field.child, item, f"{path}[{index}]."))
        elif isinstance(field, serializers.ListField) and isinstance(raw, list):
            for index, item in enumerate(raw):
                _check(field.child, item, f"{path}[{index}]", out)
        elif isinstance(field, serializers.DictField) and isinstance(raw, Mapping):
            for key, item in raw.items():
                _check(field.child, item, f"{path}.{key}", out)
        else:
            _check(field, raw, path, out)
    return out


def _check(field: serializers.Field, raw: Any, path: str, out: dict) -> None:
    message = _number_error(field, raw)
    if message:
        out[path] = [message]


def _number_error(field: serializers.Field, raw: Any) -> str | None:
    if isinstance(field, serializers.IntegerField):
        if isinstance(raw, str):
            if not ASCII_INTEGER.fullmatch(raw):
                return NOT_ASCII if not raw.isascii() else None  # DRF says what else is wrong
            raw = int(raw.strip().split(".")[0])
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, int) and not isinstance(raw, bool) and not INT_MIN <= raw <= INT_MAX:
            return OUT_OF_RANGE
    elif (
        isinstance(field, serializers.FloatField | serializers.DecimalField)
        and isinstance(raw, str)
        and not raw.isascii()
    ):
        return NOT_ASCII  # float('١٫٥') parses too
    return None
