"""«Задания» and «Работа по заданию»: the author, the state following the work, the reopen rule,
assignment notifications, «Назначить задание»."""

from __future__ import annotations

import datetime as dt

import pytest

from kartoteka.accounts.services import create_user
from kartoteka.core.actor import MANAGERS_GROUP, Actor
from kartoteka.core.exceptions import RuleViolation
from kartoteka.notifications.models import Notification
from kartoteka.records.models import RecordChange
from kartoteka.records.services import create_record, update_record
from kartoteka.tables.modelfactory import model_for


@pytest.fixture
def other_manager(crm):
    return create_user(
        Actor.system("test"),
        username="sidorov",
        password="Xk2#pLq9!vR",
        group=MANAGERS_GROUP,
        full_name="Сидоров Сидор",
        email="sidorov@example.ru",
    )


def make_task(actor, table, assignee, **values):
    return create_record(
        actor, table("tasks"), {"title": "Подготовить КП", "assignee": assignee.pk, **values}
    )


def add_work(actor, table, task, *, state, done=True, day=dt.date(2026, 11, 20)):
    return create_record(
        actor,
        table("task_work"),
        {"task": task.pk, "date": day, "done": done, "state": state, "description": "этап"},
    )


def reload(table, key, pk):
    return model_for(table(key)).objects.get(pk=pk)


def test_assignment_notifies_the_assignee_once_and_not_the_author(
    admin, admin_user, manager_user, table
):
    # when
    task = make_task(admin, table, manager_user)
    # then
    notes = list(Notification.objects.all())
    assert [(n.user_id, n.text, n.table.key, n.record_id, n.kind) for n in notes] == [
        (
            manager_user.pk,
            "Вам назначено задание «Подготовить КП»",
            "tasks",
            task.pk,
            "task_assigned",
        )
    ]
    assert reload(table, "tasks", task.pk).author_id == admin_user.pk
    assert not Notification.objects.filter(user=admin_user).exists()


def test_reassignment_notifies_the_new_assignee_and_self_assignment_nobody(
    admin, admin_user, manager_user, other_manager, table
):
    # given
    task = make_task(admin, table, manager_user)
    # when
    update_record(admin, table("tasks"), task.pk, {"assignee": other_manager.pk})
    update_record(admin, table("tasks"), task.pk, {"title": "КП для завода"})
    mine = make_task(admin, table, admin_user)
    # then
    assert list(Notification.objects.order_by("id").values_list("user_id", "record_id")) == [
        (manager_user.pk, task.pk),
        (other_manager.pk, task.pk),
    ]
    assert mine.pk != task.pk


def test_state_follows_the_latest_done_row_and_planned_rows_change_nothing(
    admin, manager_user, table
):
    # given
    task = make_task(admin, table, manager_user)
    manager = Actor.for_user(manager_user)
    # when
    first = add_work(manager, table, task, state="in_progress", day=dt.date(2026, 11, 20))
    add_work(manager, table, task, state="done", done=False, day=dt.date(2026, 11, 21))
    # then
    assert reload(table, "task_work", first.pk).state_before == "new"
    assert reload(table, "tasks", task.pk).state == "in_progress"
    # when the last row is done
    add_work(manager, table, task, state="done", day=dt.date(2026, 11, 22))
    # then
    assert reload(table, "tasks", task.pk).state == "done"
    changes = RecordChange.objects.filter(table=table("tasks"), record_id=task.pk, action="update")
    assert [c.changes["state"] for c in changes.order_by("id")] == [
        ["new", "in_progress"],
        ["in_progress", "done"],
    ]


def test_state_cannot_be_set_directly(admin, manager_user, table):
    # given
    task = make_task(admin, table, manager_user)
    # when / then
    with pytest.raises(RuleViolation) as err:
        update_record(admin, table("tasks"), task.pk, {"state": "done"})
    assert err.value.rule == "task_state_follows_work"
    assert reload(table, "tasks", task.pk).state == "new"


