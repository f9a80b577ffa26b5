"""Multi-line text («Длинный текст»)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .base import FieldType, ParsedFormField, invalid

MAX_LENGTH = 100_000


class LongTextType(FieldType):
    key = "long_text"
    label = _("Длинный текст")
    operators = ("contains", "startswith", "empty", "not_empty")
    sortable = False
    searchable = True

    def model_field(self, field: Any) -> models.Field:
        return models.TextField(null=True, blank=True)

    def parse(self, field: Any, text: str) -> Any:
        text = text.replace("\r\n", "\n").strip()
        if len(text) > MAX_LENGTH:
            raise invalid(
                _("Слишком длинный текст: %(n)s символов, допустимо не больше %(limit)s."),
                code="too_long",
                n=len(text),
                limit=MAX_LENGTH,
            )
        return text or None

    def form_field(self, field: Any, **kwargs: Any) -> forms.Field:
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
        kwargs.setdefault("strip", False)
        return ParsedFormField(self, field, **self._form_kwargs(field, kwargs))

    def serializer_field(self, field: Any, **kwargs: Any) -> serializers.Field:
        return serializers.CharField(allow_null=True, allow_blank=True, required=False, **kwargs)
