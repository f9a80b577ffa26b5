"""The bell, the list, marking read, opening the record, and the e-mail copy through a real SMTP
server on loopback (aiosmtpd)."""

from __future__ import annotations

import email
from email import policy

import pytest
from django.test import override_settings

from kartoteka.core.actor import Actor
from kartoteka.notifications.models import Notification
from kartoteka.notifications.services import notify, set_email_preference
from kartoteka.records.services import create_record


@pytest.fixture
def manager_client(client, manager_user):
    client.force_login(manager_user)
    return client


def assign(admin, table, manager_user, title="Подготовить КП"):
    return create_record(admin, table("tasks"), {"title": title, "assignee": manager_user.pk})


def test_bell_shows_the_unread_count(admin, table, manager_user, manager_client):
    # given
    assign(admin, table, manager_user)
    assign(admin, table, manager_user, "Второе")
    # when
    bell = manager_client.get("/notifications/bell/").content.decode()
    page = manager_client.get("/").content.decode()
    # then
    assert 'data-testid="bell-count">2</span>' in bell
    assert 'hx-trigger="every 15s' in bell
    assert 'data-testid="bell-count">2</span>' in page


def test_clicking_a_notification_marks_it_read_and_opens_the_task(
    admin, table, manager_user, manager_client
):
    # given
    task = assign(admin, table, manager_user)
    note = Notification.objects.get(user=manager_user)
    # when
    response = manager_client.get(f"/notifications/{note.pk}/")
    # then
    assert response.status_code == 302 and response["Location"] == f"/t/tasks/{task.pk}/"
    note.refresh_from_db()
    assert note.read_at is not None
    assert "bell-count" not in manager_client.get("/notifications/bell/").content.decode()


def test_someone_elses_notification_is_not_found(admin, admin_user, table, manager_user, client):
    # given
    assign(admin, table, manager_user)
    note = Notification.objects.get(user=manager_user)
    client.force_login(admin_user)
    # when
    response = client.get(f"/notifications/{note.pk}/")
    # then
    assert response.status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_mark_one_and_all_read(admin, table, manager_user, manager_client):
    # given
    for title in ("Первое", "Второе", "Третье"):
        assign(admin, table, manager_user, title)
    first = Notification.objects.filter(user=manager_user).order_by("id").first()
    # when
    manager_client.post("/notifications/read/", {"id": first.pk})
    # then
    assert Notification.objects.filter(user=manager_user, read_at__isnull=True).count() == 2
    page = manager_client.get("/notifications/").content.decode()
    assert page.count('data-testid="notification"') == 3
    # when
    manager_client.post("/notifications/read/")
    # then
    assert not Notification.objects.filter(user=manager_user, read_at__isnull=True).exists()


def test_the_e_mail_setting_sends_a_copy_through_smtp(
    admin,
    table,
    manager_user,
    manager_client,
    smtp,
    django_capture_on_commit_callbacks,
):
    # given the manager asks for e-mail copies
    manager_client.post("/notifications/email/", {"by_email": "on"})
    # when a task is assigned to him (jobs run at once in this test)
    with (
        override_settings(
            TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
            KARTOTEKA_BASE_URL="https://crm.example.ru",
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        task = assign(admin, table, manager_user)
    # then one letter reached the SMTP server
    assert len(smtp.messages) == 1
    _sender, recipients, raw = smtp.messages[0]
    message = email.message_from_bytes(raw, policy=policy.default)
    assert recipients == ["ivanov@example.ru"]
    assert message["Subject"].strip() == "Вам назначено задание «Подготовить КП»"
    assert f"https://crm.example.ru/t/tasks/{task.pk}/" in message.get_content()


def test_without_the_setting_no_letter_is_sent(
    admin,
    table,
    manager_user,
    smtp,
    django_capture_on_commit_callbacks,
):
    set_email_preference(Actor.for_user(manager_user), False)
    with (
        override_settings(
            TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assign(admin, table, manager_user)
    assert smtp.messages == []
    assert Notification.objects.filter(user=manager_user).count() == 1


def test_notify_skips_the_excluded_and_inactive_users(admin_user, manager_user):
    # given
    manager_user.is_active = False
    manager_user.save()
    # when
    created = notify([admin_user.pk, manager_user.pk, None], "Привет", exclude=None)
    # then
    assert [n.user_id for n in created] == [admin_user.pk]
    assert notify([admin_user.pk], "Себе", exclude=admin_user.pk) == []


def test_reminder_settings_are_for_administrators(client, manager_user, admin_user):
    client.force_login(manager_user)
    assert client.get("/notifications/reminders/").status_code == 403
    client.force_login(admin_user)
    page = client.get("/notifications/reminders/").content.decode()
    assert "Задание просрочено" in page and "Запланированная работа с клиентом" in page


def test_administrator_creates_a_reminder_in_the_form(client, admin_user):
    # given
    client.force_login(admin_user)
    form = client.get("/notifications/reminders/new/?table=tasks")
    assert form.status_code == 200
    # when
    response = client.post(
        "/notifications/reminders/new/",
        {
            "table": "tasks",
            "name": "Срочные задания",
            "enabled": "on",
            "conditions": "priority eq urgent\nstate in new,in_progress",
            "match": "all",
            "recipient_field": "assignee",
            "message": "Срочно: {title}",
            "moment": "date",
            "date_field": "deadline",
            "offset": "-2",
            "unit": "hours",
            "in_app": "on",
        },
    )
    # then
    assert response.status_code == 302
    from kartoteka.notifications.models import Reminder

    saved = Reminder.objects.get(name="Срочные задания")
    assert saved.conditions == [
        ["priority", "eq", "urgent"],
        ["state", "in", ["new", "in_progress"]],
    ]
    assert (saved.offset_minutes, saved.recipient_field, saved.table.key) == (
        -120,
        "assignee",
        "tasks",
    )
    # when a bad one is posted
    bad = client.post(
        "/notifications/reminders/new/",
        {
            "table": "tasks",
            "name": "Плохое",
            "match": "all",
            "message": "x",
            "moment": "date",
            "date_field": "",
            "offset": "0",
            "unit": "minutes",
            "in_app": "on",
            "recipient_field": "assignee",
        },
    )
    # then it is refused with a message and nothing is saved
    assert bad.status_code == 200
    assert "Выберите поле даты" in bad.content.decode()
    assert not Reminder.objects.filter(name="Плохое").exists()
