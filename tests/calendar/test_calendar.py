"""«Календарь»: items of date fields on their days, the user filter, moving by drag and drop
(through the records service: rules and history hold), the header counts."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from kartoteka.core.actor import Actor
from kartoteka.records.models import RecordChange
from kartoteka.records.services import create_record
from kartoteka.tables.modelfactory import model_for

MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture
def manager_client(client, manager_user):
    client.force_login(manager_user)
    return client


@pytest.fixture
def agenda(admin, admin_user, manager_user, table):
    firm = create_record(
        admin, table("counterparties"), {"name": "ООО Ромашка", "manager": manager_user.pk}
    )
    work = create_record(
        admin,
        table("client_work"),
        {
            "counterparty": firm.pk,
            "date": dt.date(2026, 11, 10),
            "work_type": "meeting",
            "manager": manager_user.pk,
        },
    )
    task = create_record(
        admin,
        table("tasks"),
        {
            "title": "Сдать отчёт",
            "assignee": manager_user.pk,
            "priority": "urgent",
            "deadline": dt.datetime(2026, 11, 12, 18, 30, tzinfo=MSK),
        },
    )
    other = create_record(
        admin,
        table("tasks"),
        {
            "title": "Чужое задание",
            "assignee": admin_user.pk,
            "deadline": dt.datetime(2026, 11, 12, 10, 0, tzinfo=MSK),
        },
    )
    event = create_record(
        Actor.for_user(manager_user),
        table("events"),
        {
            "title": "Выставка",
            "start": dt.datetime(2026, 11, 20, 10, 0, tzinfo=MSK),
            "end": dt.datetime(2026, 11, 20, 17, 0, tzinfo=MSK),
        },
    )
    return {"work": work, "task": task, "other": other, "event": event}


def _day(html: str, day: str) -> str:
    start = html.index(f'data-testid="day-{day}"')
    end = html.find('data-testid="day-', start + 10)
    return html[start:end]


def test_month_view_shows_my_items_on_their_days(manager_client, agenda):
    # when
    html = manager_client.get("/calendar/?view=month&date=2026-11-05").content.decode()
    # then
    assert "ООО Ромашка" in _day(html, "2026-11-10")
    assert "Сдать отчёт" in _day(html, "2026-11-12")
    assert "18:30" in _day(html, "2026-11-12")
    assert "--c: #dc3545" in _day(html, "2026-11-12")  # coloured by priority «Срочный»
    assert "Выставка" in _day(html, "2026-11-20")
    assert "Чужое задание" not in html
    assert 'data-testid="day-2026-10-26"' in html and 'data-testid="day-2026-12-06"' in html


def test_all_users_and_week_and_day_views(manager_client, agenda):
    week = manager_client.get("/calendar/?view=week&date=2026-11-12&user=all").content.decode()
    day = manager_client.get("/calendar/?view=day&date=2026-11-12&user=all").content.decode()
    assert "Чужое задание" in _day(week, "2026-11-12") and "ООО Ромашка" in _day(week, "2026-11-10")
    assert day.count('data-testid="day-') == 1
    assert "Чужое задание" in day and "Сдать отчёт" in day and "ООО Ромашка" not in day


def test_drag_to_the_next_day_moves_the_deadline_keeping_the_time(
    manager_client, agenda, manager_user, table
):
    # when
    task = agenda["task"]
    response = manager_client.post(
        "/calendar/move/",
        {"table": "tasks", "pk": task.pk, "field": "deadline", "date": "2026-11-13"},
    )
    # then
    assert response.status_code == 200 and response.json() == {"ok": True}
    moved = model_for(table("tasks")).objects.get(pk=task.pk)
    assert timezone.localtime(moved.deadline) == dt.datetime(2026, 11, 13, 18, 30, tzinfo=MSK)
    change = RecordChange.objects.filter(table=table("tasks"), record_id=task.pk).latest("id")
    assert (change.user_id, change.source) == (manager_user.pk, "calendar")
    assert change.changes == {
        "deadline": ["2026-11-12T18:30:00+03:00", "2026-11-13T18:30:00+03:00"]
    }


def test_moving_an_event_moves_its_end_too(manager_client, agenda, table):
    event = agenda["event"]
    manager_client.post(
        "/calendar/move/",
        {"table": "events", "pk": event.pk, "field": "start", "date": "2026-11-22"},
    )
    moved = model_for(table("events")).objects.get(pk=event.pk)
    assert timezone.localtime(moved.start) == dt.datetime(2026, 11, 22, 10, 0, tzinfo=MSK)
    assert timezone.localtime(moved.end) == dt.datetime(2026, 11, 22, 17, 0, tzinfo=MSK)


def test_a_move_the_rules_refuse_changes_nothing(admin, manager_client, table, manager_user):
    # given a client's work row from his potential period, locked after payment
    from kartoteka.records.services import update_record

    firm = create_record(
        admin, table("counterparties"), {"name": "ООО Клиент", "manager": manager_user.pk}
    )
    row = create_record(
        admin,
        table("client_work"),
        {
            "counterparty": firm.pk,
            "date": dt.date(2026, 11, 10),
            "work_type": "call",
            "done": True,
            "status": "interested",
            "manager": manager_user.pk,
        },
    )
    update_record(Actor.system("t"), table("counterparties"), firm.pk, {"type": "client"})
    # when
    response = manager_client.post(
        "/calendar/move/",
        {"table": "client_work", "pk": row.pk, "field": "date", "date": "2026-11-11"},
    )
    # then
    assert response.status_code == 400
    assert "после оплаты" in response.json()["error"]
    assert model_for(table("client_work")).objects.get(pk=row.pk).date == dt.date(2026, 11, 10)


def test_header_counts_today_and_tomorrow(admin, manager_user, manager_client, table):
    today = timezone.localdate()
    for days, title in ((0, "Сегодня 1"), (0, "Сегодня 2"), (1, "Завтра")):
        create_record(
            admin,
            table("tasks"),
            {
                "title": title,
                "assignee": manager_user.pk,
                "deadline": timezone.make_aware(
                    dt.datetime.combine(today + dt.timedelta(days=days), dt.time(15, 0))
                ),
            },
        )
    html = manager_client.get("/calendar/counts/").content.decode()
    assert 'title="сегодня 2 · завтра 1"' in html
    assert 'data-testid="today-count"><span class="visually-hidden">сегодня </span>2' in html


def test_colour_by_another_choice_field(manager_client, agenda):
    html = manager_client.get(
        "/calendar/?date=2026-11-12&source=tasks.deadline&color=tasks.state"
    ).content.decode()
    assert "--c: #0dcaf0" in _day(html, "2026-11-12")  # «Новое»
    assert '<option value="tasks.state" selected>' in html
    assert "ООО Ромашка" not in html  # only the chosen source
