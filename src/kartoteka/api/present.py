"""Records and tables as the API shows them, and record values as the API takes them.

Values are keyed by field key and written by each field type's ``to_json``: a choice is its
option key, a link the record id, a user the user id, a date ``YYYY-MM-DD``, a date-time ISO 8601
with the offset, decimals and money strings (``"1234.50"``), a phone E.164. The system columns
come with every record: ``id``, ``record_state``, ``created_at``, ``updated_at``, ``created_by``,
``updated_by`` — read-only, like fields marked read-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.core.exceptions import FieldError, RecordValidationError
from kartoteka.tables.fieldtypes.choice import choices_of
from kartoteka.tables.modelfactory import SYSTEM_COLUMNS
from kartoteka.tables.models import Field, Table

CHOICE_TYPES = ("choice", "multi_choice")


def _iso(value: Any) -> str | None:
    return None if value is None else timezone.localtime(value).isoformat()


def record_json(fields: Iterable[Field], record: Any) -> dict[str, Any]:
    """One record: ``id``, its fields by key, then the system columns."""
    model = type(record)
    out: dict[str, Any] = {"id": record.pk}
    for field in fields:
        value = getattr(record, model._meta.get_field(field.key).attname)
        out[field.key] = None if value is None else field.field_type.to_json(field, value)
    out["record_state"] = record.record_state
    out["created_at"] = _iso(record.created_at)
    out["updated_at"] = _iso(record.updated_at)
    out["created_by"] = record.created_by_id
    out["updated_by"] = record.updated_by_id
    return out


def field_json(field: Field) -> dict[str, Any]:
    return {
        "key": field.key,
        "label": field.label,
        "type": field.type,
        "required": field.required,
        "unique": field.unique,
        "read_only": field.read_only,
        "options": field.options or {},
        "link_table": field.link_table.key if field.link_table is not None else None,
        "choices": (
            [{"key": c.key, "label": c.label} for c in choices_of(field)]
            if field.type in CHOICE_TYPES
            else []
        ),
    }


def table_json(table: Table, fields: Iterable[Field]) -> dict[str, Any]:
    return {
        "key": table.key,
        "label": table.label,
        "category": table.category.key if table.category is not None else None,
        "fields": [field_json(f) for f in fields],
    }


def values_from_json(data: Any) -> dict[str, Any]:
    """The values a create or update body carries, keyed by field key.

    Field types read the values in the records service; here only the body's shape is checked
    and the system columns, which nobody writes, are refused.
    """
    if not isinstance(data, Mapping):
        raise RecordValidationError(
            [FieldError("", _("Ожидается объект JSON «поле: значение»."), "not_an_object")]
        )
    system = [key for key in data if key in SYSTEM_COLUMNS]
    if system:
        raise RecordValidationError(
            [
                FieldError(
                    key,
                    _("Системное поле «%(key)s» только для чтения.") % {"key": key},
                    "read_only",
                )
                for key in system
            ]
        )
    return dict(data)
