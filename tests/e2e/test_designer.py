"""The table designer in a real browser: the administrator builds a table with fields of several
types, adds a record to it at once, renames a field and changes a type that converts."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e


def login(page: Page, server) -> None:
    page.goto(server.url + "/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.fill("#id_username", server.username)
    page.fill("#id_password", server.password)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("current-user")).to_be_visible()


def choose_type(page: Page, type_key: str, prefix: str = "new-") -> None:
    """Pick a field type; HTMX swaps in that type's settings."""
    page.select_option(f"#id_{prefix}type", type_key)
    expect(page.get_by_test_id("type-options")).to_have_attribute("data-type", type_key)


def add_field(page: Page, label: str, type_key: str = "text", fill=None) -> None:
    page.fill("#id_new-label", label)
    if type_key != "text":
        choose_type(page, type_key)
    if fill:
        fill()
    page.get_by_role("button", name="Добавить поле").click()
    expect(page.get_by_role("alert").filter(has_text=f"Поле «{label}»")).to_be_visible()


def pick_first_record(page: Page, selector: str) -> str:
    """Choose the first record in a link input (a type-ahead picker or a plain select)."""
    box = page.locator(selector)
    if box.evaluate("e => e.tagName") == "SELECT":
        box.select_option(index=1)
        return box.locator("option:checked").inner_text()
    box.click()
    item = page.locator("[data-picker-list] [data-id]").first
    title = item.get_attribute("data-title") or ""
    item.click()
    expect(box).to_have_value(title)
    return title


def field_row(page: Page, key: str):
    return page.get_by_test_id("fields").locator(f"tr[data-field='{key}']")


def test_administrator_builds_a_table_and_uses_it(page, server):
    # given: the administrator opens the designer
    login(page, server)
    page.goto(server.url + "/designer/")
    expect(page.get_by_role("heading", name="Конструктор")).to_be_visible()
    expect(page.get_by_test_id("category-crm")).to_contain_text("Контрагенты")

    # when: he creates a table «Поставки» in «Компания»
    page.fill("#id_table-label", "Поставки")
    page.select_option("#id_table-category", label="Компания")
    page.get_by_role("button", name="Создать таблицу").click()
    # then
    expect(page.get_by_test_id("designer-table-title")).to_have_text("Поставки")
    expect(page.get_by_test_id("fields")).to_contain_text("В таблице пока нет полей.")

    # when: he adds fields of several types
    add_field(page, "Товар", fill=lambda: page.check("#id_new-required"))
    add_field(page, "Количество")  # text for now: retyped below

    add_field(page, "Дата поставки", "date")

    def options() -> None:
        editor = page.get_by_test_id("choices-editor")
        editor.locator("#id_choices-0-label").fill("Ожидается")
        editor.locator("#id_choices-0-color").fill("#0dcaf0")
        editor.locator("#id_choices-1-label").fill("Получено")
        editor.locator("#id_choices-1-color").fill("#198754")
        editor.locator("#id_choices-2-label").fill("Отменено")
        editor.locator("#id_choices-2-color").fill("#dc3545")

    add_field(page, "Состояние", "choice", fill=options)
    add_field(
        page,
        "Поставщик",
        "link",
        fill=lambda: page.select_option("#id_new-link_table", label="Контрагенты"),
    )
    add_field(page, "Сумма", "money")
    # then: the field list shows them in order, with their types and options
    rows = page.get_by_test_id("fields").locator("tbody tr")
    expect(rows).to_have_count(6)
    expect(field_row(page, "tovar")).to_contain_text("обязательное")
    expect(field_row(page, "data_postavki").get_by_test_id("field-type")).to_have_text("Дата")
    expect(field_row(page, "sostoyanie")).to_contain_text("Получено")
    expect(field_row(page, "postavshchik")).to_contain_text("→ Контрагенты")

    # when: the record title is the goods' name
    page.get_by_role("button", name="Товар", exact=True).click()
    expect(page.locator("#id_settings-title_template")).to_have_value("{tovar}")
    page.locator("#table-settings").get_by_role("button", name="Сохранить").click()
    expect(
        page.get_by_role("alert").filter(has_text="Настройки таблицы сохранены.")
    ).to_be_visible()

    # when: he moves «Сумма» up one place (HTMX, no reload)
    field_row(page, "summa").get_by_role("button", name="«Сумма» выше").click()
    expect(rows.nth(4)).to_have_attribute("data-field", "summa")

    # when: he adds a record through the ordinary record pages
    page.get_by_role("link", name="+ Новая запись").click()
    page.fill("#id_tovar", "Бумага А4")
    page.fill("#id_kolichestvo", "1 200")
    page.fill("#id_data_postavki", "15.03.2026")
    page.select_option("#id_sostoyanie", label="Получено")
    supplier = pick_first_record(page, "#id_postavshchik")
    page.fill("#id_summa", "4 500,50")
    page.get_by_role("button", name="Сохранить").click()
    # then
    expect(page.get_by_test_id("record-title")).to_have_text("Бумага А4")
    expect(page.locator("[data-field=sostoyanie]")).to_have_text("Получено")
    expect(page.locator("[data-field=postavshchik]")).to_have_text(supplier)

    # when: he renames «Товар» in the designer
    page.goto(server.url + "/designer/t/postavki/")
    field_row(page, "tovar").get_by_role("link", name="Товар").click()
    page.fill("#id_label", "Наименование")
    page.get_by_role("button", name="Сохранить").click()
    # then
    expect(field_row(page, "tovar")).to_contain_text("Наименование")

    # when: he makes «Количество» an integer; «1 200» converts
    field_row(page, "kolichestvo").get_by_role("link", name="Изменить").click()
    choose_type(page, "integer", prefix="")
    page.get_by_role("button", name="Сохранить").click()
    # then
    expect(field_row(page, "kolichestvo").get_by_test_id("field-type")).to_have_text("Целое число")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "designer.png"), full_page=True)

    # then: the records page follows every change at once, without a restart
    page.goto(server.url + "/t/postavki/")
    grid = page.get_by_test_id("grid")
    expect(grid.locator("thead")).to_contain_text("Наименование")
    expect(grid).to_contain_text("Бумага А4")
    expect(grid).to_contain_text("1\u00a0200")
    expect(grid).to_contain_text("4\u00a0500,50")


def test_refused_retype_is_explained(page, server):
    # given: a table with a text field holding a word
    login(page, server)
    page.goto(server.url + "/designer/")
    page.fill("#id_table-label", "Заметки")
    page.get_by_role("button", name="Создать таблицу").click()
    add_field(page, "Номер")
    page.goto(server.url + "/t/zametki/new/")
    page.fill("#id_nomer", "abc")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_test_id("record-title")).to_have_text("abc")

    # when: he tries to make it an integer
    page.goto(server.url + "/designer/t/zametki/f/nomer/")
    choose_type(page, "integer", prefix="")
    page.get_by_role("button", name="Сохранить").click()
    # then: the message names the record and nothing changed
    expect(page.get_by_test_id("form-errors")).to_contain_text(
        "Значение 1 записи не подходит для нового типа"
    )
    expect(page.get_by_test_id("form-errors")).to_contain_text("«abc»")
    page.screenshot(path=str(ARTIFACTS / "designer-refused.png"), full_page=True)
    page.goto(server.url + "/designer/t/zametki/")
    expect(field_row(page, "nomer").get_by_test_id("field-type")).to_have_text("Текст")
