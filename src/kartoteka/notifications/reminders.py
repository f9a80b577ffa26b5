"""Reminders («Напоминания»): configured per table by an administrator, evaluated every minute.

:func:`evaluate_reminders` takes the moment to evaluate as an argument (the scheduler passes the
clock; tests pass a fixed time). For every enabled reminder it finds the records that are due:

- ``match``: records that match the condition and have not been reminded of yet;
- ``date``: records whose date field + offset (a date without time taken at ``at_time``) lies in
  the last :data:`LOOKBACK` before now — a worker that was down for a while catches up on a day,
  but a new reminder does not flood people with years of old records.

Each firing is inserted into :class:`ReminderFiring` in its own transaction together with the
notifications it makes; the unique (reminder, record, moment) constraint turns a second worker's
attempt into an ``IntegrityError`` that is skipped — a reminder fires once, whoever evaluates it.

A ``match`` reminder fires once per record for good (a record that stops matching and matches
again is not reminded twice). Conditions relative to today («сегодня», «эта неделя») are read on
the server's clock, not on the ``now`` passed in.
"""

from __future__ import annotations

import datetime as dt
import logging
import string
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from kartoteka.access import rights
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import NotFound
from kartoteka.core.i18n import stored_text
from kartoteka.grids.services import view_conditions
from kartoteka.notifications.models import Reminder, ReminderFiring
from kartoteka.notifications.services import Message, notify_each
from kartoteka.profiles.services import user_time_zones
from kartoteka.records.selectors import Condition, base_queryset, list_records
from kartoteka.sms.reminders import send_copies as send_sms_copies
from kartoteka.tables.modelfactory import fields_of
from kartoteka.tables.models import Table

log = logging.getLogger(__name__)

LOOKBACK = dt.timedelta(hours=24)
DEFAULT_TIME = dt.time(9, 0)
#: The moment recorded for ``match`` reminders: they fire once per record.
MATCH_MOMENT = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MAX_PER_TICK = 1000
SYSTEM = Actor.system("reminders", source="reminder")


def reminder_conditions(reminder: Reminder) -> tuple[list[Condition], str]:
    if reminder.saved_view_id:
        view = reminder.saved_view
        return view_conditions(view), view.match
    triples = [c for c in reminder.conditions or [] if isinstance(c, list | tuple) and len(c) == 3]
    return [Condition(str(f), str(op), v) for f, op, v in triples], reminder.match


