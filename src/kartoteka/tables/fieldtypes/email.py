"""E-mail address; stored lower-cased in the domain part as written in the local part."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .base import FieldType, invalid


class EmailType(FieldType):
    key = "email"
    label = _("E-mail")
    operators = ("eq", "ne", "contains", "empty", "not_empty")
    searchable = True

    def model_field(self, field: Any) -> models.Field:
        return models.CharField(max_length=254, null=True, blank=True)

    def parse(self, field: Any, text: str) -> Any:
        text = text.strip().strip("<>").replace("mailto:", "")
        if not text:
            return None
        local, _at, domain = text.rpartition("@")
        address = f"{local}@{domain.lower()}" if local else text
        try:
            validate_email(address)
        except ValidationError:
            raise invalid(
                _("«%(value)s» — не адрес электронной почты."), code="not_an_email", value=text
            ) from None
        return address

    def serializer_field(self, field: Any, **kwargs: Any) -> serializers.Field:
        return serializers.CharField(allow_null=True, allow_blank=True, required=False, **kwargs)
