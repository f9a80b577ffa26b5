"""Employees' log-ins: created from «Сотрудники», disabled and enabled (sessions and API tokens end
at once, records stay), clients and tasks handed over through the records service, passwords set
by hand under Django's validators, and the last administrator kept. Refusals change nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from rest_framework.test import APIClient

from kartoteka.access.models import AuditEvent
from kartoteka.accounts import services
from kartoteka.api.tokens import create_token
from kartoteka.core.actor import ADMIN_GROUP, MANAGERS_GROUP, Actor
from kartoteka.core.exceptions import PermissionDenied
from kartoteka.notifications.models import Reminder
from kartoteka.records.models import RecordChange
from kartoteka.records.services import create_record, create_records
from kartoteka.tables.modelfactory import model_for
from tests.access.conftest import dump
from tests.builders import SYSTEM

PASSWORD = "Xk2#pLq9!vR"


def _make(admin, username, full_name, group=MANAGERS_GROUP, **kw):
    return services.create_user(
        admin,
        username=username,
        password=PASSWORD,
        group=group,
        full_name=full_name,
        email=f"{username}@example.ru",
        **kw,
    )


def _state():
    """What a refusal must leave as it was: every record, right and user row, and the audit."""
    users = list(get_user_model().objects.order_by("pk").values())
    return dump(), users, AuditEvent.objects.count(), Session.objects.count()


@pytest.fixture
def petrov(admin):
    return _make(
        admin, "petrov", "Петров Сергей Иванович", phone="+79161234567", position="Менеджер"
    )


# -- creating a log-in -----------------------------------------------------------------------------


def test_a_new_employee_with_access_gets_a_log_in_and_a_record(admin, petrov, table):
    employee = model_for(table("employees")).objects.get(user_id=petrov.pk)
    assert (petrov.last_name, petrov.first_name) == ("Петров", "Сергей Иванович")
    assert (services.full_name(petrov), services.short_name(petrov)) == (
        "Петров Сергей Иванович",
        "Петров С. И.",
    )
    assert (employee.full_name, employee.email, employee.phone, employee.position) == (
        "Петров Сергей Иванович",
        "petrov@example.ru",
        "+79161234567",
        "Менеджер",
    )
    assert employee.access_group == MANAGERS_GROUP


@pytest.mark.parametrize(
    ("username", "email", "password", "message"),
    [
        ("PETROV", "new@example.ru", PASSWORD, "Пользователь «PETROV» уже есть."),
        ("sidorov", "Petrov@Example.ru", PASSWORD, "E-mail «Petrov@Example.ru» уже указан"),
        ("sidorov", "new@example.ru", "12345678", "Введённый пароль слишком широко распространён."),
        ("sidorov", "new@example.ru", "Xk2#", "Введённый пароль слишком короткий."),
    ],
)
def test_a_duplicate_login_or_e_mail_or_a_weak_password_is_refused(
    admin, petrov, username, email, password, message
):
    before = _state()
    with pytest.raises(services.AccountError) as refused:
        services.create_user(
            admin, username=username, password=password, group=MANAGERS_GROUP, email=email
        )
    assert message in refused.value.message
    assert _state() == before


def test_a_bad_phone_of_the_new_employee_leaves_no_log_in(admin):
    before = _state()
    with pytest.raises(services.AccountError) as refused:
        _make(admin, "sidorov", "Сидоров Павел", phone="позвоните мне")
    assert refused.value.message == "Телефон: «позвоните мне» — не номер телефона."
    assert _state() == before


def test_access_is_given_to_an_employee_record_without_a_log_in(admin, table):
    employees = table("employees")
    record = create_record(
        SYSTEM, employees, {"full_name": "Орлова Анна Петровна", "email": "orlova@example.ru"}
    )
    user = services.grant_access(
        admin, record.pk, username="orlova", password=PASSWORD, group=MANAGERS_GROUP
    )
    record = model_for(employees).objects.get(pk=record.pk)
    assert (record.user_id, record.access_group) == (user.pk, MANAGERS_GROUP)
    assert (user.last_name, user.first_name, user.email) == (
        "Орлова",
        "Анна Петровна",
        "orlova@example.ru",
    )
    assert user.check_password(PASSWORD)
    event = AuditEvent.objects.filter(kind=AuditEvent.ACCOUNT).first()
    assert event.message == (
        "Сотруднику Орлова Анна Петровна дан доступ в систему (логин orlova, группа «Менеджеры»)"
    )
    before = _state()
    with pytest.raises(services.AccountError, match="У сотрудника уже есть доступ в систему"):
        services.grant_access(
            admin, record.pk, username="orlova2", password=PASSWORD, group=MANAGERS_GROUP
        )
    assert _state() == before


# -- disable and enable ----------------------------------------------------------------------------


def test_a_disabled_user_cannot_log_in_his_session_ends_and_his_token_answers_401(
    admin, petrov, client, table
):
    # given: he is logged in, has a token and a client of his own
    assert client.post("/login/", {"username": "petrov", "password": PASSWORD}).status_code == 302
    secret = create_token(SYSTEM, petrov, "1С").secret
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.get("/api/v1/me/").status_code == 200
    cp = create_record(Actor.for_user(petrov), table("counterparties"), {"name": "Ромашка"})
    # when
    assert services.disable_user(admin, petrov) is True
    # then
    petrov.refresh_from_db()
    assert petrov.is_active is False
    assert Session.objects.count() == 0
    assert client.get("/").status_code == 302
    assert api.get("/api/v1/me/").status_code == 401
    fresh = client.post("/login/", {"username": "petrov", "password": PASSWORD})
    assert (fresh.status_code, "_auth_user_id" in client.session) == (200, False)
    assert model_for(table("counterparties")).objects.get(pk=cp.pk).manager_id == petrov.pk
    assert RecordChange.objects.filter(record_id=cp.pk, user=petrov).exists()
    # and enabling gives the log-in back
    assert services.enable_user(admin, petrov) is True
    assert client.post("/login/", {"username": "petrov", "password": PASSWORD}).status_code == 302
    assert api.get("/api/v1/me/").status_code == 200
    messages = list(
        AuditEvent.objects.filter(kind=AuditEvent.ACCOUNT).values_list("message", flat=True)
    )
    assert messages[:2] == [
        "Доступ пользователя petrov включён",
        "Доступ пользователя petrov отключён",
    ]


def test_the_last_active_administrator_cannot_be_disabled_or_demoted(admin, admin_user):
    managers = Group.objects.get(name=MANAGERS_GROUP)
    from kartoteka.access.services import set_user_group

    before = _state()
    for attempt in (
        lambda: services.disable_user(admin, admin_user),
        lambda: set_user_group(admin, admin_user, managers),
        lambda: services.disable_user(Actor.system("cli"), admin_user),
    ):
        with pytest.raises(services.AccountError) as refused:
            attempt()
        assert refused.value.message == (
            "Петров Пётр — единственный активный администратор. Сначала назначьте "
            "администратором другого сотрудника."
        )
    assert _state() == before
    # with a second administrator, the first may go
    _make(admin, "chief", "Кузнецова Мария", group=ADMIN_GROUP)
    assert services.disable_user(admin, admin_user) is True


def test_only_those_who_manage_employees_may_disable(admin, petrov, manager_user):
    before = _state()
    with pytest.raises(PermissionDenied):
        services.disable_user(Actor.for_user(manager_user), petrov)
    assert _state() == before


def test_the_right_manage_employees_lets_a_group_manage_but_not_administrators(
    admin, admin_user, petrov, manager_user
):
    from kartoteka.access.services import set_group_permissions

    hr = Group.objects.get(name="Бухгалтерия")
    set_group_permissions(admin, hr, ["manage_employees"])
    assert list(hr.permissions.values_list("codename", flat=True)) == ["manage_employees"]
    clerk = _make(admin, "kadry", "Смирнова Ольга", group="Бухгалтерия")
    actor = Actor.for_user(get_user_model().objects.get(pk=clerk.pk))
    assert services.disable_user(actor, petrov) is True
    before = _state()
    with pytest.raises(PermissionDenied):
        services.disable_user(actor, admin_user)
    with pytest.raises(PermissionDenied):
        _make(actor, "boss2", "Лебедев Игорь", group=ADMIN_GROUP)
    assert _state() == before


# -- passwords -------------------------------------------------------------------------------------


def test_a_password_set_by_hand_is_checked_by_the_validators(admin, petrov):
    before = _state()
    with pytest.raises(services.AccountError) as refused:
        services.set_password(admin, petrov, "petrov123")
    assert refused.value.message == "Введённый пароль слишком похож на имя пользователя."
    assert _state() == before
    services.set_password(admin, petrov, "Vn4$mZq8!tW")
    petrov.refresh_from_db()
    assert petrov.check_password("Vn4$mZq8!tW")


# -- handing over --------------------------------------------------------------------------------


def test_clients_tasks_and_reminders_are_handed_over_in_one_step(admin, admin_user, petrov, table):
    # given: his two active clients, an archived one, a peer's; open and done tasks; a reminder
    sidorov = _make(admin, "sidorov", "Сидоров Павел")
    counterparties, tasks = table("counterparties"), table("tasks")
    mine = create_records(
        SYSTEM,
        counterparties,
        [
            {"name": "Ромашка", "manager": petrov.pk},
            {"name": "Лютик", "manager": petrov.pk},
            {"name": "Архивная", "manager": petrov.pk},
            {"name": "Чужая", "manager": sidorov.pk},
        ],
    )
    from kartoteka.records.services import archive_records

    archive_records(SYSTEM, counterparties, [mine[2].pk])
    open_task, done_task = create_records(
        SYSTEM,
        tasks,
        [
            {"title": "Позвонить", "assignee": petrov.pk},
            {"title": "Сделано", "assignee": petrov.pk, "state": "done"},
        ],
    )
    reminder = Reminder.objects.create(table=counterparties, name="Звонок", message="Позвонить")
    reminder.users.add(petrov)
    # when
    counts = services.hand_over(admin, petrov, sidorov)
    # then
    assert counts == {"counterparties": 2, "tasks": 1, "reminders": 1}
    cps = model_for(counterparties).objects
    assert sorted(cps.filter(manager_id=sidorov.pk).values_list("name", flat=True)) == [
        "Лютик",
        "Ромашка",
        "Чужая",
    ]
    assert cps.get(pk=mine[2].pk).manager_id == petrov.pk
    assert model_for(tasks).objects.get(pk=open_task.pk).assignee_id == sidorov.pk
    assert model_for(tasks).objects.get(pk=done_task.pk).assignee_id == petrov.pk
    assert list(reminder.users.all()) == [sidorov]
    change = RecordChange.objects.filter(record_id=mine[0].pk, table=counterparties).latest("id")
    assert (change.user_id, change.source) == (admin_user.pk, "handover")
    assert change.changes == {"manager": [petrov.pk, sidorov.pk]}


def test_handing_over_to_a_disabled_employee_or_to_himself_is_refused(admin, petrov, table):
    sidorov = _make(admin, "sidorov", "Сидоров Павел")
    create_record(SYSTEM, table("counterparties"), {"name": "Ромашка", "manager": petrov.pk})
    services.disable_user(admin, sidorov)
    before = _state()
    with pytest.raises(services.AccountError, match="только действующему сотруднику"):
        services.hand_over(admin, petrov, sidorov)
    with pytest.raises(services.AccountError, match="Выберите другого сотрудника"):
        services.hand_over(admin, petrov, petrov)
    assert _state() == before


# -- last log-in and failed attempts ---------------------------------------------------------------


def test_the_list_shows_last_log_in_and_recent_failed_attempts(admin, petrov, client):
    client.post("/login/", {"username": "petrov", "password": "wrong"})
    client.post("/login/", {"username": "petrov", "password": "wrong again"})
    rows = {row["username"]: row for row in services.list_users(admin)}
    assert (rows["petrov"]["failed_logins"], rows["petrov"]["last_login"]) == (2, None)
    client.post("/login/", {"username": "petrov", "password": PASSWORD})
    rows = {row["username"]: row for row in services.list_users(admin)}
    assert rows["petrov"]["last_login"] is not None
    assert rows["petrov"]["full_name"] == "Петров Сергей Иванович"
    assert len(services.recent_failures(admin, petrov)) == 2
