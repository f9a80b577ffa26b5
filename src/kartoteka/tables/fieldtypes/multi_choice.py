"""Multi-choice («Множественный выбор»): several options; stored as ``,key1,key2,`` text.

The delimited text keeps "has option X" a plain ``LIKE '%,x,%'`` that SQLite and PostgreSQL both
index-scan the same way, without JSON operators that differ between the two.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .base import FieldType, invalid
from .choice import choices_of, match_choice

#: What separates options written as text: «опт, розница», «опт; розница», one per line.
SEPARATORS = re.compile(r"[,;\n]")


class MultiChoiceType(FieldType):
    key = "multi_choice"
    label = _("Множественный выбор")
    operators = ("contains", "empty", "not_empty")
    sortable = False

    def model_field(self, field: Any) -> models.Field:
        return models.TextField(null=True, blank=True)

    def is_empty(self, value: Any) -> bool:
        return value is None or value == "" or value == [] or value == ",,"

    def _keys(self, field: Any, items: list[Any]) -> Any:
        keys = []
        for item in items:
            if str(item).strip():
                key = match_choice(field, item)
                if key not in keys:
                    keys.append(key)
        order = {o.key: i for i, o in enumerate(choices_of(field))}
        keys.sort(key=lambda k: order.get(k, 0))
        return "," + ",".join(keys) + "," if keys else None

    def parse(self, field: Any, text: str) -> Any:
        text = text.strip()
        if text.startswith(",") and text.endswith(","):
            text = text.strip(",")
        return self._keys(field, SEPARATORS.split(text))

    def clean_value(self, field: Any, value: Any) -> Any:
        if isinstance(value, list | tuple | set):
            return self._keys(field, list(value))
        raise invalid(_("Ожидается список вариантов."), code="not_a_list")

    def as_list(self, value: Any) -> list[str]:
        return [k for k in (value or "").split(",") if k]

    def display(self, field: Any, value: Any) -> str:
        labels = {o.key: o.label for o in choices_of(field)}
        return ", ".join(labels.get(k, k) for k in self.as_list(value))

    def to_json(self, field: Any, value: Any) -> Any:
        return self.as_list(value)

    def form_field(self, field: Any, **kwargs: Any) -> forms.Field:
        return _MultiChoiceFormField(
            choices=[(o.key, o.label) for o in choices_of(field)],
            widget=forms.CheckboxSelectMultiple,
            **self._form_kwargs(field, kwargs),
        )

    def serializer_field(self, field: Any, **kwargs: Any) -> serializers.Field:
        return serializers.ListField(
            child=serializers.ChoiceField(choices=[o.key for o in choices_of(field)]),
            allow_null=True,
            required=False,
            **kwargs,
        )

    def filter_q(self, field: Any, op: str, value: Any = None, *, user: Any = None) -> Q:
        if op == "contains":
            return Q(**{f"{field.key}__contains": f",{match_choice(field, value)},"})
        return super().filter_q(field, op, value, user=user)


class _MultiChoiceFormField(forms.MultipleChoiceField):
    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return [k for k in value.split(",") if k]
        return value
