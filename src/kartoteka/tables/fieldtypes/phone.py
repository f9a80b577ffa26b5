"""Phone numbers: read in any written form, stored as E.164 (``+79123456789``).

Storing one canonical form is what lets search find ``8 (912) 345-67-89`` when the user types
``+7 912 3456789``: the query is normalised the same way (see :func:`normalize_phone`).
Russian habits are understood: a leading ``8`` means ``+7``, ten digits mean a Russian number.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import phonenumbers
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .base import FieldType, invalid

DEFAULT_REGION = "RU"
_PLAIN = re.compile(r"^\+?[\d\s()\-]+$")
_EXTENSION = re.compile(r"(доб\.?|ext\.?|x)\s*\d+$", re.IGNORECASE)


def normalize_phone(text: str, region: str = DEFAULT_REGION) -> str | None:
    """E.164 form of a phone written any usual way, or ``None`` when it is not a valid number."""
    text = _EXTENSION.sub("", text.strip())
    digits = re.sub(r"\D", "", text)
    if not digits:
        return None
    # The usual Russian forms (+7 912 …, 8 (912) …, 7912…): a Russian number has ten national
    # digits, which is all phonenumbers checks for it; an import of a million phones should not
    # parse each with the general machinery.
    russian = text.startswith("+7") or (digits[0] in "78" and not text.startswith("+"))
    if region == "RU" and len(digits) == 11 and russian and _PLAIN.match(text):
        return "+7" + digits[1:]
    if not text.lstrip().startswith("+"):
        if len(digits) == 11 and digits[0] == "8" and region == "RU":
            text = "+7" + digits[1:]
        elif len(digits) == 11 and digits[0] == "7":
            text = "+" + digits
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=65536)
def format_phone(value: str) -> str:
    """``+79123456789`` → ``+7 912 345-67-89``; cached, as grids show thousands of phones."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return str(value)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


class PhoneType(FieldType):
    key = "phone"
    label = _("Телефон")
    operators = ("eq", "ne", "contains", "empty", "not_empty")
    searchable = True

    def model_field(self, field: Any) -> models.Field:
        return models.CharField(max_length=32, null=True, blank=True)

    def parse(self, field: Any, text: str) -> Any:
        if not text.strip():
            return None
        normalized = normalize_phone(text, field.options.get("region", DEFAULT_REGION))
        if normalized is None:
            raise invalid(_("«%(value)s» — не номер телефона."), code="not_a_phone", value=text)
        return normalized

    def display(self, field: Any, value: Any) -> str:
        return format_phone(value) if value else ""

    def edit_text(self, field: Any, text: str) -> str:
        stored = text.startswith("+") and text[1:].isdigit()
        return format_phone(text) if stored else text

    def form_field(self, field: Any, **kwargs: Any) -> Any:
        from django import forms

        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"type": "tel", "autocomplete": "tel", "placeholder": "+7 (912) 345-67-89"}
            ),
        )
        return super().form_field(field, **kwargs)

    def serializer_field(self, field: Any, **kwargs: Any) -> serializers.Field:
        return serializers.CharField(allow_null=True, allow_blank=True, required=False, **kwargs)

    def filter_q(self, field: Any, op: str, value: Any = None, *, user: Any = None) -> Q:
        if op == "contains":
            digits = re.sub(r"\D", "", str(value))
            if len(digits) == 11 and digits[0] == "8":
                digits = "7" + digits[1:]
            return Q(**{f"{field.key}__contains": digits})
        return super().filter_q(field, op, value, user=user)
