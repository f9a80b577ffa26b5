"""What a new user tripped on (issue 16), in Chromium at the office laptop's 1366×768 (the menu
also at 1280 px) and a phone's 390×844: the grid's column filters, key and pinned columns, the
menu on one line, bulk edit ticking the changed field, a card that follows its subtables, rows
locked after payment, and the grid as compact cards on a phone."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.htmx import open_subtable_form, save_subtable_row, wait_htmx_idle
from tests.e2e.test_phone import assert_no_sideways_scroll, assert_on_screen, logged_in_page

pytestmark = pytest.mark.e2e


def total(page) -> int:
    return int(re.sub(r"\D", "", page.get_by_test_id("total").inner_text()))


def test_the_menu_keeps_to_one_line_on_a_laptop(browser, server):
    # (at 1366 px, with six more menus, see test_phone.test_many_categories_wrap_in_the_menu_bar)
    with logged_in_page(browser, server, 1280, 768) as page:
        page.goto(server.url + "/t/counterparties/")
        wait_htmx_idle(page)
        # then: one line of the bar, the user's menu on screen and «Выйти» in it
        assert page.locator("nav.navbar").bounding_box()["height"] < 70
        assert_on_screen(page, page.get_by_test_id("current-user"))
        page.get_by_test_id("user-menu").get_by_role("button").click()
        assert_on_screen(page, page.get_by_role("button", name="Выйти"))


def test_the_grid_on_a_laptop_filters_pins_and_bulk_edits(browser, server):
    with logged_in_page(browser, server, 1366, 768) as page:
        grid = page.get_by_test_id("grid")
        # given: how many rows the address's filters find
        page.goto(server.url + "/t/counterparties/?qf_status=invoice")
        invoiced = total(page)
        page.goto(server.url + "/t/counterparties/?qf_city=Москва")
        in_moscow = total(page)
        page.goto(server.url + "/t/counterparties/")
        everyone = total(page)
        assert 0 < invoiced < everyone and 0 < in_moscow < everyone
        # then: the key columns come first and are on screen
        headers = grid.locator("thead tr").first.locator("th").all_inner_texts()
        assert [h.strip() for h in headers[2:5]] == ["Название", "Статус", "Тип"]
        assert_on_screen(page, grid.locator("thead th", has_text="Статус"))
        assert_on_screen(page, grid.locator("thead th", has_text="Тип"))
        # when: «Выписан счёт» is chosen in the status column's filter box
        page.get_by_label("Фильтр: Статус", exact=True).select_option(label="Выписан счёт")
        # then
        expect(page).to_have_url(re.compile(r"qf_status=invoice"))
        expect(page.get_by_test_id("total")).to_have_text(re.compile(rf"\b{invoiced}\b"))
        # when: the status filter is cleared, «Москва» typed in the city's box and Enter pressed
        page.get_by_label("Фильтр: Статус", exact=True).select_option("")
        expect(page.get_by_test_id("total")).to_have_text(re.compile(rf"\b{everyone}\b"))
        wait_htmx_idle(page)
        page.get_by_label("Фильтр: Город", exact=True).fill("Москва")
        page.get_by_label("Фильтр: Город", exact=True).press("Enter")
        # then
        expect(page).to_have_url(re.compile(r"qf_city="))
        expect(page.get_by_test_id("total")).to_have_text(re.compile(rf"\b{in_moscow}\b"))
        wait_htmx_idle(page)
        # then: the name column is pinned — it stays put while the table scrolls sideways
        name = grid.locator("tbody tr").first.locator("td").nth(2)
        before = name.bounding_box()["x"]
        page.locator(".table-responsive").evaluate("box => { box.scrollLeft = 400; }")
        assert abs(name.bounding_box()["x"] - before) < 1
        # when: the columns up to «Тип» are pinned, and the page is opened again
        grid.get_by_label("Закрепить столбцы до «Тип»").click()
        page.reload()
        kind = grid.locator("tbody tr").first.locator("td").nth(4)
        before = kind.bounding_box()["x"]
        page.locator(".table-responsive").evaluate("box => { box.scrollLeft = 400; }")
        assert abs(kind.bounding_box()["x"] - before) < 1
        # when: a row is chosen for bulk edit and a field's value is changed
        grid.locator("tbody input[name=ids]").first.check()
        page.get_by_role("button", name="Изменить…").click()
        tick = page.locator("#set-city")
        expect(tick).not_to_be_checked()
        page.locator("[name='bulk-city']").fill("Тверь")
        # then: the field is ticked by itself
        expect(tick).to_be_checked()


@pytest.mark.parametrize("size", [(1366, 768), (390, 844)], ids=["laptop", "phone"])
def test_the_card_follows_its_subtables_and_shows_locked_rows(browser, server, size):
    label = "laptop" if size[0] > 400 else "phone"
    with logged_in_page(browser, server, *size) as page:
        # given: a client who has paid — his rows from before the payment are locked
        page.goto(server.url + "/t/counterparties/?qf_status=paid")
        page.get_by_test_id("grid").locator("tbody tr td:nth-child(2) a").first.click()
        work = page.get_by_test_id("subtable-client_work")
        locked = work.locator("tr[data-locked]")
        expect(locked.first).to_be_visible()
        expect(locked.first.get_by_test_id("row-locked")).to_have_attribute(
            "title", re.compile("после оплаты")
        )
        assert locked.first.get_by_role("button", name="Изменить").count() == 0
        assert_no_sideways_scroll(page, f"workplace-card-{label}")
        # and: on another card, the ✎ ✕ of a row are on screen
        contacts = page.get_by_test_id("subtable-contacts")
        if contacts.locator("tbody tr[data-row]").count():
            assert_on_screen(page, contacts.get_by_role("button", name="Изменить").first)
        # given: a counterparty in «Заинтересован»
        page.goto(server.url + "/t/counterparties/?qf_status=interested")
        page.get_by_test_id("grid").locator("tbody tr td:nth-child(2) a").first.click()
        status = page.get_by_test_id("record-fields").locator("[data-field=status]")
        expect(status).to_have_text("Заинтересован")
        # when: a done call moving it to «Отправлено предложение» is logged
        work = page.get_by_test_id("subtable-client_work")
        open_subtable_form(page, work)
        work.locator("select[name='sub-client_work-work_type']").select_option(label="Звонок")
        work.locator("input[name='sub-client_work-done']").check()
        # (a done row dated tomorrow is warned about before saving; today's is not)
        date = work.locator("input[name='sub-client_work-date']")
        today = date.input_value()
        tomorrow = (dt.date.fromisoformat(today) + dt.timedelta(days=1)).isoformat()
        date.fill(tomorrow)
        expect(work.locator("[data-future-done]")).to_contain_text("будущим днём")
        date.fill(today)
        expect(work.locator("[data-future-done]")).to_have_count(0)
        status_after = work.locator("select[name='sub-client_work-status']")
        options = status_after.locator("option").all_inner_texts()
        assert "Выписан счёт" not in options and "Получена оплата" not in options
        status_after.select_option(label="Отправлено предложение")
        save_subtable_row(page, work)
        # then: the card shows the new status without a reload, and the history says so
        expect(status).to_have_text("Отправлено предложение")
        expect(page.locator("#record-history")).to_contain_text("Отправлено предложение")


def test_the_grid_on_a_phone_is_a_list_of_compact_cards(browser, server):
    with logged_in_page(browser, server, 390, 844) as page:
        page.goto(server.url + "/t/counterparties/?ff=manager&fo=not_empty&fv=&fv2=")
        rows = page.get_by_test_id("grid").locator("tbody tr")
        row = rows.filter(has=page.locator("td[data-card=phone] a")).first
        # then: the name, a phone to tap, the status badge and the manager, all on screen
        for part in ("title", "phone", "badge", "user"):
            assert_on_screen(page, row.locator(f"td[data-card={part}]"))
        expect(row.locator("td[data-card=phone] a")).to_have_attribute("href", re.compile("^tel:"))
        expect(row.locator("td[data-card=badge] .badge")).to_be_visible()
        box = row.bounding_box()
        assert box["width"] > 330 and box["height"] < 120, box
        assert_no_sideways_scroll(page, "workplace-grid-phone")


def test_the_keyboard_searches_walks_the_grid_and_closes_a_form(browser, server):
    with logged_in_page(browser, server, 1366, 768) as page:
        page.goto(server.url + "/t/counterparties/")
        wait_htmx_idle(page)
        # when: «/» is pressed
        page.keyboard.press("/")
        # then: the grid's search box has the focus
        expect(page.locator("#search-form input[name=q]")).to_be_focused()
        # when: out of the box, ↓ twice and Enter
        page.locator("h1").click()
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        second = page.get_by_test_id("grid").locator("tbody tr").nth(1)
        expect(second).to_have_class(re.compile("kt-current"))
        href = second.locator("td:nth-child(2) a").get_attribute("href")
        page.keyboard.press("Enter")
        # then: the second row's card opens
        expect(page).to_have_url(server.url + href)
        # when: a row form is opened on the card and Esc pressed
        work = page.get_by_test_id("subtable-client_work")
        open_subtable_form(page, work)
        page.keyboard.press("Escape")
        # then: it folds up
        expect(work.locator(".collapse.show form")).to_have_count(0)
