"""One error shape for the whole API: ``{"message": ..., "extra": {...}}``."""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, QueryDict
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ichlabel import errors

# Each kind of domain error as the API answers it.
DOMAIN_ERROR_STATUS = {
    errors.InvalidInput: 400,
    errors.NotAllowed: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
}


def domain_error_status(exc: errors.DomainError) -> int:
    for kind, status in DOMAIN_ERROR_STATUS.items():
        if isinstance(exc, kind):
            return status
    return 400


def validated(serializer_class, data) -> dict:
    """The data an API's input serializer accepts; invalid input raises (a 400 with fields).
    A JSON body that names a field the serializer does not know, at any depth, is refused
    whole: a misspelt key must not pass for "not sent" (a label left at its default)."""
    serializer = serializer_class(data=data)
    if not isinstance(data, QueryDict):  # query strings and forms carry paging and files too
        unknown = unknown_fields(serializer, data)
        if unknown:
            raise exceptions.ValidationError(dict.fromkeys(unknown, ["Unknown field."]))
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def unknown_fields(serializer: serializers.Serializer, data: Any, prefix: str = "") -> list[str]:
    """The keys of ``data`` that ``serializer`` has no field for, nested ones by their path."""
    if not isinstance(data, Mapping):
        return []  # not an object: the serializer itself says what is wrong
    fields = serializer.fields
    out = [f"{prefix}{key}" for key in data if key not in fields]
    for name, field in fields.items():
        value = data.get(name)
        if isinstance(field, serializers.Serializer):
            out += unknown_fields(field, value, f"{prefix}{name}.")
        elif isinstance(field, serializers.ListSerializer) and isinstance(value, list):
            items = value if isinstance(field.child, serializers.Serializer) else []
            for index, item in enumerate(items):
                out += unknown_fields(field.child, item, f"{prefix}{name}[{index}].")
    return out


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404 | ObjectDoesNotExist):
        # Selectors and services scope every lookup to what the user may see: what is not
        # theirs does not exist for them.
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, errors.DomainError):
        return Response(
            {"message": exc.message, "extra": exc.extra}, status=domain_error_status(exc)
        )

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"message": "Validation error", "extra": {"fields": response.data}}
    else:
        response.data = {"message": str(getattr(exc, "detail", exc)), "extra": {}}
    return response
