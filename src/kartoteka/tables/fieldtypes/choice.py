"""Choice («Выбор»): one option of an ordered list; the stored value is the option's stable key.

Options are :class:`~kartoteka.tables.models.Choice` rows. Input matches an option by key or by
label (case-insensitive, «ё» = «е»), so files and forms may use either.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .base import FieldType, invalid


def fold(text: str) -> str:
    """Case- and «ё»-insensitive form of a text, for matching."""
    return " ".join(text.lower().replace("ё", "е").split())


def choices_of(field: Any) -> list[Any]:
    """The field's options in order, cached on the field instance."""
    cached = getattr(field, "_choices_cache", None)
    if cached is None:
        cached = (
            list(field.choices.all()) if field.pk else list(getattr(field, "_spec_choices", []))
        )
        field._choices_cache = cached
    return cached


def match_choice(field: Any, value: Any) -> str:
    text = str(value).strip()
    options = choices_of(field)
    for option in options:
        if option.key == text:
            return option.key
    folded = fold(text)
    for option in options:
        if fold(option.label) == folded or fold(option.key) == folded:
            return option.key
    allowed = ", ".join(f"«{o.label}»" for o in options)
    raise invalid(
        _("«%(value)s» — нет такого варианта в поле «%(field)s». Допустимо: %(allowed)s."),
        code="unknown_choice",
        value=text,
        field=field.label,
        allowed=allowed,
    )


class ChoiceType(FieldType):
    key = "choice"
    label = _("Выбор из списка")
    operators = ("eq", "ne", "in", "empty", "not_empty")

    def model_field(self, field: Any) -> models.Field:
        return models.CharField(max_length=64, null=True, blank=True)

    def parse(self, field: Any, text: str) -> Any:
        return match_choice(field, text) if text.strip() else None

    def display(self, field: Any, value: Any) -> str:
        if value is None:
            return ""
        for option in choices_of(field):
            if option.key == value:
                return option.label
        return str(value)

    def position(self, field: Any, value: Any) -> int:
        """The option's place in the order (-1 when unknown); rules compare stages with it."""
        for index, option in enumerate(choices_of(field)):
            if option.key == value:
                return index
        return -1

    def form_field(self, field: Any, **kwargs: Any) -> forms.Field:
        options = [("", "—")] + [
            (o.key, o.label) for o in choices_of(field) if not getattr(o, "system_only", False)
        ]
        return forms.TypedChoiceField(
            choices=options, empty_value=None, **self._form_kwargs(field, kwargs)
        )

    def serializer_field(self, field: Any, **kwargs: Any) -> serializers.Field:
        return serializers.ChoiceField(
            choices=[o.key for o in choices_of(field)], allow_null=True, required=False, **kwargs
        )
