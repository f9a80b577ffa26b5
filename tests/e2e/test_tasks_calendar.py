"""Tasks in a real browser: the administrator assigns a task to a manager, whose bell lights up
without a reload; the manager opens the task from the notification, logs a work row, finds the
task on its deadline in the calendar and drags it to the next day."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.htmx import open_subtable_form, save_subtable_row, wait_htmx_idle
from tests.e2e.test_journey import login

pytestmark = pytest.mark.e2e

PASSWORD = "Xk2#pLq9!vR-tasks"


def login_as(page, server, username, password):
    page.goto(server.url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("current-user")).to_be_visible()


def test_assign_notify_log_work_and_reschedule_in_the_calendar(page, browser, server):
    # given a manager who is looking at the home page
    server.cli(
        "createuser",
        "petrova",
        "--password",
        PASSWORD,
        "--group",
        "Менеджеры",
        "--full-name",
        "Петрова Анна",
        "--email",
        "petrova@example.ru",
    )
    manager_context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ru-RU")
    # The bell asks every 15 s: the manager's page runs on a clock the test can move forward
    # (it runs at its real pace otherwise), so the test need not sit out the period.
    manager_context.clock.install()
    manager = manager_context.new_page()
    login_as(manager, server, "petrova", PASSWORD)
    expect(manager.get_by_test_id("bell")).to_be_visible()
    expect(manager.get_by_test_id("bell-count")).to_have_count(0)

    # when the administrator assigns her a task from her employee card
    today = dt.date.today()
    deadline = (today.replace(day=1) + dt.timedelta(days=40)).replace(day=10)
    login(page, server)
    page.goto(server.url + "/t/employees/")
    page.get_by_role("link", name="Петрова Анна").first.click()
    page.get_by_role("link", name="Назначить задание").click()
    expect(page).to_have_url(re.compile(r"/t/tasks/new/\?assignee=\d+"))
    page.fill("#id_title", "Подготовить коммерческое предложение")
    page.fill("#id_hours_needed", "3,5")
    page.fill("#id_deadline", f"{deadline.isoformat()}T15:00")
    page.select_option("#id_priority", label="Высокий")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_test_id("record-title")).to_have_text("Подготовить коммерческое предложение")
    expect(page.locator("[data-field=assignee]")).to_have_text("Петрова Анна")

    # then the manager's bell shows 1 without a reload once its next 15 s period is over: the
    # clock jumps past it, firing the bell's timer (were its previous answer still on the way,
    # the next period would start from that answer: the wait covers one more period)
    manager.clock.fast_forward(16_000)
    expect(manager.get_by_test_id("bell-count")).to_have_text("1", timeout=45_000)
    ARTIFACTS.mkdir(exist_ok=True)
    manager.screenshot(path=str(ARTIFACTS / "bell-unread.png"))

    # when she clicks it and then the notification
    manager.get_by_test_id("bell").click()
    expect(manager.get_by_test_id("notification")).to_have_count(1)
    manager.screenshot(path=str(ARTIFACTS / "notifications.png"))
    manager.get_by_role(
        "link", name="Вам назначено задание «Подготовить коммерческое предложение»"
    ).click()
    # then she is on the task
    expect(manager.get_by_test_id("record-title")).to_have_text(
        "Подготовить коммерческое предложение"
    )
    expect(manager.get_by_test_id("bell-count")).to_have_count(0)

    # when she logs a work row
    work = manager.get_by_test_id("subtable-task_work")
    open_subtable_form(manager, work)
    work.locator("textarea[name='sub-task_work-description']").fill("Собрала цены")
    work.locator("input[name='sub-task_work-hours_spent']").fill("1,5")
    work.locator("input[name='sub-task_work-done']").check()
    expect(work.locator("input[name='sub-task_work-done']")).to_be_checked()
    work.locator("select[name='sub-task_work-state']").select_option(label="В работе")
    save_subtable_row(manager, work)
    expect(manager.get_by_test_id("subtable-task_work").get_by_text("Собрала цены")).to_be_visible()
    manager.reload()
    expect(manager.locator("[data-field=state]")).to_have_text("В работе")
    task_url = manager.url

    # then the calendar shows the task on its deadline
    manager.goto(server.url + f"/calendar/?view=month&date={deadline.isoformat()}")
    day = manager.get_by_test_id(f"day-{deadline.isoformat()}")
    item = day.get_by_test_id("cal-item").filter(has_text="Подготовить коммерческое предложение")
    expect(item).to_be_visible()
    expect(item).to_contain_text("15:00")
    manager.screenshot(path=str(ARTIFACTS / "calendar-month.png"))

    # when she drags it to the next day (once the menu's HTMX requests that the page fires on
    # load have been answered and swapped: a swap during the drag may move what it aims at)
    next_day = deadline + dt.timedelta(days=1)
    target = manager.get_by_test_id(f"day-{next_day.isoformat()}")
    wait_htmx_idle(manager, timeout=30_000)
    with manager.expect_response(re.compile(r"/calendar/move/$")) as moved:
        item.drag_to(target)
    assert moved.value.ok, moved.value.text()
    # then it is there after the calendar refreshes, and the deadline moved in the card's history
    expect(
        manager.get_by_test_id(f"day-{next_day.isoformat()}")
        .get_by_test_id("cal-item")
        .filter(has_text="Подготовить коммерческое предложение")
    ).to_be_visible()
    expect(
        manager.get_by_test_id(f"day-{deadline.isoformat()}")
        .get_by_test_id("cal-item")
        .filter(has_text="Подготовить коммерческое предложение")
    ).to_have_count(0)
    manager.goto(task_url)
    expect(manager.locator("[data-field=deadline]")).to_have_text(f"{next_day:%d.%m.%Y} 15:00")
    history = manager.get_by_test_id("history")
    expect(history).to_contain_text(f"{deadline:%d.%m.%Y} 15:00")
    expect(history).to_contain_text("(calendar)")

    # and the administrator's reminder settings list the shipped reminders
    page.goto(server.url + "/notifications/reminders/")
    expect(page.get_by_test_id("reminders")).to_contain_text("Задание просрочено")
    page.get_by_role("link", name="Срок задания завтра").click()
    expect(page.get_by_test_id("reminder-form")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "reminder-form.png"), full_page=True)
    # and the calendar of everyone, for the record
    manager.goto(server.url + f"/calendar/?view=month&date={next_day.isoformat()}&user=all")
    manager.screenshot(path=str(ARTIFACTS / "calendar-after-drag.png"))
    manager_context.close()
