"""The one read path for records of every table.

Pages, exports, reports, search and the API build their querysets here from filters, sort,
search and the caller. Access rights are enforced here (SPEC §10): :func:`base_queryset`, the
single place every read passes through, refuses a table the actor may not view (``NotFound``)
and applies the group's row filter as SQL (subtables through their parent link); a filter, sort
or search on a field hidden from the actor is refused; history leaves hidden fields out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from kartoteka.access import rights
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
    """All records of ``table`` the actor may read, in ``state`` (``None``: every state).

    ``NotFound`` when the actor may not view the table at all."""
    if not rights.can(actor, table, "view"):
        raise NotFound(_("Таблица «%(key)s» не найдена.") % {"key": table.key})
    model = model_for(table)
    qs = model.objects.all()
    confined = rights.row_q(actor, table)
    if confined is not None:
        qs = qs.filter(confined)
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
    hidden = rights.hidden_keys(actor, table)
    conditions = list(conditions)
    ordering = list(ordering)
    _refuse_hidden(fields, hidden, conditions, ordering, parent)
    fields = {k: f for k, f in fields.items() if k not in hidden}
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
        qs = qs.filter(search_q(actor, table, search))
    qs = qs.order_by(*_ordering(fields, ordering))
    related = [*relation_fields(table), "created_by", "updated_by"]
    return qs.select_related(*related)


def _refuse_hidden(
    fields: dict[str, Field],
    hidden: set[str],
    conditions: list[Condition],
    ordering: list[str],
    parent: tuple[str, int] | None,
) -> None:
    """A filter or a sort on a hidden field is refused, never silently dropped: a count of the
    matching records would reveal the hidden values."""
    if not hidden:
        return
    errors = [
        FieldErrorInfo(
            cond.field,
            _("Поле «%(key)s» вам недоступно: по нему нельзя фильтровать.") % {"key": cond.field},
            "hidden_field",
            index,
        )
        for index, cond in enumerate(conditions)
        if cond.field in hidden
    ]
    errors += [
        FieldErrorInfo(
            item.lstrip("-"),
            _("Поле «%(key)s» вам недоступно: по нему нельзя сортировать.")
            % {"key": item.lstrip("-")},
            "hidden_field",
        )
        for item in ordering
        if item.lstrip("-") in hidden
    ]
    if parent is not None and parent[0] in hidden:
        errors.append(FieldErrorInfo(parent[0], _("Поле вам недоступно."), "hidden_field"))
    if errors:
        raise RecordValidationError(errors)


def search_q(actor: Actor, table: Table, text: str, *, by_id: bool = True) -> Q:
    """The quick-search condition for the actor: the search index, and — when fields are hidden
    from him — the words must occur in fields he can see."""
    q = search_filter(table, text, by_id=by_id)
    hidden = rights.hidden_keys(actor, table)
    if hidden:
        visible = {f.key: f for f in fields_of(table) if f.key not in hidden}
        q &= _visible_search_q(visible, text)
    return q


def _visible_search_q(fields: dict[str, Field], search: str) -> Q:
    """With hidden fields, every word must also occur in a *visible* field, so a search never
    finds a record by a value the actor cannot see (stricter than the index: no «ё» folding)."""
    texts = [
        f.key
        for f in fields.values()
        if f.field_type.searchable and not f.field_type.is_relation and f.type != "file"
    ]
    combined = Q()
    for word in search.split():
        any_field = Q(pk=int(word)) if word.isdigit() else Q(pk__in=[])
        for key in texts:
            any_field |= Q(**{f"{key}__icontains": word})
        combined &= any_field
    return combined


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
            value = cond.value
            if field.type == "link" and cond.op in ("eq", "ne", "in"):
                # A title is looked up among the records the actor may read only.
                value = (
                    [_link_value(actor, field, v) for v in value]
                    if cond.op == "in" and isinstance(value, list | tuple)
                    else _link_value(actor, field, value)
                )
            q = field.field_type.filter_q(field, cond.op, value, user=actor.user)
            if field.type == "link":
                q = _readable_link_q(actor, field, cond.op, q)
            parts.append(q)
        except (ValidationError, FilterError) as exc:
            errors.append(FieldErrorInfo(cond.field, " ".join(exc.messages), "bad_filter", index))
    if errors:
        raise RecordValidationError(errors)
    combined = parts[0]
    for part in parts[1:]:
        combined = (combined | part) if match == "any" else (combined & part)
    return combined


def _link_value(actor: Actor, field: Field, value: Any) -> Any:
    return parse_link(actor, field, value) if isinstance(value, str) else value


def _readable_link_q(actor: Actor, field: Field, op: str, q: Q) -> Q:
    """A link condition as the actor sees the link: one to a record he may not read is empty
    (as the grid shows it), so filtering by such a record finds nothing and «empty» finds it."""
    targets = readable_targets(actor, field)
    if targets is None:
        return q
    shown = Q(**{f"{field.key}_id__in": targets})
    if op in ("empty", "ne"):
        return q | (Q(**{f"{field.key}_id__isnull": False}) & ~shown)
    return q & shown


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


def mask_hidden(actor: Actor, table: Table, record: Any) -> Any:
    """Blank, in memory, the fields of a loaded record that are hidden from the actor — for
    code that reads records whole (documents, serializers). Returns the record."""
    hidden = rights.hidden_keys(actor, table)
    if not hidden:
        return record
    for field in fields_of(table):
        if field.key in hidden:
            attname = record._meta.get_field(field.key).attname
            setattr(record, attname, None)
            record._state.fields_cache.pop(field.key, None)
    return record


def readable_targets(actor: Actor, field: Field) -> QuerySet | None:
    """The ids of the records link ``field`` may show the actor, as a subquery; ``None`` when he
    may read every record of the target table.

    The one rule for links to records the actor may not read, used everywhere a link's target
    could show: the grid, card and API blank such a link (:func:`mask_unreadable_links`), and so
    do exports; the form's picker shows no title (:func:`link_titles`); a filter on the link
    treats it as empty (:func:`_conditions_q`); an import by title (:func:`parse_link`) and a
    unique-value error (records services) answer as if the record did not exist. Subtable links
    are never masked: a subtable's rows are already confined to readable parents.
    """
    if actor.is_admin or field.link_table is None or field.options.get("subtable"):
        return None
    target = field.link_table
    if not rights.can(actor, target, "view"):
        return model_for(target).objects.none().values("pk")
    if rights.row_q(actor, target) is None:
        return None
    return base_queryset(actor, target, state=None).values("pk")


def readable_ids(actor: Actor, field: Field, ids: Iterable[Any]) -> set[int]:
    """Of ``ids`` (targets of link ``field``), those the actor may read (see
    :func:`readable_targets`; without a row filter, every id given)."""
    wanted = {i for i in ids if i is not None}
    targets = readable_targets(actor, field)
    if targets is None or not wanted:
        return wanted
    return set(targets.filter(pk__in=wanted).values_list("pk", flat=True))


def mask_unreadable_links(actor: Actor, table: Table, records: list[Any]) -> list[Any]:
    """Empty, in memory, the links of loaded records that point at records the actor may not
    read, so a page never shows their titles (a task of another manager's client shows no
    client). One query per link field whose target is confined (:func:`readable_targets`).
    Returns ``records``."""
    if actor.is_admin or not records:
        return records
    for field in fields_of(table):
        if field.type != "link" or readable_targets(actor, field) is None:
            continue
        attname = f"{field.key}_id"
        readable = readable_ids(actor, field, {getattr(r, attname) for r in records})
        for record in records:
            if getattr(record, attname) not in readable and getattr(record, attname) is not None:
                setattr(record, attname, None)
                record._state.fields_cache.pop(field.key, None)
    return records


def link_titles(actor: Actor, field: Field, ids: Iterable[Any]) -> dict[int, str]:
    """The titles of the link targets ``ids`` the actor may read; missing and unreadable ones
    are left out alike (a form's picker shows nothing for them)."""
    from kartoteka.tables.fieldtypes.link import MAX_ID

    wanted = set()
    for value in ids:
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if 0 < number <= MAX_ID:
            wanted.add(number)
    if field.link_table is None or not wanted:
        return {}
    readable = readable_ids(actor, field, wanted)
    return {r.pk: str(r) for r in model_for(field.link_table).objects.filter(pk__in=readable)}


def parse_link(actor: Actor, field: Field, text: str) -> Any:
    """Text from a file for link ``field`` (a title, or ``#id``) → the target's id. A title is
    looked up among the records the actor may read only, so one he may not read gets the very
    answer a missing one does (``ValidationError`` «… не найдено в таблице …»); an id is checked
    by the records service, which answers both alike too."""
    from kartoteka.tables.fieldtypes.link import LinkType

    text = text.strip()
    targets = readable_targets(actor, field)
    ftype = field.field_type
    if targets is None or not text or text.lstrip("#").isdigit():
        return ftype.parse(field, text)
    assert isinstance(ftype, LinkType) and field.link_table is not None
    among = model_for(field.link_table).objects.filter(pk__in=targets)
    pk = ftype.find_by_title(field, text, among=among)
    if pk is None:
        raise ftype.title_not_found(field, text)
    return pk


def readable_record_ids(actor: Actor, table: Table, ids: Iterable[int]) -> set[int]:
    """Of ``ids`` (records of ``table``, any state), those the actor may read — what an error
    message may name (a unique value taken by a record he may not read names no number)."""
    wanted = set(ids)
    if actor.is_admin or not wanted:
        return wanted
    try:
        readable = base_queryset(actor, table, state=None)
    except NotFound:
        return set()
    return set(readable.filter(pk__in=wanted).values_list("pk", flat=True))


def paginate(qs: QuerySet, page: int | str | None, per_page: int = 50) -> Page:
    return Paginator(qs, per_page).get_page(page)


def get_history(actor: Actor, table: Table, pk: int, *, limit: int | None = None) -> list[Any]:
    """The history of a record, newest first; changes of fields hidden from the actor are left
    out (an entry that changed only hidden fields is left out whole)."""
    get_record(actor, table, pk)
    qs = RecordChange.objects.filter(table=table, record_id=pk).select_related("user")
    entries = list(qs[:limit] if limit is not None else qs)
    hidden = rights.hidden_keys(actor, table)
    if not hidden:
        return entries
    out = []
    for entry in entries:
        changes = entry.changes or {}
        kept = {k: v for k, v in changes.items() if k not in hidden}
        if changes and not kept:
            continue
        entry.changes = kept
        out.append(entry)
    return out


def visible_subtables(actor: Actor, table: Table) -> list[Field]:
    """The subtables of ``table`` the actor may view (card sections)."""
    return [f for f in subtables_of(table) if rights.can(actor, f.table, "view")]


def subtables_of(table: Table) -> list[Field]:
    """Link fields of other tables that make them subtables of ``table`` (card sections)."""
    return [
        f
        for f in Field.objects.filter(link_table=table, type="link").select_related("table")
        if f.options.get("subtable")
    ]


def get_table(actor: Actor, key: str) -> Table:
    table = Table.objects.filter(key=key).select_related("category").first()
    if table is None or not rights.can(actor, table, "view"):
        raise NotFound(_("Таблица «%(key)s» не найдена.") % {"key": key})
    return table


def list_tables(actor: Actor) -> list[Table]:
    """The tables the actor may view, in menu order."""
    tables = Table.objects.select_related("category").order_by("category__position", "position")
    return [t for t in tables if rights.can(actor, t, "view")]