def test_a_done_task_is_reopened_only_by_its_author_or_an_administrator(
    admin, admin_user, manager_user, other_manager, table
):
    # given a task the manager wrote for a colleague, and finished
    manager = Actor.for_user(manager_user)
    task = make_task(manager, table, other_manager)
    colleague = Actor.for_user(other_manager)
    add_work(colleague, table, task, state="done", day=dt.date(2026, 11, 20))
    rows_before = model_for(table("task_work")).objects.count()
    # when the assignee, who is not the author, reopens it
    with pytest.raises(RuleViolation) as err:
        add_work(colleague, table, task, state="in_progress", day=dt.date(2026, 11, 21))
    # then nothing changed
    assert err.value.rule == "task_reopen_author_only"
    assert "только его автор или администратор" in err.value.message
    assert reload(table, "tasks", task.pk).state == "done"
    assert model_for(table("task_work")).objects.count() == rows_before
    # when the author reopens it
    add_work(manager, table, task, state="in_progress", day=dt.date(2026, 11, 21))
    assert reload(table, "tasks", task.pk).state == "in_progress"
    # and an administrator may reopen a cancelled one
    add_work(manager, table, task, state="cancelled", day=dt.date(2026, 11, 22))
    add_work(admin, table, task, state="new", day=dt.date(2026, 11, 23))
    assert reload(table, "tasks", task.pk).state == "new"
    history = RecordChange.objects.filter(table=table("tasks"), record_id=task.pk).order_by("id")
    assert [(c.user_id, c.changes["state"]) for c in history if "state" in c.changes][-2:] == [
        (manager_user.pk, ["in_progress", "cancelled"]),
        (admin_user.pk, ["cancelled", "new"]),
    ]


def test_a_work_row_from_someone_else_notifies_assignee_and_author(
    admin, admin_user, manager_user, table
):
    # given
    task = make_task(admin, table, manager_user)
    Notification.objects.all().delete()
    # when the assignee logs work
    add_work(Actor.for_user(manager_user), table, task, state="in_progress")
    # then only the author hears of it
    assert list(Notification.objects.values_list("user_id", "kind", "record_id")) == [
        (admin_user.pk, "task_work", task.pk)
    ]


def test_assign_task_buttons_prefill_the_new_task(client, admin_user, manager_user, table):
    # given
    client.force_login(admin_user)
    employee = model_for(table("employees")).objects.get(user_id=manager_user.pk)
    firm = create_record(Actor.system("t"), table("counterparties"), {"name": "ООО Ромашка"})
    # when
    card = client.get(f"/t/employees/{employee.pk}/").content.decode()
    firm_card = client.get(f"/t/counterparties/{firm.pk}/").content.decode()
    home = client.get("/").content.decode()
    form = client.get(f"/t/tasks/new/?counterparty={firm.pk}").content.decode()
    # then
    assert f'href="/t/tasks/new/?assignee={manager_user.pk}" data-action="assign_task"' in card
    assert f'href="/t/tasks/new/?counterparty={firm.pk}" data-action="assign_task"' in firm_card
    assert 'href="/t/tasks/new/" data-action="assign_task"' in home
    assert f'value="{firm.pk}"' in form and "ООО Ромашка" in form


def test_a_batch_of_tasks_notifies_with_a_fixed_number_of_queries(
    admin, manager_user, other_manager, table, django_assert_max_num_queries
):
    # given
    from kartoteka.records.services import create_records

    def batch(n):
        return [
            {"title": f"Задание {i}", "assignee": (manager_user, other_manager)[i % 2].pk}
            for i in range(n)
        ]

    create_records(admin, table("tasks"), batch(2))  # warm caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        create_records(admin, table("tasks"), batch(2))
    # when / then
    with django_assert_max_num_queries(len(few.captured_queries)):
        create_records(admin, table("tasks"), batch(40))
    assert Notification.objects.filter(kind="task_assigned").count() == 44
