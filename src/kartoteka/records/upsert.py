"""Upsert: create or update records matched by a key field — the merge of the API and import.

Each row is matched on the *key* field (e.g. ``inn``; its value cleaned by the field type, so a
phone written any way matches the stored E.164) against the records the actor may read, active or
archived. A row with no match is created; a matched row updates its record under a *policy*:

- ``keep_filled`` («приоритет заполненных перед пустыми»): an empty value never blanks a filled
  one — empty values in the row are ignored;
- ``overwrite``: every value given is written, empty ones too.

A matched row that would change nothing is *skipped*. Rows are independent: a bad row (a value
the field type refuses, a missing or repeated key, a key that matches several records, a rule
that refuses it) is reported as an error with its index and field, and the other rows are still
written. Writes go through :mod:`kartoteka.records.services` in batches, so validation, rules,
history and the search index hold as on every other path; when a batch is refused, the refused
rows are taken out and the rest retried.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kartoteka.access import rights
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, RecordValidationError, RuleViolation
from kartoteka.records import services
from kartoteka.records.merge import KEEP_FILLED, POLICIES, merge_changes
from kartoteka.records.selectors import base_queryset
from kartoteka.tables.modelfactory import STATE_DELETED, fields_of
from kartoteka.tables.models import Field, Table

#: Rows written per call of the records service.
BATCH = 500


@dataclass(frozen=True)
class RowError:
    """A row that was not written: its position in the input, the field (``""``: the whole
    row) and why."""

    index: int
    field: str
    message: str
    code: str = "invalid"

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "message": self.message}


@dataclass
class UpsertResult:
    created: list[int] = field(default_factory=list)  # ids of created records
    updated: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # indexes of rows that changed nothing
    errors: list[RowError] = field(default_factory=list)

    def as_counts(self) -> dict[str, Any]:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "skipped": len(self.skipped),
            "errors": [e.as_dict() for e in sorted(self.errors, key=lambda e: e.index)],
        }


def upsert_records(
    actor: Actor,
    table: Table,
    *,
    key: str,
    rows: Sequence[Any],
    policy: str = KEEP_FILLED,
) -> UpsertResult:
    """Create or update ``rows`` (values keyed by field key) matched on the field ``key``.

    Raises ``RecordValidationError`` only when the request itself is wrong (no such key field,
    an unknown policy); problems of single rows are in the result's ``errors``.
    """
    fields = {f.key: f for f in fields_of(table)}
    # A field hidden from the actor is no key for him: matching on it would reveal its values.
    key_field = fields.get(key) if key not in rights.hidden_keys(actor, table) else None
    if key_field is None:
        raise RecordValidationError(
            [services.FieldError("key", _("Нет поля «%(key)s».") % {"key": key}, "unknown_field")]
        )
    if policy not in POLICIES:
        raise RecordValidationError(
            [
                services.FieldError(
                    "policy",
                    _("Политика «%(policy)s» не известна; возможны: %(all)s.")
                    % {"policy": policy, "all": ", ".join(POLICIES)},
                    "unknown_policy",
                )
            ]
        )
    result = UpsertResult()
    prepared: list[tuple[int, Any, dict[str, Any]]] = []  # (index, key value, cleaned values)
    seen: dict[Any, int] = {}
    for index, row in enumerate(rows):
        cleaned, errors = _clean_row(actor, fields, row, index)
        key_value = cleaned.get(key)
        if not errors and key_field.field_type.is_empty(key_value):
            errors.append(
                RowError(
                    index,
                    key,
                    _("Не заполнено ключевое поле «%(label)s».") % {"label": key_field.label},
                    "no_key",
                )
            )
        if not errors and key_value in seen:
            errors.append(
                RowError(
                    index,
                    key,
                    _("Значение «%(value)s» ключевого поля уже было в строке %(other)s.")
                    % {"value": _shown(key_field, key_value), "other": seen[key_value]},
                    "duplicate_key",
                )
            )
        if errors:
            result.errors.extend(errors)
            continue
        seen[key_value] = index
        prepared.append((index, key_value, cleaned))

    matches = _existing(actor, table, key_field, [kv for _i, kv, _c in prepared])
    creates: list[tuple[int, dict[str, Any]]] = []
    updates: list[tuple[int, Any, dict[str, Any]]] = []
    for index, key_value, cleaned in prepared:
        found = matches.get(key_value, [])
        if len(found) > 1:
            result.errors.append(
                RowError(
                    index,
                    key,
                    _("Значению «%(value)s» соответствуют несколько записей: %(ids)s.")
                    % {
                        "value": _shown(key_field, key_value),
                        "ids": ", ".join(f"№{r.pk}" for r in found),
                    },
                    "ambiguous_key",
                )
            )
        elif not found:
            values = {k: v for k, v in cleaned.items() if not fields[k].field_type.is_empty(v)}
            creates.append((index, values))
        else:
            record = found[0]
            diff = _changes(fields, record, cleaned, policy)
            if diff:
                updates.append((index, record.pk, diff))
            else:
                result.skipped.append(index)

    for start in range(0, len(creates), BATCH):
        chunk = creates[start : start + BATCH]
        done = _write(
            chunk,
            lambda part: services.create_records(actor, table, [values for _i, values in part]),
            result.errors,
        )
        result.created.extend(record.pk for record in done)
    for start in range(0, len(updates), BATCH):
        chunk_u = updates[start : start + BATCH]
        done = _write(
            chunk_u,
            lambda part: services.update_records(
                actor, table, [(pk, values) for _i, pk, values in part]
            ),
            result.errors,
        )
        result.updated.extend(record.pk for record in done)
    return result


def _clean_row(
    actor: Actor, fields: dict[str, Field], row: Any, index: int
) -> tuple[dict[str, Any], list[RowError]]:
    if not isinstance(row, Mapping):
        return {}, [RowError(index, "", _("Строка должна быть объектом «поле: значение»."))]
    cleaned: dict[str, Any] = {}
    errors: list[RowError] = []
    for name, value in row.items():
        meta = fields.get(name)
        if meta is None:
            errors.append(RowError(index, name, _("Нет такого поля."), "unknown_field"))
            continue
        if meta.read_only and not actor.is_system:
            errors.append(
                RowError(
                    index,
                    name,
                    _("Поле «%(label)s» заполняется автоматически и не редактируется.")
                    % {"label": meta.label},
                    "read_only",
                )
            )
            continue
        try:
            cleaned[name] = meta.field_type.clean(meta, value)
        except ValidationError as exc:
            errors.append(RowError(index, name, " ".join(exc.messages), exc.code or "invalid"))
    return cleaned, errors


def _existing(actor: Actor, table: Table, key_field: Field, values: list[Any]) -> dict[Any, list]:
    """Records whose key is one of ``values`` (the actor's, active or archived), by key value."""
    qs = base_queryset(actor, table, state=None).exclude(record_state=STATE_DELETED)
    attname = qs.model._meta.get_field(key_field.key).attname
    found: dict[Any, list] = {}
    for start in range(0, len(values), BATCH):
        chunk = values[start : start + BATCH]
        for record in qs.filter(**{f"{attname}__in": chunk}).order_by("id"):
            found.setdefault(getattr(record, attname), []).append(record)
    return found


def _changes(
    fields: dict[str, Field], record: Any, cleaned: dict[str, Any], policy: str
) -> dict[str, Any]:
    current = services.current_values(record, [fields[k] for k in cleaned])
    return merge_changes(fields, current, cleaned, policy)


def _write(
    items: list[Any], write: Callable[[list[Any]], list[Any]], errors: list[RowError]
) -> list[Any]:
    """Write ``items`` (tuples starting with the row index) by ``write``; rows the service
    refuses are reported and taken out, and the rest written. Returns the written records."""
    pending = list(items)
    while pending:
        try:
            return write(pending)
        except RecordValidationError as exc:
            refused = {e.row for e in exc.errors}
            if not refused.issubset(range(len(pending))) or any(not e.field for e in exc.errors):
                # Not attributable to rows (e.g. an integrity error): try them one by one.
                return _one_by_one(pending, write, errors)
            for e in exc.errors:
                errors.append(RowError(pending[e.row][0], e.field, e.message, e.code))
            pending = [item for position, item in enumerate(pending) if position not in refused]
        except RuleViolation:
            # A rule names no row; find the refused rows by writing them one at a time.
            return _one_by_one(pending, write, errors)
    return []


def _one_by_one(
    items: list[Any], write: Callable[[list[Any]], list[Any]], errors: list[RowError]
) -> list[Any]:
    written = []
    for item in items:
        try:
            written.extend(write([item]))
        except RecordValidationError as exc:
            for e in exc.errors:
                errors.append(RowError(item[0], e.field, e.message, e.code))
        except RuleViolation as exc:
            errors.append(RowError(item[0], exc.field or "", exc.message, exc.rule))
        except KartotekaError as exc:
            errors.append(RowError(item[0], "", exc.message, exc.code))
    return written


def _shown(meta: Field, value: Any) -> str:
    return meta.field_type.display(meta, value)
