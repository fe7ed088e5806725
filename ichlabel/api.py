"""One error shape for the whole API: ``{"message": ..., "extra": {...}}``."""

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ichlabel import errors
from ichlabel.input_checks import number_errors, unknown_fields

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
    A body or query string that names a field the serializer does not know, at any depth, is
    refused whole: a misspelt key must not pass for "not sent" (a label left at its default).
    Numbers must be ASCII digits, integers within the database's 64-bit range."""
    serializer = serializer_class(data=data)
    unknown = unknown_fields(serializer, data)
    if unknown:
        raise exceptions.ValidationError(dict.fromkeys(unknown, ["Unknown field."]))
    numbers = number_errors(serializer, data)
    if numbers:
        raise exceptions.ValidationError(numbers)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def exception_handler(exc, context):
    request = context.get("request")
    if request is not None:
        # An error is JSON whatever the request asked for (``?format=csv``, ``Accept:``): one
        # shape for every client, as the schema documents it (ichlabel/schema.py).
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
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
