"""Calendar commands: reschedule an item (through the records service, so the table's rules and
history hold) and create or revoke the personal ICS feed token."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.access.rights import visible_fields
from kartoteka.calendar.models import CalendarFeed
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, NotFound, PermissionDenied
from kartoteka.records.selectors import get_record
from kartoteka.records.services import update_records
from kartoteka.tables.models import Table


def move_item(actor: Actor, table: Table, pk: int, field_key: str, day: dt.date) -> Any:
    """Move a record's date (or date-time, keeping its time of day) to ``day``."""
    fields = {f.key: f for f in visible_fields(actor, table)}
    field = fields.get(field_key)
    if field is None or field.type not in ("date", "datetime"):
        raise KartotekaError(_("В таблице нет такого поля даты."), code="not_a_date_field")
    record = get_record(actor, table, pk, include_deleted=False)
    old = getattr(record, field.key)
    if field.type == "date":
        value: Any = day
    else:
        time = timezone.localtime(old).time() if old else dt.time(9, 0)
        value = timezone.make_aware(dt.datetime.combine(day, time))
    updates: dict[str, Any] = {field.key: value}
    end_key = {"start": "end", "date_from": "date_to"}.get(field.key)
    end = fields.get(end_key or "")
    if end is not None and end.type == field.type and old and getattr(record, end.key):
        updates[end.key] = getattr(record, end.key) + (value - old)
    return update_records(actor, table, {pk: updates})[0]


def create_feed(actor: Actor) -> CalendarFeed:
    """A new secret feed URL for the actor; earlier ones stop working."""
    if actor.user is None:
        raise PermissionDenied(_("Нужен пользователь."))
    now = timezone.now()
    with transaction.atomic():
        CalendarFeed.objects.filter(user=actor.user, revoked_at__isnull=True).update(revoked_at=now)
        return CalendarFeed.objects.create(
            user=actor.user, token=secrets.token_urlsafe(32), created_at=now
        )


def revoke_feed(actor: Actor) -> int:
    if actor.user is None:
        raise PermissionDenied(_("Нужен пользователь."))
    return CalendarFeed.objects.filter(user=actor.user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def active_feed(actor: Actor) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=actor.user, revoked_at__isnull=True).first()


def feed_by_token(token: str) -> CalendarFeed:
    feed = (
        CalendarFeed.objects.filter(token=token, revoked_at__isnull=True)
        .select_related("user")
        .first()
    )
    if feed is None or not feed.user.is_active:
        raise NotFound("feed")
    return feed
