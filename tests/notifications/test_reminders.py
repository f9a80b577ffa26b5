"""Reminders fire once, at the right minute (the time is passed in), and never again."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import PermissionDenied
from kartoteka.notifications.models import Notification, Reminder, ReminderFiring
from kartoteka.notifications.reminder_services import ReminderError, save_reminder
from kartoteka.notifications.reminders import evaluate_reminders
from kartoteka.notifications.scheduler import run_tick
from kartoteka.records.services import create_record

MSK = ZoneInfo("Europe/Moscow")
SYSTEM = Actor.system("test")


def at(*args):
    return dt.datetime(*args, tzinfo=MSK)


def texts(user):
    return list(
        Notification.objects.filter(user=user).order_by("id").values_list("text", flat=True)
    )


def test_shipped_reminders_are_enabled(crm):
    assert sorted(Reminder.objects.filter(enabled=True).values_list("key", flat=True)) == [
        "client_work_due",
        "task_deadline_tomorrow",
        "task_overdue",
    ]


def test_planned_client_work_reminds_its_manager_at_nine_on_its_date_once(
    admin, manager_user, table
):
    # given a planned call on 26.11.2026 and a done one the same day, for the manager's client
    firm = create_record(
        admin, table("counterparties"), {"name": "ООО Ромашка", "manager": manager_user.pk}
    )
    for done in (False, True):
        create_record(
            admin,
            table("client_work"),
            {
                "counterparty": firm.pk,
                "date": dt.date(2026, 11, 26),
                "work_type": "call",
                "done": done,
                "manager": manager_user.pk,
            },
        )
    # when the minute before comes, nothing
    assert evaluate_reminders(at(2026, 11, 26, 8, 59)) == 0
    # when nine o'clock comes
    assert evaluate_reminders(at(2026, 11, 26, 9, 0)) == 1
    # then and never again
    assert evaluate_reminders(at(2026, 11, 26, 9, 1)) == 0
    assert evaluate_reminders(at(2026, 11, 26, 15, 0)) == 0
    assert texts(manager_user) == ["Запланировано на 26.11.2026: Звонок — «ООО Ромашка»"]
    note = Notification.objects.get(user=manager_user)
    assert note.table.key == "client_work" and note.created_at == at(2026, 11, 26, 9, 0)


def test_task_reminds_its_assignee_a_day_before_and_when_overdue(admin, manager_user, table):
    # given
    task = create_record(
        admin,
        table("tasks"),
        {"title": "Сдать отчёт", "assignee": manager_user.pk, "deadline": at(2026, 11, 27, 18, 0)},
    )
    Notification.objects.all().delete()
    # when the clock passes the two moments, minute by minute around them
    fired = [
        evaluate_reminders(moment)
        for moment in (
            at(2026, 11, 26, 17, 59),
            at(2026, 11, 26, 18, 0),
            at(2026, 11, 26, 18, 1),
            at(2026, 11, 27, 17, 59),
            at(2026, 11, 27, 18, 0),
            at(2026, 11, 27, 18, 1),
            at(2026, 11, 28, 9, 0),
        )
    ]
    # then
    assert fired == [0, 1, 0, 0, 1, 0, 0]
    assert texts(manager_user) == [
        "Завтра срок задания «Сдать отчёт»: 27.11.2026 18:00",
        "Задание «Сдать отчёт» просрочено: срок был 27.11.2026 18:00",
    ]
    assert set(ReminderFiring.objects.values_list("record_id", flat=True)) == {task.pk}


def test_a_finished_task_is_not_reminded(admin, manager_user, table):
    # given
    task = create_record(
        admin,
        table("tasks"),
        {"title": "Позвонить", "assignee": manager_user.pk, "deadline": at(2026, 11, 27, 12, 0)},
    )
    create_record(
        Actor.for_user(manager_user),
        table("task_work"),
        {"task": task.pk, "date": dt.date(2026, 11, 26), "done": True, "state": "done"},
    )
    Notification.objects.all().delete()
    # when
    fired = evaluate_reminders(at(2026, 11, 27, 12, 0))
    # then
    assert fired == 0 and not Notification.objects.exists()


def test_the_scheduler_runs_each_minute_once(admin, manager_user, table):
    # given
    create_record(
        admin,
        table("tasks"),
        {"title": "Сдать отчёт", "assignee": manager_user.pk, "deadline": at(2026, 11, 27, 18, 0)},
    )
    # when two workers tick in the same minute
    first = run_tick(at(2026, 11, 27, 18, 0, 5), worker="a")
    second = run_tick(at(2026, 11, 27, 18, 0, 40), worker="b")
    # then only the first evaluates it
    assert (first, second) == (1, None)


def test_a_configured_reminder_with_fixed_users_group_and_placeholders(
    admin, admin_user, manager_user, table
):
    # given «as soon as a counterparty is refused, tell the managers' group and the boss»
    from django.contrib.auth.models import Group

    reminder = save_reminder(
        admin,
        table("counterparties"),
        {
            "name": "Отказ",
            "enabled": True,
            "saved_view": None,
            "conditions": [["city", "eq", "Тула"]],
            "match": "all",
            "recipient_field": "",
            "users": [admin_user],
            "group": Group.objects.get(name="Менеджеры"),
            "message": "Клиент {name} из {city}: {unknown}",
            "moment": "match",
            "date_field": "",
            "offset_minutes": 0,
            "at_time": None,
            "in_app": True,
            "by_email": False,
        },
    )
    # (the manager's own client: a reminder tells only those who may read the record)
    create_record(
        admin,
        table("counterparties"),
        {"name": "ООО Тула", "city": "Тула", "manager": manager_user.pk},
    )
    create_record(admin, table("counterparties"), {"name": "ООО Орёл", "city": "Орёл"})
    # when
    first = evaluate_reminders(at(2026, 11, 26, 10, 0))
    again = evaluate_reminders(at(2026, 11, 26, 10, 1))
    # then
    assert (first, again) == (1, 0)
    notes = Notification.objects.filter(kind=f"reminder:{reminder.pk}")
    assert sorted(notes.values_list("user_id", "text")) == [
        (admin_user.pk, "Клиент ООО Тула из Тула: {unknown}"),
        (manager_user.pk, "Клиент ООО Тула из Тула: {unknown}"),
    ]


def test_a_reminder_tells_only_who_may_read_the_record_and_hides_hidden_fields(
    admin, admin_user, manager_user, table
):
    # given: a group with «ИНН» hidden, a manager of it, and a reminder to every manager
    from django.contrib.auth.models import Group

    from kartoteka.access import services as access
    from kartoteka.accounts.services import create_user
    from kartoteka.tables.models import Field

    managers = Group.objects.get(name="Менеджеры")
    hidden = access.create_group(admin, "Без ИНН", copy_from=managers)
    access.set_field_rights(
        admin, hidden, Field.objects.get(table__key="counterparties", key="inn"), access="hidden"
    )
    noinn = create_user(
        SYSTEM, username="noinn", password="Xk2#pLq9!vR", group="Без ИНН", check_password=False
    )
    reminder = save_reminder(
        admin,
        table("counterparties"),
        {
            "name": "Новый",
            "enabled": True,
            "saved_view": None,
            "conditions": [["city", "eq", "Тула"]],
            "match": "all",
            "recipient_field": "",
            "users": [admin_user, manager_user, noinn],
            "group": None,
            "message": "Клиент {name}, ИНН {inn}",
            "moment": "match",
            "date_field": "",
            "offset_minutes": 0,
            "at_time": None,
            "in_app": True,
            "by_email": False,
        },
    )
    # when: a client of the hidden group's manager matches
    create_record(
        admin,
        table("counterparties"),
        {"name": "ООО Тула", "city": "Тула", "inn": "7707083893", "manager": noinn.pk},
    )
    evaluate_reminders(at(2026, 11, 26, 10, 0))
    # then: the administrator reads everything, the other manager (not his client) gets nothing,
    # the client's manager gets it without the INN he may not see
    notes = Notification.objects.filter(kind=f"reminder:{reminder.pk}")
    assert sorted(notes.values_list("user_id", "text")) == [
        (admin_user.pk, "Клиент ООО Тула, ИНН 7707083893"),
        (noinn.pk, "Клиент ООО Тула, ИНН —"),
    ]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"recipient_field": ""}, "no_recipients"),
        ({"in_app": False}, "no_channel"),
        ({"date_field": "title"}, "no_date_field"),
        ({"conditions": [["nope", "eq", "1"]]}, "bad_condition"),
    ],
)
def test_a_reminder_that_could_never_fire_is_refused(admin, table, change, code):
    values = {
        "name": "Плохое",
        "enabled": True,
        "saved_view": None,
        "conditions": [],
        "match": "all",
        "recipient_field": "assignee",
        "users": [],
        "group": None,
        "message": "…",
        "moment": "date",
        "date_field": "deadline",
        "offset_minutes": 0,
        "at_time": None,
        "in_app": True,
        "by_email": False,
        **change,
    }
    before = Reminder.objects.count()
    with pytest.raises(ReminderError) as err:
        save_reminder(admin, table("tasks"), values)
    assert err.value.code == code
    assert Reminder.objects.count() == before


def test_only_an_administrator_configures_reminders(manager_user, table):
    with pytest.raises(PermissionDenied):
        save_reminder(Actor.for_user(manager_user), table("tasks"), {})
