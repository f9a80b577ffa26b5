"""One journey through own reports and the desktop in a real browser: the administrator builds
«Сумма оплаченных счетов по менеджерам по месяцам» as a stacked bar chart, drills into a bar,
saves it shared with «Менеджеры»; a manager opens it and sees only his figures, puts it on his
desktop beside «Мои задания на сегодня» and drags it first."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.htmx import wait_htmx_idle

pytestmark = pytest.mark.e2e

NAME = "Сумма оплаченных счетов по менеджерам по месяцам"
PASSWORD = "Qw7!volkova-e2e"
SHOTS = Path("/tmp/shots/reports")
SETUP = """
from django.contrib.auth import get_user_model
me = get_user_model().objects.get(username="volkova")
me.set_password(%(password)r)
me.save()
"""


def login(page, server, username: str, password: str) -> None:
    page.goto(server.url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("current-user")).to_be_visible()


def test_build_drill_share_and_place_on_the_desktop(page, browser, server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    # given the administrator on «Отчёты» → «Новый отчёт»
    login(page, server, server.username, server.password)
    page.goto(server.url + "/reports/")
    page.get_by_test_id("new-report").click()
    page.select_option("#b-table", "invoices")  # the form reloads with the table's fields
    expect(page.locator("#b-g1")).to_be_visible()
    # when he groups paid invoices by manager × month, sums the totals, as a stacked bar
    page.select_option("#b-g1", "manager")
    page.select_option("#b-c", "paid_date:month")
    page.select_option("#b-m1", "sum:total")
    page.select_option("#b-chart", "stacked")
    row = page.get_by_test_id("filter-row").first
    row.locator("select[name=ff]").select_option("paid")
    row.locator("select[name=fo]").select_option("eq")
    row.locator("input[name=fv]").fill("1")
    page.get_by_test_id("report-show").click()
    chart = page.get_by_test_id("report-chart")
    expect(chart).to_be_visible()
    table = page.get_by_test_id("report-table")
    expect(table).to_contain_text("Волкова Екатерина Андреевна")
    expect(table).to_contain_text("Кузнецов Дмитрий Игоревич")
    page.screenshot(path=str(SHOTS / "e2e-builder.png"), full_page=True)
    # then a bar opens the grid of exactly its invoices
    bar = chart.locator("a.chart-link").first
    bar.click()
    expect(page).to_have_url(re.compile(r"/t/invoices/\?.*ff=paid_date"))
    expect(page.get_by_test_id("total")).to_contain_text("Всего:")
    page.go_back()
    # when he saves it shared with «Менеджеры»
    page.fill("#b-name", NAME)
    page.get_by_label("Менеджеры", exact=True).check()
    page.get_by_role("button", name="Сохранить отчёт").click()
    expect(page.get_by_test_id("report-name")).to_have_text(NAME)
    report_url = page.url

    # then a manager opening it sees his own figures only
    server.cli("manage", "shell", "-c", SETUP % {"password": PASSWORD})
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    try:
        mine = context.new_page()
        login(mine, server, "volkova", PASSWORD)
        mine.goto(report_url)
        his = mine.get_by_test_id("report-table")
        expect(his).to_contain_text("Волкова Екатерина Андреевна")
        expect(his).not_to_contain_text("Кузнецов")
        # when he puts it on his desktop and drags it before «Мои задания на сегодня»
        mine.goto(server.url + "/")
        mine.get_by_test_id("widget-add").locator("select").select_option(label=NAME)
        mine.get_by_role("button", name="Добавить виджет").click()
        titles = mine.get_by_test_id("widget-title")
        expect(titles.last).to_have_text(NAME)
        expect(titles.first).to_have_text("Мои задания на сегодня")
        wait_htmx_idle(mine)
        widgets = mine.get_by_test_id("widget")
        widgets.last.drag_to(widgets.first, target_position={"x": 20, "y": 20})
        # then the order is kept (the page reloads with it)
        expect(titles.first).to_have_text(NAME)
        expect(titles.nth(1)).to_have_text("Мои задания на сегодня")
        expect(mine.locator("[data-testid^=widget-chart-]")).to_be_visible()
        mine.screenshot(path=str(SHOTS / "e2e-desktop.png"), full_page=True)
    finally:
        context.close()
