"""The profile: own name and contacts in step with «Сотрудники», password, time zone, sessions."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from django.test import Client

from kartoteka.access.models import AuditEvent

PASSWORD = "Xk2#pLq9!vR"


def _employee(user):
    from kartoteka.tables.modelfactory import model_for
    from kartoteka.tables.models import Table

    return model_for(Table.objects.get(key="employees")).objects.get(user_id=user.pk)


def test_own_name_email_and_phone_change_the_user_and_his_employee_record(client, manager_user):
    client.force_login(manager_user)
    response = client.post(
        "/profile/",
        {
            "last_name": "Иванов",
            "first_name": "Иван",
            "middle_name": "Петрович",
            "email": "ivan@example.ru",
            "phone": "+7 912 345-67-89",
        },
    )
    assert response.status_code == 302
    manager_user.refresh_from_db()
    assert (manager_user.last_name, manager_user.first_name) == ("Иванов", "Иван Петрович")
    assert manager_user.email == "ivan@example.ru"
    record = _employee(manager_user)
    assert record.full_name == "Иванов Иван Петрович"
    assert record.email == "ivan@example.ru"
    assert record.phone == "+79123456789"
    page = client.get("/profile/").content.decode()
    assert 'name="middle_name" value="Петрович"' in page


def test_an_email_of_another_user_is_refused_and_nothing_changes(client, manager_user, admin_user):
    client.force_login(manager_user)
    response = client.post(
        "/profile/", {"last_name": "Другой", "first_name": "Иван", "email": "boss@example.ru"}
    )
    assert response.status_code == 400
    assert "уже указан у другого пользователя" in response.content.decode()
    manager_user.refresh_from_db()
    assert (manager_user.last_name, manager_user.email) == ("Иванов", "ivanov@example.ru")
    assert _employee(manager_user).full_name == "Иванов Иван"


def test_password_change_needs_the_old_one_and_a_strong_new_one(client, manager_user):
    client.force_login(manager_user)
    wrong = client.post(
        "/profile/password/",
        {"old_password": "нет", "new_password": "Vn4$mZq8!tW", "new_password2": "Vn4$mZq8!tW"},
    )
    assert "Текущий пароль введён неверно." in wrong.content.decode()
    weak = client.post(
        "/profile/password/",
        {"old_password": PASSWORD, "new_password": "12345678", "new_password2": "12345678"},
    )
    assert weak.status_code == 400
    assert "Введённый пароль слишком широко распространён." in weak.content.decode()
    manager_user.refresh_from_db()
    assert manager_user.check_password(PASSWORD)
    # when: right
    other = Client()
    other.force_login(manager_user)
    done = client.post(
        "/profile/password/",
        {"old_password": PASSWORD, "new_password": "Vn4$mZq8!tW", "new_password2": "Vn4$mZq8!tW"},
    )
    # then: this session stays, the other ends
    assert done.status_code == 302
    assert client.get("/profile/").status_code == 200
    assert other.get("/profile/").status_code == 302
    assert AuditEvent.objects.filter(message="Пользователь ivanov сменил пароль").exists()


def test_the_users_time_zone_shows_dates_in_it(client, admin_user):
    # given: an event at 09:00 UTC, shown in Moscow by default
    AuditEvent.objects.create(
        kind=AuditEvent.RIGHTS,
        created_at=dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC),
        message="Проверка пояса",
    )
    client.force_login(admin_user)
    assert "02.11.2026 12:00:00" in client.get("/settings/access/audit/").content.decode()
    # when
    client.post(
        "/profile/", {"last_name": "Петров", "first_name": "Пётр", "time_zone": "Asia/Vladivostok"}
    )
    # then
    page = client.get("/settings/access/audit/").content.decode()
    assert "02.11.2026 19:00:00" in page
    # and after the next log-in too
    client.post("/logout/")
    client.post("/login/", {"username": "boss", "password": PASSWORD})
    assert "02.11.2026 19:00:00" in client.get("/settings/access/audit/").content.decode()


def test_a_reminder_tells_its_time_in_the_recipients_time_zone(admin, manager_user, table):
    # given: a task due at 18:00 in Moscow, its assignee in Vladivostok (7 hours ahead)
    from kartoteka.notifications.models import Notification
    from kartoteka.notifications.reminders import evaluate_reminders
    from kartoteka.profiles.models import Profile
    from kartoteka.records.services import create_record

    msk = zoneinfo.ZoneInfo("Europe/Moscow")
    Profile.objects.create(user=manager_user, time_zone="Asia/Vladivostok")
    create_record(
        admin,
        table("tasks"),
        {
            "title": "Сдать отчёт",
            "assignee": manager_user.pk,
            "deadline": dt.datetime(2026, 11, 27, 18, 0, tzinfo=msk),
        },
    )
    Notification.objects.all().delete()
    # when
    evaluate_reminders(dt.datetime(2026, 11, 27, 18, 0, tzinfo=msk))
    # then
    assert list(Notification.objects.filter(user=manager_user).values_list("text", flat=True)) == [
        "Задание «Сдать отчёт» просрочено: срок был 28.11.2026 01:00"
    ]


def test_an_unknown_time_zone_is_refused(client, manager_user):
    client.force_login(manager_user)
    response = client.post(
        "/profile/", {"last_name": "Иванов", "first_name": "Иван", "time_zone": "Mars/Olympus"}
    )
    assert response.status_code == 400
    assert "Неизвестный часовой пояс «Mars/Olympus»." in response.content.decode()


def test_the_language_applies_from_the_next_request(client, manager_user):
    client.force_login(manager_user)
    client.post("/profile/", {"last_name": "Иванов", "first_name": "Иван", "language": "en"})
    assert '<html lang="en">' in client.get("/profile/").content.decode()


def _session_ids(page: str) -> list[str]:
    return re.findall(r'data-session="([0-9a-f]+)"', page)


def test_ending_another_session_logs_that_browser_out(client, manager_user):
    # given: two browsers
    client.post(
        "/login/",
        {"username": "ivanov", "password": PASSWORD},
        HTTP_USER_AGENT="Firefox/120 (Windows)",
    )
    phone = Client(HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14) Chrome/120 Safari/537")
    phone.post("/login/", {"username": "ivanov", "password": PASSWORD})
    page = client.get("/profile/").content.decode()
    ids = _session_ids(page)
    assert len(ids) == 2
    assert "Chrome, Android" in page and "этот сеанс" in page
    other = ids[1]  # the current session comes first
    # when
    assert client.post(f"/profile/sessions/{other}/end/").status_code == 302
    # then
    assert phone.get("/profile/")["Location"].startswith("/login/")
    assert client.get("/profile/").status_code == 200
    assert _session_ids(client.get("/profile/").content.decode()) == ids[:1]


def test_end_all_but_this(client, manager_user, admin_user):
    client.force_login(manager_user)
    others = [Client() for _ in range(2)]
    for other in others:
        other.force_login(manager_user)
    boss = Client()
    boss.force_login(admin_user)
    client.post("/profile/sessions/end-others/")
    assert [o.get("/profile/").status_code for o in others] == [302, 302]
    assert client.get("/profile/").status_code == 200
    assert boss.get("/profile/").status_code == 200
