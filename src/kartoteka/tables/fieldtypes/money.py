"""Money («Деньги»): a decimal with two places shown as ``1 234,56 ₽``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from .decimal import DecimalType
from .numbers import format_decimal


class MoneyType(DecimalType):
    key = "money"
    label = _("Деньги")

    def places(self, field: Any) -> int:
        return 2

    def display(self, field: Any, value: Any) -> str:
        if value is None:
            return ""
        currency = field.options.get("currency", "₽")
        return f"{format_decimal(Decimal(value), 2)}\u00a0{currency}"
