"""Invitation and «Забыли пароль?» in a real browser: the administrator invites a manager from
the users page, the letter reaches the local SMTP server, the manager sets his password from the
link and logs in; later he forgets it and sets a new one from the reset letter."""

from __future__ import annotations

import email
import email.policy
import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

FIRST, SECOND = "Mn4$invite-e2e", "Rs8#reset-e2e"


def _letter_to(server, address: str, seen: int) -> str:
    """The plain text of the first letter to ``address`` after the first ``seen`` letters."""
    for _ in range(100):
        for _from, to, raw in server.inbox.messages[seen:]:
            if to == [address]:
                message = email.message_from_bytes(raw, policy=email.policy.default)
                return message.get_body(("plain",)).get_content()
        time.sleep(0.2)
    raise AssertionError(f"no letter to {address}")


def _link(text: str, server) -> str:
    return re.search(re.escape(server.url) + r"/\S+/", text).group(0)


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"invite-reset-{name}.png"), full_page=True)


def _log_in(page, server, username: str, password: str) -> None:
    page.goto(server.url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def test_an_invited_manager_sets_his_password_and_later_resets_it(page, browser, server):
    # given: the administrator on the users page
    _log_in(page, server, server.username, server.password)
    page.goto(server.url + "/settings/users/")
    form = page.get_by_test_id("new-user")
    form.get_by_label("ФИО").fill("Лебедева Мария Сергеевна")
    form.get_by_label("Логин").fill("lebedeva")
    form.get_by_label("E-mail").fill("lebedeva@example.ru")
    _shot(page, "invite-form")
    seen = len(server.inbox.messages)
    # when: he invites her
    form.get_by_test_id("invite").click()
    # then: the page says so (without the link) and the letter arrives
    expect(page.locator(".alert-success")).to_contain_text(
        "Приглашение отправлено: Лебедева Мария Сергеевна получит письмо на lebedeva@example.ru."
    )
    link = _link(_letter_to(server, "lebedeva@example.ru", seen), server)
    assert link not in page.content()

    # when: she opens the link in her own browser and sets a password
    context = browser.new_context(locale="ru-RU", viewport={"width": 1366, "height": 900})
    her = context.new_page()
    her.goto(link)
    expect(her.get_by_role("heading")).to_have_text("Добро пожаловать в Картотеку")
    _shot(her, "accept")
    her.fill("#id_password1", FIRST)
    her.fill("#id_password2", FIRST)
    her.get_by_role("button", name="Задать пароль").click()
    expect(her.locator(".alert-success")).to_contain_text("Пароль задан.")
    _log_in(her, server, "lebedeva", FIRST)
    expect(her.get_by_test_id("current-user")).to_have_text("Лебедева М. С.")
    context.close()

    # when: later, in a fresh browser, she forgot it
    context = browser.new_context(locale="ru-RU", viewport={"width": 1366, "height": 900})
    her = context.new_page()
    her.goto(server.url + "/login/")
    her.get_by_role("link", name="Забыли пароль?").click()
    her.fill("#id_email", "lebedeva@example.ru")
    _shot(her, "forgot")
    seen = len(server.inbox.messages)
    her.get_by_role("button", name="Прислать ссылку").click()
    expect(her.get_by_role("heading")).to_have_text("Проверьте почту")
    link = _link(_letter_to(server, "lebedeva@example.ru", seen), server)
    her.goto(link)
    her.fill("#id_password1", SECOND)
    her.fill("#id_password2", SECOND)
    her.get_by_role("button", name="Сохранить пароль").click()
    expect(her.get_by_role("heading")).to_have_text("Пароль изменён")
    _shot(her, "reset-done")
    # then: the new password lets her in, the link works no more
    her.get_by_role("link", name="Войти").click()
    her.fill("#id_username", "lebedeva")
    her.fill("#id_password", SECOND)
    her.click("button[type=submit]")
    expect(her.get_by_test_id("current-user")).to_have_text("Лебедева М. С.")
    her.goto(link)
    expect(her.get_by_test_id("password-message")).to_contain_text("уже использована")
    context.close()
