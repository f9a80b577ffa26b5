"""Decimal numbers («Число»); ``options.decimal_places`` (default 2). Never floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .base import FieldType, invalid
from .integer import COMPARISONS
from .numbers import format_decimal, parse_decimal

MAX_DIGITS = 20


class DecimalType(FieldType):
    key = "decimal"
    label = _("Число")
    operators = COMPARISONS
    summable = True

    def places(self, field: Any) -> int:
        return int(field.options.get("decimal_places", 2))

    def model_field(self, field: Any) -> models.Field:
        return models.DecimalField(
            max_digits=MAX_DIGITS, decimal_places=self.places(field), null=True, blank=True
        )

    def parse(self, field: Any, text: str) -> Any:
        if not text.strip():
            return None
        return self.clean_value(field, parse_decimal(text))

    def clean_value(self, field: Any, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise invalid(_("«%(value)s» — не число."), code="not_a_number", value=value)
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():
            raise invalid(_("«%(value)s» — не число."), code="not_a_number", value=value)
        places = self.places(field)
        try:
            number = number.quantize(Decimal(1).scaleb(-places))
        except InvalidOperation:  # more digits than the decimal context holds
            raise invalid(
                _("Число %(value)s слишком велико."), code="out_of_range", value=value
            ) from None
        if len(number.as_tuple().digits) > MAX_DIGITS:
            raise invalid(_("Число %(value)s слишком велико."), code="out_of_range", value=value)
        return number

    def display(self, field: Any, value: Any) -> str:
        return "" if value is None else format_decimal(Decimal(value), self.places(field))

    def to_json(self, field: Any, value: Any) -> Any:
        return None if value is None else f"{Decimal(value):f}"

    def form_field(self, field: Any, **kwargs: Any) -> Any:
        from django import forms

        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        return super().form_field(field, **kwargs)

    def serializer_field(self, field: Any, **kwargs: Any) -> serializers.Field:
        return serializers.DecimalField(
            max_digits=MAX_DIGITS,
            decimal_places=self.places(field),
            allow_null=True,
            required=False,
            coerce_to_string=True,
            **kwargs,
        )
