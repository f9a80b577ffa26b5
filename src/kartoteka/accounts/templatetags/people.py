"""``{% load people %}``: a user's name written one way — ``{{ user|full_name }}`` «Фамилия Имя
Отчество», ``{{ user|short_name }}`` «Фамилия И. О.» where space is short."""

from __future__ import annotations

from typing import Any

from django import template

from kartoteka.accounts import services

register = template.Library()


@register.filter
def full_name(user: Any) -> str:
    return services.full_name(user)


@register.filter
def short_name(user: Any) -> str:
    return services.short_name(user)
