"""What the calendar shows: records of any table that has a date or date-time field.

A *source* is a table and one of its date fields (``client_work.date``, ``tasks.deadline``,
``events.start`` with ``events.end``); the calendar reads each through
:func:`kartoteka.records.selectors.list_records`, so the read path and its rights hold. Items are
coloured by a choice field of their table (the first one whose options have colours unless the
person picks another) and filtered by a user: a record belongs to a user when any of its user
fields (manager, assignee, author …) names him, or — for tables without user fields — when he
created it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from kartoteka.access.rights import visible_fields
from kartoteka.core.actor import Actor
from kartoteka.records.selectors import list_records, list_tables, mask_hidden
from kartoteka.tables.fieldtypes.choice import choices_of
from kartoteka.tables.modelfactory import fields_of
from kartoteka.tables.models import Field, Table

#: Shown when the person has not chosen: planned work, task deadlines, events.
DEFAULT_SOURCES = ("client_work.date", "tasks.deadline", "events.start")
END_FIELDS = {"start": "end", "date_from": "date_to"}
PALETTE = ("#0d6efd", "#6f42c1", "#198754", "#fd7e14", "#d63384", "#20c997", "#6c757d")
LIMIT = 500


@dataclass
class Source:
    table: Table
    field: Field
    end_field: Field | None = None
    color_field: Field | None = None
    color: str = PALETTE[0]

    @property
    def key(self) -> str:
        return f"{self.table.key}.{self.field.key}"

    @property
    def label(self) -> str:
        return f"{self.table.label}: {self.field.label}"


@dataclass
class Item:
    source: Source
    record: Any
    title: str
    start: dt.datetime | dt.date
    end: dt.datetime | dt.date | None
    all_day: bool
    color: str
    done: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def day(self) -> dt.date:
        if isinstance(self.start, dt.datetime):
            return timezone.localtime(self.start).date()
        return self.start

    @property
    def time(self) -> str:
        if self.all_day or not isinstance(self.start, dt.datetime):
            return ""
        return timezone.localtime(self.start).strftime("%H:%M")

    @property
    def url(self) -> str:
        return reverse("record", args=[self.source.table.key, self.record.pk])


def available_sources(actor: Actor) -> list[Source]:
    """Every (table, date field) pair the actor may show."""
    out = []
    for index, table in enumerate(list_tables(actor)):
        # Only fields the actor may see: a hidden date never places, colours or ends an item.
        fields = visible_fields(actor, table)
        by_key = {f.key: f for f in fields}
        for f in fields:
            if f.type not in ("date", "datetime"):
                continue
            if f.key in END_FIELDS.values() and any(
                by_key.get(s) for s, e in END_FIELDS.items() if e == f.key
            ):
                continue  # an end date belongs to its start
            end = by_key.get(END_FIELDS.get(f.key, ""))
            out.append(
                Source(
                    table=table,
                    field=f,
                    end_field=end if end is not None and end.type == f.type else None,
                    color_field=default_color_field(fields),
                    color=PALETTE[index % len(PALETTE)],
                )
            )
    return out


def default_color_field(fields: list[Field]) -> Field | None:
    """The first choice field with coloured options that people set (not a read-only one such
    as «Статус до»)."""
    for f in fields:
        if f.type == "choice" and not f.read_only and any(c.color for c in choices_of(f)):
            return f
    return None


def choose_sources(
    actor: Actor, keys: list[str], colors: dict[str, str] | None = None
) -> list[Source]:
    """The sources named by ``keys`` (``table.field``), the defaults when none is named;
    ``colors`` maps a table key to the choice field to colour its items by."""
    available = {s.key: s for s in available_sources(actor)}
    chosen = [available[k] for k in keys if k in available]
    if not chosen:
        chosen = [available[k] for k in DEFAULT_SOURCES if k in available]
    for source in chosen:
        wanted = (colors or {}).get(source.table.key)
        if wanted:
            fields = {f.key: f for f in visible_fields(actor, source.table)}
            if wanted in fields and fields[wanted].type == "choice":
                source.color_field = fields[wanted]
    return chosen


def user_q(table: Table, user_id: int, actor: Actor | None = None) -> Q:
    fields = fields_of(table) if actor is None else visible_fields(actor, table)
    user_fields = [f.key for f in fields if f.type == "user"]
    if not user_fields:
        return Q(created_by_id=user_id)
    q = Q()
    for key in user_fields:
        q |= Q(**{f"{key}_id": user_id})
    return q


def _bounds(source: Source, start: dt.date, end: dt.date) -> Q:
    key = source.field.key
    if source.field.type == "date":
        return Q(**{f"{key}__gte": start, f"{key}__lte": end})
    low = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    high = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))
    return Q(**{f"{key}__gte": low, f"{key}__lt": high})


def _color(source: Source, record: Any) -> str:
    f = source.color_field
    if f is not None:
        value = getattr(record, f.key)
        for option in choices_of(f):
            if option.key == value and option.color:
                return option.color
    return source.color


def items_between(
    actor: Actor,
    sources: list[Source],
    start: dt.date,
    end: dt.date,
    *,
    user_id: int | None = None,
    extra_q: dict[str, Q] | None = None,
) -> list[Item]:
    """Items of ``sources`` whose date lies in ``start``..``end`` (both included)."""
    items: list[Item] = []
    for source in sources:
        qs = list_records(actor, source.table, ordering=[source.field.key]).filter(
            _bounds(source, start, end)
        )
        if user_id is not None:
            qs = qs.filter(user_q(source.table, user_id, actor))
        if extra_q and source.table.key in extra_q:
            qs = qs.filter(extra_q[source.table.key])
        for record in qs[:LIMIT]:
            items.append(_item(source, mask_hidden(actor, source.table, record)))
    items.sort(key=lambda i: (i.day, i.time or "", i.title))
    return items


def _item(source: Source, record: Any) -> Item:
    value = getattr(record, source.field.key)
    end = getattr(record, source.end_field.key) if source.end_field else None
    done = bool(getattr(record, "done", False)) or getattr(record, "state", None) in (
        "done",
        "cancelled",
    )
    title = str(record)
    parent = _parent_link(source.table)
    if parent is not None and getattr(record, parent.key) is not None:
        # A subtable row («Звонок 10.11.2026») says little alone: name its parent first; the
        # date its title repeats is where the calendar shows it anyway.
        shown = source.field.field_type.display(source.field, value) if value else ""
        own = " ".join(title.replace(shown, "").split()) if shown else title
        title = f"{getattr(record, parent.key)} — {own or title}"
    return Item(
        source=source,
        record=record,
        title=title,
        start=value,
        end=end,
        all_day=source.field.type == "date",
        color=_color(source, record),
        done=done,
    )


def _parent_link(table: Table) -> Field | None:
    for f in fields_of(table):
        if f.type == "link" and f.options.get("subtable"):
            return f
    return None


def count_by_day(actor: Actor, user_id: int, days: list[dt.date]) -> dict[dt.date, int]:
    """How many of the user's open items fall on each of ``days`` (the header's counts)."""
    sources = choose_sources(actor, [])
    items = items_between(actor, sources, min(days), max(days), user_id=user_id)
    counts = dict.fromkeys(days, 0)
    for item in items:
        if item.day in counts and not item.done:
            counts[item.day] += 1
    return counts
