"""The foundation journey in a real browser: log in, find a client, edit it, log work, archive,
find it in the archive, restore it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.htmx import open_subtable_form, save_subtable_row, wait_htmx_idle

pytestmark = pytest.mark.e2e


def login(page, server) -> None:
    page.goto(server.url + "/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.fill("#id_username", server.username)
    page.fill("#id_password", server.password)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("current-user")).to_be_visible()


def test_wrong_password_is_refused_in_russian(page, server):
    # given
    page.goto(server.url + "/login/")
    # when
    page.fill("#id_username", server.username)
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    # then
    expect(page.get_by_role("alert")).to_have_text("Неверное имя пользователя или пароль.")


def test_administrator_journey_through_a_counterparty(page, server):
    # given: the administrator logs in and sees the menu of categories and tables
    login(page, server)
    page.get_by_role("button", name="Клиенты").click()
    page.get_by_role("link", name="Контрагенты", exact=True).click()
    expect(page.get_by_role("heading", name="Контрагенты")).to_be_visible()
    # the demo's 80 and whatever other browser tests on this server (web forms) added
    expect(page.get_by_test_id("total")).to_have_text(re.compile(r"^Всего: \d+$"))
    assert int(page.get_by_test_id("total").inner_text().split()[-1]) >= 80
    expect(page.get_by_role("link", name=re.compile("Вперёд"))).to_be_visible()

    # when: he opens the first client on the list and edits its city
    page.get_by_test_id("grid").locator("tbody tr").first.locator("a").first.click()
    title = page.get_by_test_id("record-title").inner_text()
    page.get_by_role("link", name="Редактировать").click()
    page.fill("#id_city", "Тверь")
    page.get_by_role("button", name="Сохранить").click()
    # then
    expect(page.locator("[data-field=city]")).to_have_text("Тверь")
    expect(page.get_by_test_id("history")).to_contain_text("Город:")

    # when: he logs a call in «Работа с клиентом» without leaving the card
    work = page.get_by_test_id("subtable-client_work")
    # an empty subtable shows one «Пока пусто» row, which is no record
    empty = work.get_by_text("Пока пусто").count() > 0
    rows_before = 0 if empty else work.locator("tbody tr").count()
    open_subtable_form(page, work)
    work.locator("select[name='sub-client_work-work_type']").select_option(label="Звонок")
    work.locator("textarea[name='sub-client_work-description']").fill("Обсудили поставку")
    save_subtable_row(page, work)
    # then: the subtable shows the new row (HTMX, no reload)
    work = page.get_by_test_id("subtable-client_work")
    expect(work.get_by_text("Обсудили поставку")).to_be_visible()
    expect(work.get_by_text("Пока пусто")).to_have_count(0)
    expect(work.locator("tbody tr")).to_have_count(rows_before + 1)

    # when: he archives the client
    page.get_by_role("button", name="В архив").click()
    # then: it is marked archived, gone from the active list and found in the archive
    expect(page.get_by_test_id("record-state")).to_have_text("Архив")
    page.goto(server.url + "/t/counterparties/?q=" + title.split()[-1])
    expect(page.get_by_test_id("grid")).not_to_contain_text(title)
    page.get_by_role("link", name="Архив").click()
    page.fill("#search-form input[name=q]", title)
    page.keyboard.press("Enter")
    page.get_by_test_id("grid").get_by_role("link", name=title).click()

    # when: he restores it
    page.get_by_role("button", name="Восстановить").click()
    # then
    expect(page.get_by_test_id("record-state")).to_have_count(0)
    expect(page.get_by_test_id("history")).to_contain_text("Восстановление")


def test_a_failed_partial_request_is_reported_not_swallowed(page, server, browser):
    # given: a card with a work row, open in two tabs of the same user
    login(page, server)
    page.goto(server.url + "/t/counterparties/")
    page.get_by_test_id("grid").locator("tbody tr").first.locator("a").first.click()
    card_url = page.url
    wait_htmx_idle(page)
    work = page.get_by_test_id("subtable-client_work")
    open_subtable_form(page, work)
    work.locator("select[name='sub-client_work-work_type']").select_option(label="Звонок")
    text = "Строка для двух вкладок"
    work.locator("textarea[name='sub-client_work-description']").fill(text)
    save_subtable_row(page, work)
    row = page.get_by_test_id("subtable-client_work").locator("tr", has_text=text)
    expect(row).to_be_visible()
    wait_htmx_idle(page)
    other = page.context.new_page()
    other.goto(card_url)
    other.on("dialog", lambda dialog: dialog.accept())
    other_work = other.get_by_test_id("subtable-client_work")
    other_work.locator("tr", has_text=text).get_by_role("button", name="Удалить").click()
    expect(other.get_by_test_id("subtable-client_work")).not_to_contain_text(text)

    # when: the first tab, not yet refreshed, opens the same row for editing
    row.get_by_role("button", name="Изменить").click()

    # then: the failure is shown in Russian instead of nothing happening, and no form opens
    expect(page.get_by_test_id("request-error")).to_contain_text("Запись не найдена")
    expect(page.get_by_test_id("request-error")).to_contain_text("(404)")
    expect(page.get_by_test_id("edit-row-form")).to_have_count(0)
    other.close()
