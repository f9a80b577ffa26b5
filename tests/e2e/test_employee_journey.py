"""An employee's whole journey in a real browser: the administrator invites a manager, the
letter reaches the local SMTP server, the manager sets his password from the link, logs in, sets
up an authenticator app (the code computed from the page's ``otpauth://`` address, as an app
would), logs out and in again with a code. Then the administrator disables him: his open session
ends, his API token answers 401, and his client is handed to another manager — the client's
history names who did it."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_invite_reset import _letter_to, _link, _log_in

pytestmark = pytest.mark.e2e

PASSWORD = "Qw7!journey-e2e"
EMAIL = "kovalev@example.ru"

#: Run in the server's database: the manager who takes the clients over.
SETUP = """
from django.contrib.auth import get_user_model
from kartoteka.accounts.services import create_user
from kartoteka.core.actor import Actor

if not get_user_model().objects.filter(username="zaitsev").exists():
    create_user(Actor.system("e2e"), username="zaitsev", password=%(password)r,
                group="Менеджеры", full_name="Зайцев Юрий Львович")
"""

#: One of Волкова's clients given to the invited manager.
GIVE_CLIENT = """
import json
from django.contrib.auth import get_user_model
from kartoteka.core.actor import Actor
from kartoteka.records.services import update_record
from kartoteka.tables.models import Table
from kartoteka.tables.modelfactory import model_for

table = Table.objects.get(key="counterparties")
cp = model_for(table).objects.filter(
    record_state="active", manager__username="volkova"
).order_by("id").first()
him = get_user_model().objects.get(username="kovalev")
update_record(Actor.system("e2e"), table, cp.pk, {"manager": him.pk})
print(json.dumps({"pk": cp.pk, "name": cp.name}))
"""


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"journey-{name}.png"), full_page=True)


def _api_status(server, token: str) -> int:
    request = urllib.request.Request(
        server.url + "/api/v1/tables/counterparties/records/",
        headers={"Authorization": f"Token {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code


def test_an_invited_manager_works_with_two_factor_and_is_disabled_with_his_clients_handed_over(
    page, browser, server
):
    server.cli("manage", "shell", "-c", SETUP % {"password": PASSWORD})
    # given: the administrator invites a manager from the users page
    _log_in(page, server, server.username, server.password)
    page.goto(server.url + "/settings/users/")
    form = page.get_by_test_id("new-user")
    form.get_by_label("ФИО").fill("Ковалёв Кирилл Андреевич")
    form.get_by_label("Логин").fill("kovalev")
    form.get_by_label("E-mail").fill(EMAIL)
    seen = len(server.inbox.messages)
    form.get_by_test_id("invite").click()
    expect(page.locator(".alert-success")).to_contain_text(
        f"Приглашение отправлено: Ковалёв Кирилл Андреевич получит письмо на {EMAIL}."
    )
    # when: the letter arrives and he sets his password from its link, in his own browser
    link = _link(_letter_to(server, EMAIL, seen), server)
    his_context = browser.new_context(locale="ru-RU", viewport={"width": 1366, "height": 900})
    his = his_context.new_page()
    his.goto(link)
    his.fill("#id_password1", PASSWORD)
    his.fill("#id_password2", PASSWORD)
    his.get_by_role("button", name="Задать пароль").click()
    expect(his.locator(".alert-success")).to_contain_text("Пароль задан.")
    _log_in(his, server, "kovalev", PASSWORD)
    expect(his.get_by_test_id("current-user")).to_have_text("Ковалёв К. А.")

    # when: he sets up an authenticator app from his profile
    his.get_by_test_id("user-menu").get_by_role("button").click()
    his.get_by_test_id("profile-link").click()
    expect(his.get_by_test_id("two-factor")).to_contain_text("выключен")
    _shot(his, "profile")
    his.get_by_test_id("two-factor-setup").click()
    expect(his.get_by_test_id("qr")).to_be_visible()
    _shot(his, "two-factor-enrol")
    url = his.get_by_test_id("otpauth").text_content()
    totp = pyotp.TOTP(parse_qs(urlparse(url).query)["secret"][0])
    his.fill("input[name=code]", totp.now())
    his.click("form button[type=submit]:has-text('Подтвердить')")
    # then: ten recovery codes, shown once
    expect(his.get_by_test_id("recovery-codes").locator("code")).to_have_count(10)
    _shot(his, "two-factor-codes")
    # when: he logs out and in again
    his.get_by_test_id("user-menu").get_by_role("button").first.click()
    his.get_by_role("button", name="Выйти").click()
    _log_in(his, server, "kovalev", PASSWORD)
    # then: the password alone is not enough; the code lets him in
    expect(his.locator("#id_code")).to_be_visible()
    _shot(his, "two-factor-login")
    his.fill("#id_code", totp.at(time.time() + 30))
    his.click("button[type=submit]")
    expect(his.get_by_test_id("current-user")).to_have_text("Ковалёв К. А.")

    # given: he works on a client and has an API token
    given = json.loads(server.cli("manage", "shell", "-c", GIVE_CLIENT).strip().splitlines()[-1])
    token = server.cli("token", "create", "--user", "kovalev").strip().splitlines()[-1]
    assert _api_status(server, token) == 200
    his.goto(f"{server.url}/t/counterparties/{given['pk']}/")
    expect(his.get_by_test_id("record-title")).to_have_text(given["name"])

    # when: the administrator disables him on his log-in's page
    page.get_by_test_id("settings-menu").click()
    page.get_by_test_id("settings-menu").get_by_role("link", name="Учётные записи").click()
    page.get_by_role("link", name="Ковалёв Кирилл Андреевич").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("disable").click()
    # then: he is out at once, his token is refused, and he cannot log in again
    expect(page.get_by_role("alert")).to_contain_text(
        "Доступ отключён: Ковалёв Кирилл Андреевич больше не может войти."
    )
    expect(page.get_by_test_id("state")).to_have_text("отключён")
    his.reload()
    assert "/login/" in his.url
    assert _api_status(server, token) == 401
    his.fill("#id_username", "kovalev")
    his.fill("#id_password", PASSWORD)
    his.click("button[type=submit]")
    expect(his.get_by_role("alert")).to_have_text("Неверное имя пользователя или пароль.")
    assert "/login/" in his.url
    his_context.close()

    # when: his client goes to another manager
    page.get_by_label("Кому передать").select_option(label="Зайцев Юрий Львович")
    page.get_by_test_id("hand-over").get_by_role("button", name="Передать").click()
    # then: the client's history names who did it
    expect(page.get_by_role("alert")).to_contain_text(
        "Передано сотруднику Зайцев Юрий Львович: контрагентов 1, заданий 0, напоминаний 0."
    )
    _shot(page, "handed-over")
    page.goto(f"{server.url}/t/counterparties/{given['pk']}/")
    expect(page.locator("main")).to_contain_text("Зайцев Юрий Львович")
    expect(page.locator("main")).to_contain_text(
        "Администратор · Изменение (передача клиентов и заданий)"
        " Менеджер: Ковалёв Кирилл Андреевич → Зайцев Юрий Львович"
    )
