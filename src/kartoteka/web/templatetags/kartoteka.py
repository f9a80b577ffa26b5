"""Small template filters of the UI."""

from __future__ import annotations

from typing import Any

from django import template

from kartoteka.tables.fieldtypes.choice import choices_of

register = template.Library()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``{{ mapping|get_item:key }}`` — a dict lookup by a variable key."""
    if not mapping:
        return None
    return mapping.get(key)


@register.filter
def field_choices(field: Any) -> list[Any]:
    """The options of a choice field, in order (from the model cache: no query)."""
    return choices_of(field)
