"""The main pages on a phone (390×844) and a laptop (1366×768): nothing scrolls sideways — wide
tables scroll inside their own box — and the grid's main actions are on screen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

VIEWPORTS = {"phone": (390, 844), "laptop": (1366, 768)}

#: Elements sticking out to the right of the window that can widen the page: those outside any
#: box that scrolls sideways, and absolutely positioned ones (a box clips them only when it is
#: their containing block) — listed when the page is too wide, to say which element is to blame.
OVERFLOWING = """() => {
  const width = window.innerWidth;
  const scrolls = el => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const x = getComputedStyle(p).overflowX;
      const page = p === document.documentElement || p === document.body;
      if (!page && ['auto', 'scroll', 'hidden'].includes(x)) return true;
    }
    return false;
  };
  return [...document.body.querySelectorAll('*')]
    .filter(el => el.getBoundingClientRect().right > width + 1 &&
                  (!scrolls(el) || getComputedStyle(el).position === 'absolute'))
    .slice(0, 8)
    .map(el => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} ` +
                `${Math.round(el.getBoundingClientRect().right)}px`);
}"""


@contextmanager
def logged_in_page(browser, server, width: int, height: int) -> Iterator[Page]:
    """A page of its own browser context at the given size, the administrator logged in."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="ru-RU")
    try:
        page = context.new_page()
        page.goto(server.url + "/login/")
        page.fill("#id_username", server.username)
        page.fill("#id_password", server.password)
        page.click("button[type=submit]")
        expect(page).not_to_have_url(re.compile(r"/login/"))
        yield page
    finally:
        context.close()


@pytest.fixture(params=list(VIEWPORTS))
def sized(request, browser, admin_session):
    """A page of the given size, the administrator logged in (once for the session)."""
    width, height = VIEWPORTS[request.param]
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="ru-RU", storage_state=admin_session
    )
    page = context.new_page()
    yield request.param, page
    # what was measured was the page asked for, not the log-in page
    assert "/login/" not in page.url, page.url
    context.close()


def assert_no_sideways_scroll(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"fit-{name}.png"), full_page=True)
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, (
        f"{name}: page {scroll_width}px wide in a {inner_width}px window; "
        f"overflowing: {page.evaluate(OVERFLOWING)}"
    )


def assert_on_screen(page, locator) -> None:
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    width = page.evaluate("window.innerWidth")
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, box


def test_the_grid_fits_and_its_actions_are_on_screen(sized, server):
    size, page = sized
    # when
    page.goto(server.url + "/t/counterparties/")
    # then
    assert_no_sideways_scroll(page, f"grid-{size}")
    for action in (
        page.locator("#search-form").get_by_role("searchbox", name="Поиск"),
        page.get_by_role("button", name=re.compile("^Фильтр")),
        page.get_by_role("link", name="Столбцы"),
        page.get_by_role("link", name="+ Добавить"),
        page.get_by_role("button", name="Экспортировать"),
        page.get_by_role("link", name=re.compile("Вперёд")),
    ):
        assert_on_screen(page, action)


def test_the_whole_filters_totals_arrive_after_the_grid(sized, server):
    size, page = sized
    # when
    page.goto(server.url + "/t/invoices/")
    # then: the «Всего» row is filled in by HTMX once the grid is shown
    expect(page.get_by_test_id("filter-totals")).to_contain_text("₽")
    assert_no_sideways_scroll(page, f"invoices-{size}")


def test_a_record_card_fits(sized, server):
    size, page = sized
    # given: a counterparty with client work, invoices and a history
    page.goto(server.url + "/t/counterparties/?ff=manager&fo=not_empty&fv=&fv2=")
    page.get_by_test_id("grid").locator("tbody tr td:nth-child(2) a").first.click()
    expect(page.get_by_test_id("record-title")).to_be_visible()
    # then
    assert_no_sideways_scroll(page, f"card-{size}")
    assert_on_screen(page, page.get_by_role("link", name="Редактировать"))


def test_the_table_designer_fits(sized, server):
    size, page = sized
    # when
    page.goto(server.url + "/designer/t/counterparties/")
    # then
    assert_no_sideways_scroll(page, f"designer-{size}")
    page.goto(server.url + "/designer/")
    assert_no_sideways_scroll(page, f"designer-home-{size}")


MANY_CATEGORIES = """
from kartoteka.core.actor import Actor
from kartoteka.tables import services
from kartoteka.tables.models import Category

actor = Actor.system("test")
for i in range(6):
    key = f"wide{i}"
    if not Category.objects.filter(key=key).exists():
        category = services.create_category(actor, key=key, label=f"Длинная категория {i}")
        services.create_table(actor, key=f"wide_table{i}", label=f"Таблица {i}", category=category)
"""


def test_many_categories_wrap_in_the_menu_bar(sized, server):
    # given: six more categories, each a menu of its own
    server.cli("manage", "shell", "-c", MANY_CATEGORIES)
    size, page = sized
    # when
    page.goto(server.url + "/t/counterparties/")
    # then: the bar keeps to one line, what does not fit moves under «Ещё» (or the bar folds
    # into its button on a phone), the page does not widen
    assert_no_sideways_scroll(page, f"menu-{size}")
    if size == "laptop":
        assert page.locator("nav.navbar").bounding_box()["height"] < 70
        assert_on_screen(page, page.get_by_test_id("current-user"))
        page.get_by_role("button", name="Ещё").click()
        more = page.locator("[data-nav-more-menu]")
        assert_on_screen(page, more.get_by_text("Длинная категория 5"))
        assert_on_screen(page, more.get_by_role("link", name="Таблица 5"))
