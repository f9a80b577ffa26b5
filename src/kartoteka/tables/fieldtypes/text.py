"""Single-line text («Текст»); ``options.max_length`` (default 255)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .base import FieldType, invalid

DEFAULT_MAX_LENGTH = 255


class TextType(FieldType):
    key = "text"
    label = _("Текст")
    operators = ("eq", "ne", "contains", "startswith", "empty", "not_empty", "in")
    searchable = True

    def max_length(self, field: Any) -> int:
        return int(field.options.get("max_length") or DEFAULT_MAX_LENGTH)

    def model_field(self, field: Any) -> models.Field:
        return models.CharField(max_length=self.max_length(field), null=True, blank=True)

    def parse(self, field: Any, text: str) -> Any:
        text = " ".join(text.split()) if "\n" not in text else text.strip()
        if not text:
            return None
        limit = self.max_length(field)
        if len(text) > limit:
            raise invalid(
                _("Слишком длинный текст: %(n)s символов, допустимо не больше %(limit)s."),
                code="too_long",
                n=len(text),
                limit=limit,
            )
        validator = field.options.get("validator")
        if validator:
            from kartoteka.core.validators import check

            text = text.replace(" ", "") if validator in ("inn", "kpp", "ogrn") else text
            message = check(validator, text)
            if message:
                raise invalid(message, code=f"bad_{validator}")
        return text

    def serializer_field(self, field: Any, **kwargs: Any) -> serializers.Field:
        return serializers.CharField(
            allow_null=True,
            allow_blank=True,
            required=False,
            max_length=self.max_length(field),
            **kwargs,
        )
