"""Yes/no («Да/нет»). Empty is "no": a checkbox has two states, not three."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .base import FieldType, invalid

TRUE_WORDS = {"1", "да", "д", "yes", "y", "true", "t", "+", "x", "✓", "on", "истина"}
FALSE_WORDS = {"0", "нет", "н", "no", "n", "false", "f", "-", "off", "ложь"}


class BooleanType(FieldType):
    key = "boolean"
    label = _("Да/нет")
    operators = ("eq",)

    def model_field(self, field: Any) -> models.Field:
        return models.BooleanField(null=True, blank=True)

    def is_empty(self, value: Any) -> bool:
        return False

    def clean(self, field: Any, value: Any) -> Any:
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return bool(value)
        return self.parse(field, str(value))

    def parse(self, field: Any, text: str) -> Any:
        word = text.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS or not word:
            return False
        raise invalid(
            _("«%(value)s» — ожидается «да» или «нет»."), code="not_a_boolean", value=text
        )

    def display(self, field: Any, value: Any) -> str:
        return str(_("Да")) if value else str(_("Нет"))

    def form_field(self, field: Any, **kwargs: Any) -> forms.Field:
        kwargs = self._form_kwargs(field, kwargs)
        kwargs["required"] = False
        return forms.BooleanField(**kwargs)

    def serializer_field(self, field: Any, **kwargs: Any) -> serializers.Field:
        return serializers.BooleanField(required=False, **kwargs)

    def filter_q(self, field: Any, op: str, value: Any = None, *, user: Any = None) -> Q:
        if op == "eq" and not self.clean(field, value):
            return Q(**{field.key: False}) | Q(**{f"{field.key}__isnull": True})
        return super().filter_q(field, op, value, user=user)
