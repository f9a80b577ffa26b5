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


def test_user_invite_mails_the_link_when_mail_is_set_up(
    admin_user, capsys, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        code = main(["user", "invite", "orlova", "--email", "orlova@example.ru"])
    assert code == 0
    assert capsys.readouterr().out == (
        "Приглашение отправлено на orlova@example.ru: orlova задаст пароль по ссылке.\n"
    )
    user = get_user_model().objects.get(username="orlova")
    assert ([g.name for g in user.groups.all()], user.has_usable_password()) == (
        [MANAGERS_GROUP],
        False,
    )
    [(_from, to, raw)] = smtp.messages
    assert to == ["orlova@example.ru"] and b"/invite/" in raw
    assert main(["user", "list"]) == 0
    assert "orlova\torlova\tМенеджеры\tприглашён\t" in capsys.readouterr().out


def test_user_invite_prints_the_link_without_mail_and_a_new_one_revokes_it(
    manager_user, capsys, settings, monkeypatch, client
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "localhost"
    settings.KARTOTEKA_BASE_URL = "https://crm.example.ru"
    monkeypatch.delenv("EMAIL_HOST", raising=False)
    assert main(["user", "invite", "Ivanov", "--email", "ivanov@example.ru"]) == 0
    assert main(["user", "invite", "ivanov", "--email", "IVANOV@example.ru"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [
        "Почта не настроена (EMAIL_HOST), письмо не отправлено.",
        "Передайте пользователю ivanov ссылку для пароля (действует 72 ч, один раз):",
    ]
    first, second = out[2], out[5]
    assert first.startswith("https://crm.example.ru/invite/") and first != second
    password = {"password1": "Tr7$kWn2!pZx", "password2": "Tr7$kWn2!pZx"}
    assert client.post(first.removeprefix("https://crm.example.ru"), password).status_code == 400
    assert client.post(second.removeprefix("https://crm.example.ru"), password).status_code == 302


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--email", "other@example.ru"], "У пользователя ivanov указан другой e-mail"),
        (["--email", "нет"], "«нет» — неверный адрес e-mail."),
        (["--email", "x@example.ru", "--group", "Продавцы"], "Нет группы «Продавцы»."),
    ],
)
def test_user_invite_refuses_clearly_and_changes_nothing(manager_user, capsys, argv, error):
    from kartoteka.accounts.models import Invitation

    before = _state()
    login = "sidorov" if "--group" in argv else "ivanov"
    assert main(["user", "invite", login, *argv]) == 1
    out, err = capsys.readouterr()
    assert (out, err.startswith(f"Ошибка: {error}")) == ("", True)
    assert (_state(), Invitation.objects.count()) == (before, 0)


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
