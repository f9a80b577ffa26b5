"""The SPEC's story of «Шоколадная фабрика» in a real browser: a cold call, interest, a proposal,
an invoice issued from the card with two line items, printed, marked paid — and the counterparty
is a client whose old rows are locked."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.htmx import open_subtable_form, save_subtable_row, wait_htmx_idle
from tests.e2e.test_journey import login

pytestmark = pytest.mark.e2e


def log_work(page, kind: str, status: str, text: str) -> None:
    wait_htmx_idle(page)
    work = page.get_by_test_id("subtable-client_work")
    open_subtable_form(page, work)
    work.locator("select[name='sub-client_work-work_type']").select_option(label=kind)
    work.locator("textarea[name='sub-client_work-description']").fill(text)
    work.locator("input[name='sub-client_work-done']").check()
    work.locator("select[name='sub-client_work-status']").select_option(label=status)
    save_subtable_row(page, work)
    expect(page.get_by_test_id("subtable-client_work").get_by_text(text)).to_be_visible()
    wait_htmx_idle(page)


def add_item(page, name: str, quantity: str, price: str) -> None:
    wait_htmx_idle(page)
    items = page.get_by_test_id("subtable-invoice_items")
    open_subtable_form(page, items)
    items.locator("input[name='sub-invoice_items-name']").fill(name)
    items.locator("input[name='sub-invoice_items-quantity']").fill(quantity)
    items.locator("input[name='sub-invoice_items-price']").fill(price)
    save_subtable_row(page, items)
    expect(page.get_by_test_id("subtable-invoice_items").get_by_text(name)).to_be_visible()
    wait_htmx_idle(page)


def test_the_chocolate_factory_becomes_a_client(page, server):
    # given: a new counterparty
    login(page, server)
    page.goto(server.url + "/t/counterparties/new/")
    page.fill("#id_name", "Шоколадная фабрика")
    page.fill("#id_email", "buh@chocolate.example")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_test_id("record-title")).to_have_text("Шоколадная фабрика")
    card_url = page.url
    expect(page.locator("[data-field=status]")).to_have_text("Холодный")

    # when: the manager logs a call and a letter with the proposal
    log_work(page, "Звонок", "Заинтересован", "Холодный звонок: интересуются")
    page.reload()
    expect(page.locator("[data-field=status]")).to_have_text("Заинтересован")
    log_work(page, "Письмо", "Отправлено предложение", "Отправили коммерческое предложение")
    page.reload()
    expect(page.locator("[data-field=status]")).to_have_text("Отправлено предложение")

    # when: an invoice is issued from the card and gets two line items
    page.get_by_role("button", name="Выписать счёт").click()
    expect(page.get_by_role("alert")).to_contain_text("Выписан счёт №")
    invoice_url = page.url
    assert re.search(r"/t/invoices/\d+/$", invoice_url)
    add_item(page, "Конфеты «Мишка»", "10", "1 000,50")
    add_item(page, "Шоколад горький", "2", "99,75")
    page.reload()
    # then: the totals are computed from the items (VAT 20 % included)
    expect(page.locator("[data-field=total]")).to_have_text("10 204,50 ₽")
    expect(page.locator("[data-field=vat]")).to_have_text("1 700,75 ₽")

    # when: it is printed
    print_url = page.get_by_role("link", name="Печать").get_attribute("href")
    page.goto(server.url + print_url)
    # then
    expect(page.get_by_text(re.compile(r"Счёт на оплату № \d{4}-\d{4}"))).to_be_visible()
    expect(page.get_by_text("Десять тысяч двести четыре рубля 50 копеек")).to_be_visible()

    # when: it is marked paid
    page.goto(invoice_url)
    page.get_by_role("button", name="Счёт оплачен").click()
    expect(page.get_by_role("alert")).to_contain_text("1 счёт отмечен оплаченным.")

    # then: the counterparty is a client at «Получена оплата» ...
    page.goto(card_url)
    expect(page.locator("[data-field=type]")).to_have_text("Клиент")
    expect(page.locator("[data-field=status]")).to_have_text("Получена оплата")
    # ... and its old rows are shown locked, with the rule as the reason
    work = page.get_by_test_id("subtable-client_work")
    old_row = work.locator("tr", has_text="Холодный звонок")
    expect(old_row.get_by_test_id("row-locked")).to_have_attribute(
        "title", re.compile("Правило «после оплаты»")
    )
    expect(old_row.get_by_role("button", name="Изменить")).to_have_count(0)

    # and: the funnel of this month shows it at every stage, skipped «Переговоры» included
    page.goto(server.url + "/reports/funnel/")
    table = page.get_by_test_id("funnel-table")
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    column = headers.index("Администратор")
    stages = table.locator("tbody tr")
    assert stages.count() == 6
    for i in range(6):
        cells = stages.nth(i).locator("th, td").all_inner_texts()
        assert cells[column].strip() == "1", (cells[0], cells[column])
    page.get_by_test_id("funnel-table").locator("tbody tr").last.locator("a").first.click()
    expect(page.get_by_text("Шоколадная фабрика")).to_be_visible()
