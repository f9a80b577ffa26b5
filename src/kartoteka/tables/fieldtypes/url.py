"""Web address; ``example.ru`` is read as ``https://example.ru``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .base import FieldType, invalid

_validate = URLValidator(schemes=["http", "https"])


class UrlType(FieldType):
    key = "url"
    label = _("Ссылка (URL)")
    operators = ("eq", "ne", "contains", "empty", "not_empty")
    searchable = True

    def model_field(self, field: Any) -> models.Field:
        return models.CharField(max_length=2000, null=True, blank=True)

    def parse(self, field: Any, text: str) -> Any:
        text = text.strip()
        if not text:
            return None
        if "://" not in text:
            text = "https://" + text
        try:
            _validate(text)
        except ValidationError:
            raise invalid(
                _("«%(value)s» — не адрес сайта."), code="not_a_url", value=text
            ) from None
        return text

    def html(self, value: str) -> str:
        return format_html(
            '<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>', value, value
        )

    def serializer_field(self, field: Any, **kwargs: Any) -> serializers.Field:
        return serializers.CharField(allow_null=True, allow_blank=True, required=False, **kwargs)