def moment_of(reminder: Reminder, value: Any) -> dt.datetime | None:
    """When a date reminder is due for a record whose date field holds ``value``."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        at = reminder.at_time or DEFAULT_TIME
        value = timezone.make_aware(dt.datetime.combine(value, at))
    return value + dt.timedelta(minutes=reminder.offset_minutes)


def due_records(reminder: Reminder, now: dt.datetime) -> list[tuple[Any, dt.datetime]]:
    """The records ``reminder`` should fire for at ``now`` (not yet fired), with their moment."""
    table = reminder.table
    conditions, match = reminder_conditions(reminder)
    qs = list_records(SYSTEM, table, conditions=conditions, match=match, ordering=["id"])
    if reminder.moment == Reminder.MOMENT_MATCH:
        fired = ReminderFiring.objects.filter(reminder=reminder).values("record_id")
        return [(r, MATCH_MOMENT) for r in qs.exclude(pk__in=fired)[:MAX_PER_TICK]]
    field = {f.key: f for f in fields_of(table)}.get(reminder.date_field)
    if field is None or field.type not in ("date", "datetime"):
        return []
    offset = dt.timedelta(minutes=reminder.offset_minutes)
    high, low = now - offset, now - offset - LOOKBACK
    key = field.key
    if field.type == "datetime":
        qs = qs.filter(**{f"{key}__lte": high, f"{key}__gt": low})
    else:
        day = dt.timedelta(days=1)
        qs = qs.filter(
            **{
                f"{key}__lte": timezone.localdate(high + day),
                f"{key}__gte": timezone.localdate(low - day),
            }
        )
    fired = set(
        ReminderFiring.objects.filter(
            reminder=reminder, moment__gt=now - LOOKBACK, moment__lte=now
        ).values_list("record_id", "moment")
    )
    due = []
    for record in qs[:MAX_PER_TICK]:
        moment = moment_of(reminder, getattr(record, key))
        if moment is None or not (now - LOOKBACK < moment <= now):
            continue
        if (record.pk, moment) not in fired:
            due.append((record, moment))
    return due


def recipients_of(reminder: Reminder, record: Any) -> list[int]:
    ids: set[int] = set()
    if reminder.recipient_field:
        value = getattr(record, f"{reminder.recipient_field}_id", None)
        if value:
            ids.add(value)
    ids.update(reminder.users.values_list("pk", flat=True))
    if reminder.group_id:
        ids.update(
            get_user_model()
            .objects.filter(groups=reminder.group_id, is_active=True)
            .values_list("pk", flat=True)
        )
    return sorted(ids)


class _Values(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render_message(
    template: str, table: Table, record: Any, hidden: set[str] | frozenset[str] = frozenset()
) -> str:
    """The message with ``{field}`` placeholders replaced by the record's displayed values
    (``—`` for the ``hidden`` fields: the recipient may not see them)."""
    values = _Values(id=str(record.pk))
    for field in fields_of(table):
        ft = field.field_type
        value = getattr(record, field.key)
        shown = value not in (None, "") and field.key not in hidden
        values[field.key] = ft.display(field, value) if shown else "—"
    try:
        return string.Formatter().vformat(template, (), values)
    except (ValueError, IndexError):
        return template


def messages_for(reminder: Reminder, record: Any) -> list[Message]:
    """One message per recipient who may read the record (access rights: its table, its row
    filter), its placeholders filled with the fields he may see."""
    table = reminder.table
    kind = f"reminder:{reminder.pk}"
    out = []
    users = get_user_model().objects.filter(pk__in=recipients_of(reminder, record))
    # Dates and times in each recipient's own time zone (his profile's, else the installation's).
    zones = user_time_zones([u.pk for u in users])
    for user in users.order_by("pk"):
        actor = Actor.for_user(user, source="reminder")
        try:
            readable = base_queryset(actor, table, state=None).filter(pk=record.pk).exists()
        except NotFound:
            readable = False
        if not readable:
            continue
        with timezone.override(zones[user.pk]):
            text = render_message(reminder.message, table, record, rights.hidden_keys(actor, table))
        out.append(Message(user.pk, text, table, record.pk, kind))
    return out


def fire(reminder: Reminder, record: Any, moment: dt.datetime, now: dt.datetime) -> bool:
    """Fire ``reminder`` for ``record`` once; ``False`` when it has already fired."""
    try:
        with transaction.atomic():
            ReminderFiring.objects.create(
                reminder=reminder, record_id=record.pk, moment=moment, fired_at=now
            )
            messages = messages_for(reminder, record)
            notify_each(
                messages,
                in_app=reminder.in_app,
                email=True if reminder.by_email else (None if reminder.in_app else False),
                now=now,
            )
            send_sms_copies(reminder, messages)
    except IntegrityError:
        return False
    return True


def evaluate_reminders(now: dt.datetime | None = None) -> int:
    """Fire every enabled reminder that is due at ``now``; returns how many firings happened."""
    now = now or timezone.now()
    fired = 0
    for reminder in Reminder.objects.filter(enabled=True).select_related("table", "saved_view"):
        try:
            due = due_records(reminder, now)
        except Exception:  # a broken condition must not stop the other reminders
            log.exception("reminder %s could not be evaluated", reminder.pk)
            continue
        for record, moment in due:
            fired += fire(reminder, record, moment, now)
    return fired


DEFAULT_REMINDERS = (
    {
        "key": "client_work_due",
        "table": "client_work",
        "name": gettext_noop("Запланированная работа с клиентом"),
        "conditions": [["done", "eq", False]],
        "recipient_field": "manager",
        "message": gettext_noop("Запланировано на {date}: {work_type} — «{counterparty}»"),
        "date_field": "date",
        "offset_minutes": 0,
        "at_time": DEFAULT_TIME,
    },
    {
        "key": "task_deadline_tomorrow",
        "table": "tasks",
        "name": gettext_noop("Срок задания завтра"),
        "conditions": [["state", "in", ["new", "in_progress"]]],
        "recipient_field": "assignee",
        "message": gettext_noop("Завтра срок задания «{title}»: {deadline}"),
        "date_field": "deadline",
        "offset_minutes": -24 * 60,
        "at_time": None,
    },
    {
        "key": "task_overdue",
        "table": "tasks",
        "name": gettext_noop("Задание просрочено"),
        "conditions": [["state", "in", ["new", "in_progress"]]],
        "recipient_field": "assignee",
        "message": gettext_noop("Задание «{title}» просрочено: срок был {deadline}"),
        "date_field": "deadline",
        "offset_minutes": 0,
        "at_time": None,
    },
)


def ensure_default_reminders() -> list[str]:
    """Create the shipped reminders once (an administrator may change or disable them later)."""
    created = []
    for spec in DEFAULT_REMINDERS:
        if Reminder.objects.filter(key=spec["key"]).exists():
            continue
        table = Table.objects.filter(key=spec["table"]).first()
        if table is None:
            continue
        Reminder.objects.create(
            key=spec["key"],
            table=table,
            name=stored_text(spec["name"]),
            conditions=spec["conditions"],
            recipient_field=spec["recipient_field"],
            message=stored_text(spec["message"]),
            moment=Reminder.MOMENT_DATE,
            date_field=spec["date_field"],
            offset_minutes=spec["offset_minutes"],
            at_time=spec["at_time"],
        )
        created.append(f"reminder {spec['key']}")
    return created
