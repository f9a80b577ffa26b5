"""How incoming values merge into an existing record: the one policy of the import, the API
upsert (:mod:`kartoteka.records.upsert`) and web forms.

- ``keep_filled`` («приоритет заполненных перед пустыми», filled wins over empty): an empty
  incoming value never blanks a filled one — it is ignored; a filled value is written;
- ``overwrite``: every incoming value is written, empty ones too.

Values that equal the stored ones are no change. The function is pure: it takes current and
incoming values (already cleaned by the field types) and returns the changes to hand to
:func:`kartoteka.records.services.update_records`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kartoteka.tables.models import Field

KEEP_FILLED = "keep_filled"
OVERWRITE = "overwrite"
POLICIES = (KEEP_FILLED, OVERWRITE)


def is_blank(field: Field, value: Any) -> bool:
    """Empty for merging: what the field type calls empty; ``False`` for a boolean too."""
    if field.type == "boolean":
        return not value
    return bool(field.field_type.is_empty(value))


def same_value(field: Field, old: Any, new: Any) -> bool:
    if field.type == "boolean":
        return bool(old) == bool(new)
    return bool(old == new)


def merge_changes(
    fields: Mapping[str, Field],
    current: Mapping[str, Any],
    incoming: Mapping[str, Any],
    policy: str = KEEP_FILLED,
) -> dict[str, Any]:
    """The values of ``incoming`` to write over ``current`` under ``policy``.

    Args:
        fields: the table's fields by key (every key of ``incoming`` must be there).
        current: the record's stored values by field key.
        incoming: cleaned incoming values by field key.
        policy: ``keep_filled`` or ``overwrite``.

    Returns:
        ``{field key: value}`` — only values that change something.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown merge policy {policy!r}")
    changes: dict[str, Any] = {}
    for key, value in incoming.items():
        field = fields[key]
        if policy == KEEP_FILLED and field.field_type.is_empty(value):
            continue
        if not same_value(field, current.get(key), value):
            changes[key] = value
    return changes


def fill_empty(
    fields: Mapping[str, Field], current: Mapping[str, Any], incoming: Mapping[str, Any]
) -> dict[str, Any]:
    """The values of ``incoming`` for fields that are empty in ``current`` — for values that
    only complete a record and never replace what is there (a web form's hidden defaults)."""
    return {
        key: value
        for key, value in incoming.items()
        if is_blank(fields[key], current.get(key)) and not is_blank(fields[key], value)
    }
