"""API conventions shared by every endpoint: pagination and one JSON error shape."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import exception_handler as drf_exception_handler


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


def error_body(status_code: int, code: str, message: str, errors=None) -> dict:
    """Return the JSON body every API error uses."""
    body = {"status": status_code, "code": code, "message": message}
    if errors:
        body["errors"] = errors
    return body


def exception_handler(exc, context):
    """Turn every handled exception into {"status", "code", "message", "errors"?}."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        message = "The request is not valid."
        if isinstance(data, dict) and set(data) == {"non_field_errors"}:
            message = " ".join(str(m) for m in data["non_field_errors"])
        elif isinstance(data, list):
            message = " ".join(str(m) for m in data)
        response.data = error_body(response.status_code, "invalid", message, data if isinstance(data, dict) else None)
    else:
        detail = data.get("detail", "") if isinstance(data, dict) else data
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = error_body(response.status_code, str(code), str(detail))
    return response
