"""User («Пользователь»): an employee's account; "current user" is a default and a filter."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .base import FieldType, invalid
from .choice import fold
from .link import MAX_ID


def user_display(user: Any) -> str:
    if user is None:
        return ""
    return f"{user.last_name} {user.first_name}".strip() or user.username


class UserType(FieldType):
    key = "user"
    label = _("Пользователь")
    operators = ("eq", "ne", "in", "empty", "not_empty", "current_user")
    is_relation = True

    def default_db_column(self, key: str) -> str:
        return f"{key}_id"

    def model_field(self, field: Any) -> models.Field:
        return models.ForeignKey(
            "auth.User",
            on_delete=models.DO_NOTHING,
            db_constraint=False,
            null=True,
            blank=True,
            related_name="+",
        )

    def clean_value(self, field: Any, value: Any) -> Any:
        if isinstance(value, models.Model):
            return value.pk
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID:
            return value
        raise invalid(_("«%(value)s» — не пользователь."), code="not_a_user", value=value)

    def parse(self, field: Any, text: str) -> Any:
        text = text.strip()
        if not text:
            return None
        if text.isdigit():
            return self.clean_value(field, int(text))
        users = get_user_model().objects.filter(is_active=True)
        found = users.filter(Q(username__iexact=text) | Q(email__iexact=text)).first()
        if found is None:
            wanted = fold(text)
            for user in users:
                full = fold(user.get_full_name())
                reverse = fold(f"{user.last_name} {user.first_name}")
                if wanted in (full, reverse):
                    found = user
                    break
        if found is None:
            raise invalid(
                _("Пользователь «%(value)s» не найден."), code="user_not_found", value=text
            )
        return found.pk

    def display(self, field: Any, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, models.Model):
            return user_display(value)
        return user_display(get_user_model().objects.filter(pk=value).first()) or f"#{value}"

    def form_field(self, field: Any, **kwargs: Any) -> forms.Field:
        users = get_user_model().objects.filter(is_active=True).order_by("last_name", "username")
        options = [("", "—")] + [(u.pk, user_display(u)) for u in users]
        return forms.TypedChoiceField(
            choices=options, coerce=int, empty_value=None, **self._form_kwargs(field, kwargs)
        )

    def serializer_field(self, field: Any, **kwargs: Any) -> serializers.Field:
        return serializers.IntegerField(allow_null=True, required=False, **kwargs)

    def filter_q(self, field: Any, op: str, value: Any = None, *, user: Any = None) -> Q:
        name = f"{field.key}_id"
        if op == "current_user":
            return Q(**{name: getattr(user, "pk", None)})
        if op in ("eq", "ne", "in"):
            if op == "in":
                return Q(**{f"{name}__in": [self.clean(field, v) for v in value]})
            q = Q(**{name: self.clean(field, value)})
            return q if op == "eq" else ~q | Q(**{f"{name}__isnull": True})
        return super().filter_q(field, op, value, user=user)
