"""One error format for every endpoint:

    {"error": {"code": "invalid", "message": "...", "fields": {"email": ["..."]}}}

Django's ValidationError from a service becomes a 400 with field errors, PermissionDenied a 403,
a missing or other tenant's object a 404; anything unexpected stays a 500 (and is logged).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler


def _django_validation_to_fields(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
    return {"non_field_errors": [str(m) for m in exc.messages]}


def _flatten(detail) -> dict:
    if isinstance(detail, dict):
        return {k: _flatten_list(v) for k, v in detail.items()}
    return {"non_field_errors": _flatten_list(detail)}


def _flatten_list(value):
    if isinstance(value, dict):
        return {k: _flatten_list(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_flatten_list(v) if isinstance(v, (dict, list)) else str(v) for v in value]
    return [str(value)]


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_validation_to_fields(exc))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = {"error": {"code": "invalid", "message": "Some fields are not valid.", "fields": _flatten(exc.detail)}}
        response.status_code = status.HTTP_400_BAD_REQUEST
    else:
        detail = getattr(exc, "detail", "")
        code = exc.get_codes() if hasattr(exc, "get_codes") else "error"
        body = {"error": {"code": code if isinstance(code, str) else "error", "message": str(detail), "fields": {}}}
    response.data = body
    return response
