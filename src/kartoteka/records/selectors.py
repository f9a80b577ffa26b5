"""The one read path for records of every table.

Pages, exports, reports, search and the API build their querysets here from filters, sort,
search and the caller. Access rights plug in at :func:`base_queryset`, the single place every
read passes through.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import FieldError as FieldErrorInfo
from kartoteka.core.exceptions import NotFound, RecordValidationError
from kartoteka.records.models import RecordChange
from kartoteka.search.query import search_filter
from kartoteka.tables.fieldtypes.base import FilterError
from kartoteka.tables.modelfactory import STATE_ACTIVE, STATES, fields_of, model_for
from kartoteka.tables.models import Field, Table


@dataclass(frozen=True)
class Condition:
    """One filter condition: ``field`` (key) ``op`` (operator key) ``value``."""

    field: str
    op: str
    value: Any = None


def base_queryset(actor: Actor, table: Table, *, state: str | None = STATE_ACTIVE) -> QuerySet:
    """All records of ``table`` the actor may read, in ``state`` (``None``: every state)."""
    model = model_for(table)
    qs = model.objects.all()
    if state is not None:
        if state not in STATES:
            raise NotFound(_("Неизвестное состояние записей."))
        qs = qs.filter(record_state=state)
    return qs


def relation_fields(table: Table) -> list[str]:
    """Keys of link and user fields: list views ``select_related`` them to avoid N+1."""
    return [f.key for f in fields_of(table) if f.field_type.is_relation]


def list_records(
    actor: Actor,
    table: Table,
    *,
    state: str | None = STATE_ACTIVE,
    conditions: Iterable[Condition] = (),
    match: str = "all",
    search: str = "",
    ordering: Iterable[str] = ("-id",),
    parent: tuple[str, int] | None = None,
) -> QuerySet:
    """Records of a table filtered, searched and sorted.

    ``conditions`` combine with AND (``match="all"``) or OR (``match="any"``); ``ordering``
    takes field keys or system columns, ``-`` for descending; ``parent`` is ``(link key, id)``
    for the rows of a subtable; ``search`` is quick-search text: every word must occur in the
    record's searchable values (any case, «ё» = «е», a phone in any written form) or a number may
    be the record's id. A bad condition raises ``RecordValidationError``.
    """
    qs = base_queryset(actor, table, state=state)
    fields = {f.key: f for f in fields_of(table)}
    if parent is not None:
        key, pk = parent
        link = fields.get(key)
        if link is None or link.type != "link":
            raise RecordValidationError(
                [FieldErrorInfo(key, _("Нет такого поля связи."), "unknown_field")]
            )
        qs = qs.filter(**{f"{key}_id": pk})
    q = _conditions_q(actor, fields, list(conditions), match)
    if q is not None:
        qs = qs.filter(q)
    if search.strip():
        # The search index answers it (kartoteka.search): case folded, «ё» = «е», phones by digits.
        qs = qs.filter(search_filter(table, search))
    qs = qs.order_by(*_ordering(fields, ordering))
    related = [*relation_fields(table), "created_by", "updated_by"]
    return qs.select_related(*related)


def _conditions_q(
    actor: Actor, fields: dict[str, Field], conditions: list[Condition], match: str
) -> Q | None:
    if not conditions:
        return None
    errors: list[FieldErrorInfo] = []
    parts: list[Q] = []
    for index, cond in enumerate(conditions):
        field = fields.get(cond.field)
        if field is None:
            errors.append(FieldErrorInfo(cond.field, _("Нет такого поля."), "unknown_field", index))
            continue
        try:
            parts.append(field.field_type.filter_q(field, cond.op, cond.value, user=actor.user))
        except (ValidationError, FilterError) as exc:
            errors.append(FieldErrorInfo(cond.field, " ".join(exc.messages), "bad_filter", index))
    if errors:
        raise RecordValidationError(errors)
    combined = parts[0]
    for part in parts[1:]:
        combined = (combined | part) if match == "any" else (combined & part)
    return combined


def _ordering(fields: dict[str, Field], ordering: Iterable[str]) -> list[Any]:
    out: list[Any] = []
    for item in ordering:
        desc = item.startswith("-")
        key = item.lstrip("-")
        if key in ("id", "created_at", "updated_at"):
            out.append(item)
            continue
        field = fields.get(key)
        if field is None or not field.field_type.sortable:
            continue
        name = f"{key}_id" if field.field_type.is_relation else key
        # Empty values last in both directions, as in a spreadsheet; left to the database,
        # SQLite would put them first and PostgreSQL last when ascending.
        out.append(F(name).desc(nulls_last=True) if desc else F(name).asc(nulls_last=True))
    if not any(isinstance(o, str) and o.lstrip("-") == "id" for o in out):
        last_desc = bool(out) and (
            out[-1].startswith("-") if isinstance(out[-1], str) else out[-1].descending
        )
        out.append("-id" if last_desc else "id")
    return out


def get_record(actor: Actor, table: Table, pk: int, *, include_deleted: bool = True) -> Any:
    """One record by id, in any state; ``NotFound`` when missing or not readable."""
    qs = base_queryset(actor, table, state=None).select_related(*relation_fields(table))
    if not include_deleted:
        qs = qs.exclude(record_state="deleted")
    record = qs.filter(pk=pk).first()
    if record is None:
        raise NotFound(_("Запись №%(pk)s не найдена.") % {"pk": pk})
    return record


def paginate(qs: QuerySet, page: int | str | None, per_page: int = 50) -> Page:
    return Paginator(qs, per_page).get_page(page)


def get_history(actor: Actor, table: Table, pk: int) -> QuerySet:
    """The history of a record, newest first."""
    get_record(actor, table, pk)
    return RecordChange.objects.filter(table=table, record_id=pk).select_related("user")


def subtables_of(table: Table) -> list[Field]:
    """Link fields of other tables that make them subtables of ``table`` (card sections)."""
    return [
        f
        for f in Field.objects.filter(link_table=table, type="link").select_related("table")
        if f.options.get("subtable")
    ]


def get_table(actor: Actor, key: str) -> Table:
    table = Table.objects.filter(key=key).select_related("category").first()
    if table is None:
        raise NotFound(_("Таблица «%(key)s» не найдена.") % {"key": key})
    return table


def list_tables(actor: Actor) -> list[Table]:
    return list(Table.objects.select_related("category").order_by("category__position", "position"))
