"""Whole numbers («Целое число»)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .base import FieldType, invalid
from .numbers import format_decimal, parse_decimal

LIMIT = 2**63 - 1

COMPARISONS = ("eq", "ne", "gt", "lt", "gte", "lte", "between", "empty", "not_empty", "in")


class IntegerType(FieldType):
    key = "integer"
    label = _("Целое число")
    operators = COMPARISONS
    summable = True

    def model_field(self, field: Any) -> models.Field:
        return models.BigIntegerField(null=True, blank=True)

    def parse(self, field: Any, text: str) -> Any:
        if not text.strip():
            return None
        return self.clean_value(field, parse_decimal(text))

    def clean_value(self, field: Any, value: Any) -> Any:
        if isinstance(value, bool):
            raise invalid(_("«%(value)s» — не целое число."), code="not_an_integer", value=value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, Decimal) and value == value.to_integral_value():
            value = int(value)
        if not isinstance(value, int):
            raise invalid(_("«%(value)s» — не целое число."), code="not_an_integer", value=value)
        if abs(value) > LIMIT:
            raise invalid(_("Число %(value)s слишком велико."), code="out_of_range", value=value)
        return value

    def display(self, field: Any, value: Any) -> str:
        return "" if value is None else format_decimal(Decimal(value), 0)

    def serializer_field(self, field: Any, **kwargs: Any) -> serializers.Field:
        return serializers.IntegerField(allow_null=True, required=False, **kwargs)
