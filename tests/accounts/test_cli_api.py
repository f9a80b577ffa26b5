"""``kartoteka user …`` and ``/api/v1/users/``: the services of the pages, the same refusals."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from kartoteka.api.tokens import create_token
from kartoteka.cli import main
from kartoteka.core.actor import MANAGERS_GROUP
from kartoteka.tables.modelfactory import model_for
from tests.accounts.test_accounts import PASSWORD, _state
from tests.builders import SYSTEM


def test_user_list_prints_each_user_and_json(admin_user, manager_user, capsys):
    assert main(["user", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "ivanov\tИванов Иван\tМенеджеры\tвключён\tвход: —\tнеудачных: 0",
        "boss\tПетров Пётр\tАдминистратор\tвключён\tвход: —\tнеудачных: 0",
    ]
    assert main(["user", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["username"], r["group"], r["is_active"], r["last_login"]) for r in rows] == [
        ("ivanov", "Менеджеры", True, None),
        ("boss", "Администратор", True, None),
    ]


def test_user_disable_enable_and_set_password(admin_user, manager_user, capsys, client):
    assert main(["user", "disable", "ivanov"]) == 0
    assert main(["user", "disable", "ivanov"]) == 0
    assert main(["user", "enable", "Ivanov"]) == 0
    assert main(["user", "set-password", "ivanov", "--password", "Vn4$mZq8!tW"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Доступ пользователя ivanov отключён.",
        "Доступ пользователя ivanov уже отключён.",
        "Доступ пользователя ivanov включён.",
        "Пароль пользователя ivanov изменён.",
    ]
    response = client.post("/login/", {"username": "ivanov", "password": "Vn4$mZq8!tW"})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["user", "disable", "boss"], "Петров Пётр — единственный активный администратор."),
        (["user", "enable", "nobody"], "Пользователь «nobody» не найден."),
        (["user", "set-password", "ivanov", "--password", "ivanov"], "Введённый пароль"),
    ],
)
def test_user_commands_refuse_clearly_and_change_nothing(
    admin_user, manager_user, capsys, argv, error
):
    before = _state()
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"Ошибка: {error}")
    assert _state() == before


def _api(user):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {create_token(SYSTEM, user, 'test').secret}")
    return api


def test_the_api_lists_creates_and_disables_users_for_administrators(admin_user, table):
    api = _api(admin_user)
    created = api.post(
        "/api/v1/users/",
        {
            "username": "orlova",
            "password": PASSWORD,
            "group": MANAGERS_GROUP,
            "full_name": "Орлова Анна Петровна",
            "email": "o@example.ru",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["username"], body["full_name"], body["short_name"], body["is_active"]) == (
        "orlova",
        "Орлова Анна Петровна",
        "Орлова А. П.",
        True,
    )
    assert "password" not in body
    user = get_user_model().objects.get(username="orlova")
    assert model_for(table("employees")).objects.filter(user_id=user.pk).count() == 1
    listed = api.get("/api/v1/users/").json()
    assert [u["username"] for u in listed] == ["orlova", "boss"]
    orlova_api = _api(user)
    assert orlova_api.get("/api/v1/me/").status_code == 200
    disabled = api.post(f"/api/v1/users/{user.pk}/disable/")
    assert (disabled.status_code, disabled.json()["is_active"]) == (200, False)
    assert orlova_api.get("/api/v1/me/").status_code == 401


def test_the_api_refuses_bad_input_and_other_users(admin_user, manager_user):
    before = _state()
    api = _api(admin_user)
    dup = api.post(
        "/api/v1/users/",
        {"username": "IVANOV", "password": PASSWORD, "group": MANAGERS_GROUP},
        format="json",
    )
    assert (dup.status_code, dup.json()["message"]) == (400, "Пользователь «IVANOV» уже есть.")
    weak = api.post(
        "/api/v1/users/",
        {"username": "x1", "password": "123", "group": MANAGERS_GROUP},
        format="json",
    )
    assert (weak.status_code, weak.json()["code"]) == (400, "weak_password")
    last = api.post(f"/api/v1/users/{admin_user.pk}/disable/")
    assert (last.status_code, last.json()["code"]) == (400, "last_admin")
    missing = api.post("/api/v1/users/999999/disable/")
    assert missing.status_code == 404
    manager = _api(manager_user)
    assert manager.get("/api/v1/users/").status_code == 403
    assert manager.post(f"/api/v1/users/{admin_user.pk}/disable/").status_code == 403
    # tokens made above are the only change
    from kartoteka.api.models import ApiToken

    ApiToken.objects.all().delete()
    assert _state() == before
