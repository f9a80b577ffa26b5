"""Value converters used when a field changes type.

A retype is allowed only for pairs registered here; anything else is refused, never guessed. A
converter gets the old and the new field (metadata) and one stored value, and returns the new
stored value or raises ``ValidationError`` — the service then refuses the whole change and lists
the rows that would not convert.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kartoteka.core.registry import Registry

Converter = Callable[[Any, Any, Any], Any]
converters: Registry[Converter] = Registry("converters")

TEXTUAL = ("text", "long_text", "email", "phone", "url")
NUMERIC = ("integer", "decimal", "money")
PARSEABLE = (
    "text",
    "long_text",
    "integer",
    "decimal",
    "money",
    "date",
    "datetime",
    "boolean",
    "choice",
    "multi_choice",
    "email",
    "phone",
    "url",
    "link",
    "user",
)


def via_display(old: Any, new: Any, value: Any) -> Any:
    """Anything → text: what people saw is what the text keeps."""
    ft_old = old.field_type
    shown = ft_old.display(old, value) if value is not None else ""
    return new.field_type.clean(new, shown)


def via_parse(old: Any, new: Any, value: Any) -> Any:
    return new.field_type.parse(new, str(value)) if value is not None else None


def via_clean(old: Any, new: Any, value: Any) -> Any:
    return new.field_type.clean(new, value)


def choice_to_multi(old: Any, new: Any, value: Any) -> Any:
    return new.field_type.clean(new, [value]) if value else None


def multi_to_choice(old: Any, new: Any, value: Any) -> Any:
    keys = [k for k in (value or "").split(",") if k]
    if len(keys) > 1:
        raise ValidationError(_("Выбрано несколько вариантов — нельзя оставить один."))
    return new.field_type.clean(new, keys[0]) if keys else None


def boolean_to_number(old: Any, new: Any, value: Any) -> Any:
    return new.field_type.clean(new, 1 if value else 0)


def register_converters() -> None:
    def add(pair: tuple[str, str], fn: Converter) -> None:
        key = f"{pair[0]}>{pair[1]}"
        if key not in converters:
            converters.register(key, fn)

    from kartoteka.tables.fieldtypes import field_types

    for source in field_types:
        add((source, "text"), via_display)
        add((source, "long_text"), via_display)
    for source in TEXTUAL:
        for target in PARSEABLE:
            if source != target:
                add((source, target), via_parse)
    for source in NUMERIC:
        for target in NUMERIC:
            if source != target:
                add((source, target), via_clean)
    add(("date", "datetime"), via_clean)
    add(("datetime", "date"), via_clean)
    add(("choice", "multi_choice"), choice_to_multi)
    add(("multi_choice", "choice"), multi_to_choice)
    add(("boolean", "integer"), boolean_to_number)


def converter_for(old_type: str, new_type: str) -> Converter | None:
    return converters.find(f"{old_type}>{new_type}")
