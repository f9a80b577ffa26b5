"""How incoming values merge into an existing record: the one policy of web forms (and, later,
of the import and the API upsert).

Two policies, both with the same first rule — **an empty incoming value never blanks a filled
one** (a website visitor who leaves «ИНН» empty does not erase the client's INN):

- ``keep_filled`` — filled wins over empty: an incoming value only fills a field that is empty
  now; a field that already holds something keeps it;
- ``overwrite`` — a filled incoming value replaces the stored one.

The function is pure: it takes current and incoming values (already cleaned by the field types)
and returns the changes to hand to :func:`kartoteka.records.services.update_records`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kartoteka.tables.models import Field

KEEP_FILLED = "keep_filled"
OVERWRITE = "overwrite"
POLICIES = (KEEP_FILLED, OVERWRITE)


def is_blank(field: Field, value: Any) -> bool:
    """Empty for merging: ``None``, blank text, an empty list; ``False`` for a boolean."""
    if field.type == "boolean":
        return not value
    if isinstance(value, list | tuple | set | dict):
        return not value
    return bool(field.field_type.is_empty(value))


def merge_changes(
    fields: Mapping[str, Field],
    current: Mapping[str, Any],
    incoming: Mapping[str, Any],
    policy: str = KEEP_FILLED,
) -> dict[str, Any]:
    """The values of ``incoming`` that should be written over ``current`` under ``policy``.

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
        if is_blank(field, value):
            continue
        old = current.get(key)
        if policy == KEEP_FILLED and not is_blank(field, old):
            continue
        if old != value:
            changes[key] = value
    return changes
