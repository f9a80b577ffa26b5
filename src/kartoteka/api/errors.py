"""Every API error in one shape: ``{"code", "message", "fields"}``, mapped in one place.

==========================================  =====  ===========================================
error                                       HTTP   ``code``
==========================================  =====  ===========================================
bad input (values, filters, parameters)     400    ``validation`` or the error's own code
missing or wrong credentials                401    ``not_authenticated``, ``authentication_failed``
not allowed                                 403    ``permission_denied``
no such table, record or action             404    ``not_found``
a unique value that is already taken        409    ``not_unique``
a business rule refused it                  422    ``rule_violation`` (+ ``rule``: its key)
==========================================  =====  ===========================================

``fields`` maps field keys to lists of messages (``{}`` when the error is not about fields).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response

from kartoteka.core.exceptions import (
    KartotekaError,
    NotFound,
    PermissionDenied,
    RecordValidationError,
    RuleViolation,
)

#: Field error codes that mean "conflicts with what is stored" rather than "bad input".
CONFLICT_CODES = frozenset({"not_unique", "integrity"})


class ApiError(KartotekaError):
    """A refusal of the API layer itself (bad parameters), with its HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "bad_request",
        status_code: int = status.HTTP_400_BAD_REQUEST,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.status_code = status_code
        self.fields = fields or {}


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}}


def _fields_of(errors: list[Any]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for error in errors:
        fields.setdefault(error.field or "non_field_errors", []).append(error.message)
    return fields


def domain_error_response(exc: KartotekaError) -> Response:
    """The response for a domain error of the project's ``KartotekaError`` family."""
    if isinstance(exc, ApiError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    if isinstance(exc, RecordValidationError):
        fields = _fields_of(exc.errors)
        conflict = next((e for e in exc.errors if e.code in CONFLICT_CODES), None)
        if conflict is not None:
            return Response(
                error_body(conflict.code, conflict.message, fields), status=status.HTTP_409_CONFLICT
            )
        message = exc.errors[0].message if len(exc.errors) == 1 else _("Значения не приняты.")
        return Response(error_body("validation", message, fields), status=400)
    if isinstance(exc, RuleViolation):
        body = error_body(exc.code, exc.message, {exc.field: [exc.message]} if exc.field else {})
        body["rule"] = exc.rule
        return Response(body, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    if isinstance(exc, PermissionDenied):
        return Response(error_body(exc.code, exc.message), status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, NotFound):
        return Response(error_body(exc.code, exc.message), status=status.HTTP_404_NOT_FOUND)
    return Response(error_body(exc.code, exc.message), status=status.HTTP_400_BAD_REQUEST)


def _detail_fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_detail_fields(value, name))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        out = {}
        for index, item in enumerate(detail):
            out.update(_detail_fields(item, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def exception_handler(exc: Exception, context: dict[str, Any] | None = None) -> Response | None:
    """DRF's ``EXCEPTION_HANDLER``: domain errors and DRF's own, all as ``{code, message, fields}``.

    Anything else (a bug) is left to Django: a 500 with the error logged.
    """
    if isinstance(exc, KartotekaError):
        return domain_error_response(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Не найдено."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
    if isinstance(exc, exceptions.ValidationError):
        fields = _detail_fields(exc.detail)
        messages = [m for values in fields.values() for m in values]
        message = messages[0] if len(messages) == 1 else _("Значения не приняты.")
        return Response(
            error_body("validation", message, fields), status=exc.status_code, headers=headers
        )
    code = exc.default_code
    detail = exc.detail
    if isinstance(detail, exceptions.ErrorDetail):
        code = detail.code or code
    return Response(error_body(str(code), str(detail)), status=exc.status_code, headers=headers)
