"""Dates («Дата»): ``dd.mm.yyyy``, ``dd.mm.yy``, ISO and Excel serial numbers are read."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .base import FieldType, invalid

DATE_OPERATORS = (
    "eq",
    "ne",
    "gt",
    "lt",
    "gte",
    "lte",
    "between",
    "empty",
    "not_empty",
    "today",
    "this_week",
    "this_month",
)
EXCEL_EPOCH = dt.date(1899, 12, 30)
_RU = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{2}|\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_SERIAL = re.compile(r"^\d{1,6}(\.0+)?$")


def parse_date(text: str) -> dt.date:
    """Read a date as people in Russia write it, or as ISO, or as an Excel serial number."""
    raw = text
    text = text.strip().split(" ")[0].split("T")[0] if text.strip() else ""
    try:
        if m := _RU.match(text):
            day, month, year = (int(g) for g in m.groups())
            if year < 100:
                year += 2000 if year < 70 else 1900
            return dt.date(year, month, day)
        if m := _ISO.match(text):
            year, month, day = (int(g) for g in m.groups())
            return dt.date(year, month, day)
        if _SERIAL.match(text):
            serial = int(float(text))
            if 1 <= serial < 200_000:
                return EXCEL_EPOCH + dt.timedelta(days=serial)
    except ValueError:
        pass
    raise invalid(
        _("«%(value)s» — не дата; ожидается дд.мм.гггг."), code="not_a_date", value=raw.strip()
    )


def period_bounds(op: str) -> tuple[dt.date, dt.date]:
    """The first and last day of today / this week / this month in the current time zone."""
    today = timezone.localdate()
    if op == "today":
        return today, today
    if op == "this_week":
        start = today - dt.timedelta(days=today.weekday())
        return start, start + dt.timedelta(days=6)
    start = today.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return start, end


class DateType(FieldType):
    key = "date"
    label = _("Дата")
    operators = DATE_OPERATORS

    def model_field(self, field: Any) -> Any:
        from django.db import models

        return models.DateField(null=True, blank=True)

    def parse(self, field: Any, text: str) -> Any:
        return parse_date(text) if text.strip() else None

    def clean_value(self, field: Any, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return parse_date(str(value))
        raise invalid(_("«%(value)s» — не дата."), code="not_a_date", value=value)

    def display(self, field: Any, value: Any) -> str:
        return "" if value is None else value.strftime("%d.%m.%Y")

    def to_json(self, field: Any, value: Any) -> Any:
        return None if value is None else value.isoformat()

    def form_field(self, field: Any, **kwargs: Any) -> forms.Field:
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
        return forms.DateField(
            input_formats=["%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y"], **self._form_kwargs(field, kwargs)
        )

    def serializer_field(self, field: Any, **kwargs: Any) -> serializers.Field:
        return serializers.DateField(allow_null=True, required=False, **kwargs)

    def filter_q(self, field: Any, op: str, value: Any = None, *, user: Any = None) -> Q:
        if op in ("today", "this_week", "this_month"):
            start, end = period_bounds(op)
            return Q(**{f"{field.key}__gte": start, f"{field.key}__lte": end})
        return super().filter_q(field, op, value, user=user)
