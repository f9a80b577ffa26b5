"""The Content-Security-Policy holds the whole site: a walk over the main pages in a real browser —
grid (quick search, filter builder), card (a subtable form), designer, calendar (drag and drop),
import wizard (to the dry run), invoice print view, a web form's public page and a submission —
with every page's policy checked and not one violation reported (console or
``securitypolicyviolation`` events), nor an htmx error (htmx runs here without eval)."""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import WEBFORM_WAIT_MS
from tests.e2e.htmx import wait_htmx_idle
from tests.e2e.test_journey import login

pytestmark = pytest.mark.e2e

#: Records every violation in the page itself (an init script is not subject to the policy).
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " +
                    (e.sourceFile || "") + ":" + (e.lineNumber || 0));
});
"""


def _api(server, token: str, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        server.url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def test_main_pages_run_under_the_content_security_policy(page, server, tmp_path):
    # given: a browser that reports every policy violation and htmx error
    problems: list[str] = []

    def on_console(message) -> None:
        text = message.text
        refused = "Content Security Policy" in text or "Content-Security-Policy" in text
        if refused or (message.type == "error" and "htmx" in text.lower()):
            problems.append(f"{page.url}: {text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
    page.add_init_script(RECORD_VIOLATIONS)
    policies: dict[str, str] = {}
    page.on(
        "response",
        lambda r: (
            policies.setdefault(r.url, r.headers.get("content-security-policy", ""))
            if r.request.resource_type == "document"
            else None
        ),
    )

    def settled() -> None:
        page.wait_for_load_state("load")
        wait_htmx_idle(page, timeout=30000)
        problems.extend(f"{page.url}: {v}" for v in page.evaluate("window.__csp || []"))

    # and: a task due today, to drag in the calendar
    today = dt.date.today()
    token = server.cli("token", "create", "--user", server.username, "--name", "csp").strip()
    task = _api(
        server,
        token,
        "POST",
        "/api/v1/tables/tasks/records/",
        {"title": "Проверить политику", "deadline": f"{today.isoformat()}T15:00:00+03:00"},
    )

    # when: the administrator walks the main pages
    login(page, server)
    settled()
    page.goto(server.url + "/t/counterparties/")
    settled()
    page.get_by_test_id("grid").locator("tbody tr").first.wait_for()
    search = page.get_by_role("searchbox", name="Поиск", exact=True)
    search.fill("ООО")
    search.press("Enter")
    settled()
    page.get_by_test_id("grid").locator("tbody tr a").first.click()
    settled()
    card_url = page.url
    add_work = page.get_by_role("button", name=re.compile("Добавить")).first
    if add_work.is_visible():
        add_work.click()
        settled()
    page.goto(server.url + "/designer/")
    settled()
    page.goto(server.url + "/designer/t/counterparties/")
    settled()
    page.goto(server.url + "/t/invoices/")
    settled()
    invoice = page.get_by_test_id("grid").locator("tbody tr a").first
    if invoice.count():
        invoice.click()
        settled()
        page.goto(page.url.rstrip("/").replace("/t/invoices/", "/documents/invoices/") + "/print/")
        settled()
    for path in ("/reports/funnel/", "/notifications/", "/settings/access/", "/api/v1/docs/"):
        page.goto(server.url + path)
        settled()

    # the calendar: the task is dragged to tomorrow
    page.goto(server.url + f"/calendar/?view=month&date={today.isoformat()}&user=all")
    settled()
    item = page.get_by_test_id("cal-item").filter(has_text="Проверить политику")
    expect(item).to_be_visible()
    tomorrow = today + dt.timedelta(days=1)
    target = page.get_by_test_id(f"day-{tomorrow.isoformat()}")
    if target.count():
        with page.expect_response(re.compile(r"/calendar/move/$")) as moved:
            item.drag_to(target)
        assert moved.value.ok, moved.value.text()
        settled()
        moved_task = _api(server, token, "GET", f"/api/v1/tables/tasks/records/{task['id']}/")
        assert moved_task["deadline"].startswith(tomorrow.isoformat())

    # the import wizard, to its dry run
    csv = tmp_path / "clients.csv"
    csv.write_text("Наименование;Город\nООО «Политика»;Тверь\n", encoding="utf-8")
    page.goto(server.url + "/t/counterparties/import/")
    settled()
    page.set_input_files("#id_file", str(csv))
    page.get_by_role("button", name="Далее →").click()
    settled()
    page.select_option("#id_encoding", label="Windows-1251")
    settled()
    page.select_option("#id_encoding", label="UTF-8")
    settled()
    page.get_by_role("button", name="Далее →").click()
    settled()
    page.select_option("#col-0", "name")
    for _step in range(3):
        button = page.get_by_role("button", name=re.compile(r"^(Далее|Проверить) →$"))
        button.click()
        settled()
    expect(page.get_by_test_id("total-create")).to_have_text("1")

    # a web form's public page, and a submission from it
    page.goto(server.url + "/integrations/forms/")
    settled()
    page.fill("#id_name", "Политика")
    page.get_by_role("button", name="Создать форму").click()
    settled()
    public_url = page.get_by_test_id("webform-public-url").inner_text()
    page.goto(public_url)
    settled()
    page.fill("#kt-name", "ООО Политика-лид")
    page.wait_for_timeout(WEBFORM_WAIT_MS)
    page.get_by_role("button", name="Отправить").click()
    settled()
    expect(page.get_by_test_id("webform-message")).to_be_visible()

    # back on the card, a confirm form cancelled keeps the record
    page.goto(card_url)
    settled()

    # then: every page had the policy, and nothing was refused
    pages = {url: policy for url, policy in policies.items() if url.startswith(server.url)}
    assert pages, "no page was seen"
    missing = [url for url, policy in pages.items() if "script-src 'self'" not in policy]
    assert missing == []
    assert all("frame-ancestors 'none'" in policy for policy in pages.values())
    assert problems == [], "\n".join(problems)
