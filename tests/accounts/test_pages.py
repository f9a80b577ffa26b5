"""The administrator's «Учётные записи» pages: a new employee with access, «Доступ в систему» from
the employee's card, a password set by hand and shown once, disabling with the session gone, and
handing clients over; bad input answers in Russian and changes nothing."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from kartoteka.core.actor import MANAGERS_GROUP
from kartoteka.records.services import create_record
from kartoteka.tables.modelfactory import model_for
from tests.accounts.test_accounts import PASSWORD, _make, _state
from tests.builders import SYSTEM


@pytest.fixture
def boss(client, admin_user):
    client.force_login(admin_user)
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_list_shows_each_user_with_last_log_in_and_failed_attempts(boss, admin, manager_user):
    Client().post("/login/", {"username": "ivanov", "password": "wrong"})
    response = boss.get("/settings/users/")
    assert response.status_code == 200
    rows = {row["username"]: row for row in response.context["users"]}
    assert (rows["ivanov"]["full_name"], rows["ivanov"]["failed_logins"]) == ("Иванов Иван", 1)
    assert rows["boss"]["last_login"] is not None
    assert 'data-username="ivanov"' in response.content.decode()


def test_a_new_employee_with_access_shows_the_password_once(boss, table):
    response = boss.post(
        "/settings/users/",
        {
            "full_name": "Орлова Анна Петровна",
            "username": "orlova",
            "email": "orlova@example.ru",
            "phone": "+79161234567",
            "position": "Менеджер",
            "group": MANAGERS_GROUP,
            "password": "",
        },
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    shown = re.search(r'data-testid="password">([^<]+)<', response.content.decode()).group(1)
    user = get_user_model().objects.get(username="orlova")
    assert user.check_password(shown)
    record = model_for(table("employees")).objects.get(user_id=user.pk)
    assert (record.full_name, record.phone, record.position) == (
        "Орлова Анна Петровна",
        "+79161234567",
        "Менеджер",
    )
    assert shown not in boss.get(f"/settings/users/{user.pk}/").content.decode()


def test_a_duplicate_login_on_the_page_is_refused_and_nothing_changes(boss, manager_user):
    before = _state()
    response = boss.post(
        "/settings/users/",
        {
            "full_name": "Иванов Пётр",
            "username": "Ivanov",
            "group": MANAGERS_GROUP,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 200
    assert _messages(response) == ["Пользователь «Ivanov» уже есть."]
    assert _state() == before


def test_the_employee_card_offers_access_and_gives_a_log_in(boss, table):
    record = create_record(
        SYSTEM, table("employees"), {"full_name": "Орлова Анна", "email": "orlova@example.ru"}
    )
    card = boss.get(f"/t/employees/{record.pk}/").content.decode()
    assert f'href="/settings/users/employee/{record.pk}/"' in card
    form = boss.get(f"/settings/users/employee/{record.pk}/")
    assert form.context["form"]["username"] == "orlova"
    response = boss.post(
        f"/settings/users/employee/{record.pk}/",
        {
            "username": "orlova",
            "email": "orlova@example.ru",
            "group": MANAGERS_GROUP,
            "password": PASSWORD,
        },
    )
    user = get_user_model().objects.get(username="orlova")
    assert PASSWORD in response.content.decode()
    assert model_for(table("employees")).objects.get(pk=record.pk).user_id == user.pk
    again = boss.get(f"/settings/users/employee/{record.pk}/")
    assert (again.status_code, again["Location"]) == (302, f"/settings/users/{user.pk}/")


def test_a_weak_password_set_by_hand_is_refused_in_russian(boss, manager_user):
    before = _state()
    response = boss.post(
        f"/settings/users/{manager_user.pk}/password/", {"password": "qwerty"}, follow=True
    )
    assert _messages(response) == [
        "Введённый пароль слишком короткий. Он должен состоять из как минимум 8 символов. "
        "Введённый пароль слишком широко распространён."
    ]
    assert _state() == before


def test_disabling_on_the_page_ends_his_session_and_handing_over_moves_his_clients(
    boss, admin, manager_user, table
):
    his = Client()
    his.force_login(manager_user)
    sidorov = _make(admin, "sidorov", "Сидоров Павел")
    cp = create_record(
        SYSTEM, table("counterparties"), {"name": "Ромашка", "manager": manager_user.pk}
    )
    response = boss.post(f"/settings/users/{manager_user.pk}/disable/", follow=True)
    assert _messages(response) == ["Доступ отключён: Иванов Иван больше не может войти."]
    assert his.get("/").status_code == 302
    response = boss.post(
        f"/settings/users/{manager_user.pk}/hand-over/", {"to": sidorov.pk}, follow=True
    )
    assert _messages(response) == [
        "Передано сотруднику Сидоров Павел: контрагентов 1, заданий 0, напоминаний 0."
    ]
    assert model_for(table("counterparties")).objects.get(pk=cp.pk).manager_id == sidorov.pk
    history = boss.get(f"/t/counterparties/{cp.pk}/").content.decode()
    assert "Петров Пётр" in history and "передача клиентов и заданий" in history


def test_disabling_oneself_as_the_last_administrator_is_refused(boss, admin_user):
    before = _state()
    response = boss.post(f"/settings/users/{admin_user.pk}/disable/", follow=True)
    assert _messages(response) == [
        "Петров Пётр — единственный активный администратор. Сначала назначьте "
        "администратором другого сотрудника."
    ]
    assert _state() == before


def test_a_group_given_manage_employees_reaches_the_pages(client, admin, accountant_user):
    # given: «Бухгалтерия» may not manage employees yet
    client.force_login(accountant_user)
    assert client.get("/settings/users/").status_code == 403
    boss = Client()
    boss.force_login(admin.user)
    group = Group.objects.get(name="Бухгалтерия")
    page = boss.get(f"/settings/access/g/{group.pk}/")
    assert 'name="perm:manage_employees"' in page.content.decode()
    # when: the administrator ticks «Управление сотрудниками» on the group's page
    boss.post(f"/settings/access/g/{group.pk}/", {"perm:manage_employees": "1"})
    # then
    assert list(group.permissions.values_list("codename", flat=True)) == ["manage_employees"]
    assert client.get("/settings/users/").status_code == 200


def test_a_password_set_by_hand_ends_his_sessions_but_not_the_administrators_own(
    boss, admin_user, manager_user
):
    his = Client()
    his.force_login(manager_user)
    response = boss.post(
        f"/settings/users/{manager_user.pk}/password/", {"password": "Vn4$mZq8!tW"}
    )
    assert 'data-testid="password">Vn4$mZq8!tW<' in response.content.decode()
    assert his.get("/").status_code == 302
    boss.post(f"/settings/users/{admin_user.pk}/password/", {"password": "Lp9#wQz2!eR"})
    assert boss.get("/settings/users/").status_code == 200
