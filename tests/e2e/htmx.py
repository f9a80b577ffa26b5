"""Waiting for HTMX in browser tests: a partial swap is processed by HTMX a moment after the new
HTML is in the page, so a test acts only once no request, swap or settle is under way."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

_BUSY = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"


def wait_htmx_idle(page: Page, timeout: float = 5000) -> None:
    page.wait_for_function(f"() => !document.querySelector({_BUSY!r})", timeout=timeout)


def open_subtable_form(page: Page, subtable: Locator) -> None:
    """Press «+ Добавить» in a subtable and wait until its form has finished opening: while
    Bootstrap's collapse animates, a click on a checkbox in it may not take."""
    subtable.get_by_role("button", name="+ Добавить").click()
    expect(subtable.locator(".collapse.show form").first).to_be_visible()
    wait_htmx_idle(page)


def save_subtable_row(page: Page, subtable: Locator) -> None:
    """Press «Сохранить строку» in an open subtable form once the form has finished opening
    and HTMX is idle, and wait for the server's answer (a loaded machine may take seconds)."""
    # Bootstrap marks the form's box «collapse show» only once it has finished opening.
    expect(subtable.locator(".collapse.show form").first).to_be_visible()
    wait_htmx_idle(page)
    with page.expect_response(
        lambda r: "/sub/" in r.url and r.request.method == "POST", timeout=30000
    ) as answer:
        subtable.get_by_role("button", name="Сохранить строку").click()
    assert answer.value.status == 200, f"{answer.value.url} answered {answer.value.status}"
    wait_htmx_idle(page, timeout=30000)
