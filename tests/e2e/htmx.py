"""Waiting for HTMX in browser tests: a partial swap is processed by HTMX a moment after the new
HTML is in the page, so a test acts only once no request, swap or settle is under way."""

from __future__ import annotations

from playwright.sync_api import Page

_BUSY = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"


def wait_htmx_idle(page: Page, timeout: float = 5000) -> None:
    page.wait_for_function(f"() => !document.querySelector({_BUSY!r})", timeout=timeout)
