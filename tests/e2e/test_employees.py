"""Employees' log-ins in a real browser: the administrator disables a manager whose session is
open — his next page is the log-in page — and hands his client to another manager; the client's
history names who did it."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PASSWORD = "Qw7!leaving-e2e"

#: Run in the server's database: two managers of our own (the demo's keep their clients), one
#: of them given one of Волкова's clients.
SETUP = """
import json
from django.contrib.auth import get_user_model
from kartoteka.accounts.services import create_user
from kartoteka.core.actor import Actor
from kartoteka.records.services import update_record
from kartoteka.tables.models import Table
from kartoteka.tables.modelfactory import model_for

system = Actor.system("e2e")
made = {}
for login, name in (("orlov", "Орлов Олег Петрович"), ("zaitsev", "Зайцев Юрий Львович")):
    made[login] = get_user_model().objects.filter(username=login).first() or create_user(
        system, username=login, password=%(password)r, group="Менеджеры", full_name=name
    )
table = Table.objects.get(key="counterparties")
cp = model_for(table).objects.filter(
    record_state="active", manager__username="volkova"
).order_by("id").first()
update_record(system, table, cp.pk, {"manager": made["orlov"].pk})
print(json.dumps({"pk": cp.pk, "name": cp.name, "orlov": made["orlov"].pk}))
"""


def _log_in(page, server, username: str, password: str) -> None:
    page.goto(server.url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("current-user")).to_be_visible()


def test_the_administrator_disables_a_manager_and_hands_his_client_over(page, browser, server):
    given = json.loads(
        server.cli("manage", "shell", "-c", SETUP % {"password": PASSWORD}).strip().splitlines()[-1]
    )
    # given: the manager is at work on his client
    his_context = browser.new_context(locale="ru-RU")
    his = his_context.new_page()
    _log_in(his, server, "orlov", PASSWORD)
    expect(his.get_by_test_id("current-user")).to_have_text("Орлов О. П.")
    his.goto(f"{server.url}/t/counterparties/{given['pk']}/")
    expect(his.get_by_test_id("record-title")).to_have_text(given["name"])
    # when: the administrator disables him on his log-in's page
    _log_in(page, server, server.username, server.password)
    page.get_by_test_id("settings-menu").click()
    page.get_by_role("link", name="Учётные записи").click()
    page.get_by_role("link", name="Орлов Олег Петрович").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("disable").click()
    # then: he is out at once, and cannot log in again
    expect(page.get_by_role("alert")).to_contain_text(
        "Доступ отключён: Орлов Олег Петрович больше не может войти."
    )
    expect(page.get_by_test_id("state")).to_have_text("отключён")
    his.reload()
    assert "/login/" in his.url
    his.fill("#id_username", "orlov")
    his.fill("#id_password", PASSWORD)
    his.click("button[type=submit]")
    expect(his.get_by_role("alert")).to_have_text("Неверное имя пользователя или пароль.")
    assert "/login/" in his.url
    his_context.close()
    # when: his client goes to another manager
    page.get_by_label("Кому передать").select_option(label="Зайцев Юрий Львович")
    page.get_by_test_id("hand-over").get_by_role("button", name="Передать").click()
    # then
    expect(page.get_by_role("alert")).to_contain_text(
        "Передано сотруднику Зайцев Юрий Львович: контрагентов 1, заданий 0, напоминаний 0."
    )
    page.goto(f"{server.url}/t/counterparties/{given['pk']}/")
    expect(page.locator("main")).to_contain_text("Зайцев Юрий Львович")
    expect(page.locator("main")).to_contain_text(
        "Администратор · Изменение (передача клиентов и заданий)"
        " Менеджер: Орлов Олег Петрович → Зайцев Юрий Львович"
    )
