"""The personal ICS feed: valid iCalendar with the user's items in Moscow time; revocable."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.utils import timezone

from kartoteka.calendar.models import CalendarFeed
from kartoteka.core.actor import Actor
from kartoteka.records.services import create_record

MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture
def feed_url(client, manager_user):
    client.force_login(manager_user)
    client.post("/calendar/feed/new/")
    token = CalendarFeed.objects.get(user=manager_user, revoked_at__isnull=True).token
    client.logout()
    return f"/calendar/feed/{token}.ics"


def test_feed_holds_my_planned_work_tasks_and_events_in_moscow_time(
    client, admin, admin_user, manager_user, table, feed_url
):
    # given
    soon = timezone.localdate() + dt.timedelta(days=3)
    firm = create_record(
        admin, table("counterparties"), {"name": "ООО Ромашка", "manager": manager_user.pk}
    )
    for done in (False, True):
        # (a person cannot mark work in the future done — decision 0008 — the system can)
        create_record(
            Actor.system("tests") if done else admin,
            table("client_work"),
            {
                "counterparty": firm.pk,
                "date": soon,
                "work_type": "call",
                "done": done,
                "manager": manager_user.pk,
            },
        )
    deadline = dt.datetime.combine(soon, dt.time(18, 30), tzinfo=MSK)
    task = create_record(
        admin,
        table("tasks"),
        {"title": "Сдать отчёт", "assignee": manager_user.pk, "deadline": deadline},
    )
    create_record(
        admin,
        table("tasks"),
        {"title": "Чужое", "assignee": admin_user.pk, "deadline": deadline},
    )
    create_record(
        Actor.for_user(manager_user),
        table("events"),
        {
            "title": "Выставка",
            "start": dt.datetime.combine(soon, dt.time(10, 0), tzinfo=MSK),
            "end": dt.datetime.combine(soon, dt.time(17, 0), tzinfo=MSK),
        },
    )
    # when
    response = client.get(feed_url)
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    cal = icalendar.Calendar.from_ical(response.content)
    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    assert sorted(events) == [
        "Задания: Сдать отчёт",
        "Работа с клиентом: ООО Ромашка — Звонок",
        "События: Выставка",
    ]
    task_event = events["Задания: Сдать отчёт"]
    assert task_event["uid"].startswith(f"tasks-{task.pk}@")
    assert task_event["dtstart"].dt == deadline
    assert str(task_event["dtstart"].dt.tzinfo) == "Europe/Moscow"
    assert task_event["dtstart"].params["TZID"] == "Europe/Moscow"
    assert task_event["dtend"].dt == deadline + dt.timedelta(hours=1)
    fair = events["События: Выставка"]
    assert (fair["dtstart"].dt.hour, fair["dtend"].dt.hour) == (10, 17)
    work = events["Работа с клиентом: ООО Ромашка — Звонок"]
    assert work["dtstart"].dt == soon and not isinstance(work["dtstart"].dt, dt.datetime)
    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Moscow"]


def test_a_revoked_token_gets_404(client, manager_user, feed_url):
    # given
    assert client.get(feed_url).status_code == 200
    client.force_login(manager_user)
    # when
    client.post("/calendar/feed/revoke/")
    client.logout()
    # then
    assert client.get(feed_url).status_code == 404
    assert client.get("/calendar/feed/not-a-token.ics").status_code == 404


def test_a_new_link_replaces_the_old_one(client, manager_user, feed_url):
    client.force_login(manager_user)
    client.post("/calendar/feed/new/")
    new = CalendarFeed.objects.get(user=manager_user, revoked_at__isnull=True)
    page = client.get("/calendar/").content.decode()
    client.logout()
    assert client.get(feed_url).status_code == 404
    assert client.get(f"/calendar/feed/{new.token}.ics").status_code == 200
    assert f"/calendar/feed/{new.token}.ics" in page
