"""Date and time («Дата и время»), stored in UTC, shown in the user's time zone."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .base import FieldType, invalid
from .date import DATE_OPERATORS, parse_date, period_bounds

_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


class DateTimeType(FieldType):
    key = "datetime"
    label = _("Дата и время")
    operators = DATE_OPERATORS

    def model_field(self, field: Any) -> models.Field:
        return models.DateTimeField(null=True, blank=True)

    def parse(self, field: Any, text: str) -> Any:
        text = text.strip()
        if not text:
            return None
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            parsed = None
        if parsed is None:
            date_part, _sep, time_part = text.replace("T", " ").partition(" ")
            day = parse_date(date_part)
            hour = minute = second = 0
            if time_part.strip():
                m = _TIME.match(time_part.strip())
                if not m:
                    raise invalid(
                        _("«%(value)s» — не дата и время; ожидается дд.мм.гггг чч:мм."),
                        code="not_a_datetime",
                        value=text,
                    )
                hour, minute = int(m.group(1)), int(m.group(2))
                second = int(m.group(3) or 0)
            try:
                parsed = dt.datetime(day.year, day.month, day.day, hour, minute, second)
            except ValueError:
                raise invalid(
                    _("«%(value)s» — не дата и время."), code="not_a_datetime", value=text
                ) from None
        return self.clean_value(field, parsed)

    def clean_value(self, field: Any, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            if timezone.is_naive(value):
                value = timezone.make_aware(value)
            return value
        if isinstance(value, dt.date):
            return timezone.make_aware(dt.datetime(value.year, value.month, value.day))
        raise invalid(_("«%(value)s» — не дата и время."), code="not_a_datetime", value=value)

    def display(self, field: Any, value: Any) -> str:
        return "" if value is None else timezone.localtime(value).strftime("%d.%m.%Y %H:%M")

    def to_json(self, field: Any, value: Any) -> Any:
        return None if value is None else timezone.localtime(value).isoformat()

    def form_field(self, field: Any, **kwargs: Any) -> forms.Field:
        kwargs.setdefault(
            "widget",
            forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        )
        return forms.DateTimeField(
            input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M", "%d.%m.%Y"],
            **self._form_kwargs(field, kwargs),
        )

    def serializer_field(self, field: Any, **kwargs: Any) -> serializers.Field:
        return serializers.DateTimeField(allow_null=True, required=False, **kwargs)

    def filter_q(self, field: Any, op: str, value: Any = None, *, user: Any = None) -> Q:
        if op in ("today", "this_week", "this_month"):
            start, end = period_bounds(op)
            low = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
            high = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))
            return Q(**{f"{field.key}__gte": low, f"{field.key}__lt": high})
        if op in ("eq", "ne") and value is not None:
            day = parse_date(str(value)) if isinstance(value, str) else value
            if isinstance(day, dt.date) and not isinstance(day, dt.datetime):
                low = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
                q = Q(**{f"{field.key}__gte": low, f"{field.key}__lt": low + dt.timedelta(days=1)})
                return q if op == "eq" else ~q | Q(**{f"{field.key}__isnull": True})
        return super().filter_q(field, op, value, user=user)
