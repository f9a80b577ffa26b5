"""The personal iCalendar feed (RFC 5545): the user's planned work, tasks and events.

Times are written with the installation's time zone (``TZID=Europe/Moscow``) and a VTIMEZONE
component, so phone and mail calendars show them at the right hour; all-day items (planned work
has a date only) are ``VALUE=DATE``. UIDs are stable (``<table>-<id>@<host>``), so an edit
updates the subscriber's copy instead of duplicating it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from icalendar import Calendar, Event

from kartoteka.calendar.sources import Item, choose_sources, items_between
from kartoteka.core.actor import Actor
from kartoteka.tables.fieldtypes.user import user_display

PAST = dt.timedelta(days=90)
FUTURE = dt.timedelta(days=366)
DEFAULT_DURATION = dt.timedelta(hours=1)


def feed_items(user: Any, today: dt.date | None = None) -> list[Item]:
    actor = Actor.for_user(user, source="ics")
    today = today or timezone.localdate()
    sources = choose_sources(actor, [])
    return items_between(
        actor,
        sources,
        today - PAST,
        today + FUTURE,
        user_id=user.pk,
        extra_q={"client_work": Q(done=False) | Q(done__isnull=True)},
    )


def build_feed(user: Any, base_url: str, today: dt.date | None = None) -> bytes:
    tz = ZoneInfo(settings.TIME_ZONE)
    host = base_url.split("://", 1)[-1].split("/", 1)[0] or "kartoteka"
    cal = Calendar()
    cal.add("prodid", "-//Kartoteka//Kartoteka CRM//RU")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Картотека — {user_display(user)}")
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    stamp = timezone.now().astimezone(dt.UTC)
    for item in feed_items(user, today):
        event = Event()
        event.add("uid", f"{item.source.table.key}-{item.record.pk}@{host}")
        event.add("dtstamp", stamp)
        event.add("summary", f"{item.source.table.label}: {item.title}")
        if item.all_day:
            event.add("dtstart", item.start)
            event.add("dtend", item.start + dt.timedelta(days=1))
        else:
            start = item.start.astimezone(tz)
            end = item.end.astimezone(tz) if isinstance(item.end, dt.datetime) else None
            event.add("dtstart", start)
            event.add("dtend", end if end and end > start else start + DEFAULT_DURATION)
        event.add("url", base_url.rstrip("/") + item.url)
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()
