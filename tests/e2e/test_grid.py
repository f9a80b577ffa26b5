"""The grid in a real browser: filter and save a view; select all rows of a filter across pages
and assign them a manager in bulk."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.test_journey import login

pytestmark = pytest.mark.e2e


def total(page) -> int:
    text = page.get_by_test_id("total").inner_text()
    return int(re.sub(r"\D", "", text))


def column(page, label: str) -> int:
    """The index of the grid's column headed ``label`` (the order is the user's to change)."""
    headers = page.get_by_test_id("grid").locator("thead tr").first.locator("th")
    return [h.strip() for h in headers.all_inner_texts()].index(label)


def test_filter_and_save_a_view(page, server):
    # given
    login(page, server)
    page.goto(server.url + "/t/counterparties/")
    everyone = total(page)
    # when: a condition «Статус равно Холодный» is built and applied
    page.get_by_role("button", name=re.compile("^Фильтр")).click()
    page.get_by_role("button", name="+ Условие").click()
    row = page.locator("#conditions [data-condition]").last
    row.locator("[data-field]").select_option(label="Статус")
    row.locator("[data-op]").select_option(label="равно")
    row.locator("select[name=fv]").select_option(label="Холодный")
    page.get_by_role("button", name="Применить").click()
    # then
    cold = total(page)
    assert 0 < cold < everyone
    statuses = (
        page.get_by_test_id("grid")
        .locator(f"tbody tr td:nth-child({column(page, 'Статус') + 1})")
        .all_inner_texts()
    )
    assert set(statuses) == {"Холодный"}
    # when: the filter is saved under a name
    page.get_by_placeholder("Название фильтра").fill("Холодные клиенты")
    page.get_by_role("button", name="Сохранить фильтр").click()
    # then: the view is listed with its row count and re-applies the filter
    view = page.get_by_test_id("views").get_by_role("link", name=re.compile("Холодные клиенты"))
    expect(view).to_contain_text(str(cold))
    page.goto(server.url + "/t/counterparties/")
    page.get_by_test_id("views").get_by_role("link", name=re.compile("Холодные клиенты")).click()
    assert total(page) == cold


def test_select_all_rows_of_a_filter_across_pages_and_assign_a_manager(page, server):
    # given: a filter with more rows than one page shows
    login(page, server)
    page.goto(server.url + "/t/counterparties/?ff=manager&fo=not_empty&fv=&fv2=")
    matching = total(page)
    assert matching > 50
    # when: every row of the filter is selected and «Изменить…» chosen
    page.locator("[data-select-page]").check()
    page.get_by_role("button", name=re.compile("Выбрать все")).click()
    expect(page.locator("[data-selected-count]")).to_contain_text(str(matching))
    page.get_by_role("button", name="Изменить…").click()
    # then: the confirmation says how many records will change
    expect(page.get_by_test_id("bulk-count")).to_have_text(f"Будет изменено записей: {matching}.")
    # when: the manager is set to Volkova with the type-ahead picker
    page.locator("#set-manager").check()
    page.locator("#id_bulk-manager").fill("Волк")
    page.locator("[data-picker-list] [data-id]", has_text="Волкова").click()
    page.get_by_role("button", name=re.compile("Подтвердить")).click()
    # then
    expect(page.get_by_role("alert")).to_contain_text(f"Изменено записей: {matching}.")
    page.goto(server.url + "/t/counterparties/?ff=manager&fo=not_empty&fv=&fv2=")
    managers = set(
        page.get_by_test_id("grid")
        .locator("tbody tr")
        .evaluate_all("(rows, i) => rows.map(r => r.cells[i].innerText)", column(page, "Менеджер"))
    )
    assert managers == {"Волкова Екатерина Андреевна"}


def test_export_the_selection_and_read_it_back(page, server):
    from io import BytesIO

    from python_calamine import CalamineWorkbook

    # given: two rows ticked on a page sorted by name
    login(page, server)
    page.goto(server.url + "/t/counterparties/?o=name")
    rows = page.get_by_test_id("grid").locator("tbody tr")
    wanted = [rows.nth(i).locator("td").nth(2).inner_text() for i in (0, 1)]
    inns = [rows.nth(i).locator("td").nth(column(page, "ИНН")).inner_text() for i in (0, 1)]
    rows.nth(0).locator("input[name=ids]").check()
    rows.nth(1).locator("input[name=ids]").check()
    # when: exported for Russian Excel
    page.get_by_role("button", name="Экспортировать").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="CSV для Excel (Windows-1251, «;»)").click()
    text = Path(download.value.path()).read_text(encoding="cp1251")
    # then
    lines = text.strip().splitlines()
    header = lines[0].split(";")
    assert header[:2] == ["№", "Название"]
    assert [line.split(";")[1] for line in lines[1:]] == wanted
    assert [line.split(";")[header.index("ИНН")] for line in lines[1:]] == inns
    # when: the same selection as XLSX
    page.get_by_role("button", name="Экспортировать").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Excel XLSX").click()
    data = Path(download.value.path()).read_bytes()
    sheet = CalamineWorkbook.from_filelike(BytesIO(data)).get_sheet_by_index(0).to_python()
    # then
    assert [row[1] for row in sheet[1:]] == wanted
