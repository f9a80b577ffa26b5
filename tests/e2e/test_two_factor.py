"""Two-factor log-in in a real browser: a manager sets up an authenticator app from his profile
(the code computed from the page's ``otpauth://`` address, as an app would), logs out, and logs
in with the password and then a code."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

PASSWORD = "Qw7!two-factor-e2e"
SETUP = """
from django.contrib.auth import get_user_model
from kartoteka.accounts.services import create_user
from kartoteka.core.actor import Actor

if not get_user_model().objects.filter(username="sokolov").exists():
    create_user(Actor.system("e2e"), username="sokolov", password=%(password)r,
                group="Менеджеры", full_name="Соколов Семён Ильич")
"""


def _password(page, server) -> None:
    page.goto(server.url + "/login/")
    page.fill("#id_username", "sokolov")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_a_manager_enrols_an_app_and_logs_in_with_a_code(page, server):
    server.cli("manage", "shell", "-c", SETUP % {"password": PASSWORD})
    # given: logged in, on his profile
    _password(page, server)
    page.get_by_test_id("user-menu").get_by_role("button").click()
    page.get_by_test_id("profile-link").click()
    expect(page.get_by_test_id("two-factor")).to_contain_text("выключен")
    page.screenshot(path=str(ARTIFACTS / "profile.png"), full_page=True)
    # when: he scans the QR code (reads its address) and types the app's code
    page.get_by_test_id("two-factor-setup").click()
    expect(page.get_by_test_id("qr")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "two-factor-enrol.png"), full_page=True)
    url = page.get_by_test_id("otpauth").text_content()
    totp = pyotp.TOTP(parse_qs(urlparse(url).query)["secret"][0])
    page.fill("input[name=code]", totp.now())
    page.click("form button[type=submit]:has-text('Подтвердить')")
    # then: ten recovery codes, shown once
    expect(page.get_by_test_id("recovery-codes").locator("code")).to_have_count(10)
    page.screenshot(path=str(ARTIFACTS / "two-factor-codes.png"), full_page=True)
    # when: he logs out and in again
    page.get_by_test_id("user-menu").get_by_role("button").first.click()
    page.get_by_role("button", name="Выйти").click()
    _password(page, server)
    # then: the password alone is not enough
    expect(page.locator("#id_code")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "two-factor-login.png"), full_page=True)
    page.fill("#id_code", totp.at(time.time() + 30))
    page.click("button[type=submit]")
    expect(page.get_by_test_id("current-user")).to_have_text("Соколов С. И.")
