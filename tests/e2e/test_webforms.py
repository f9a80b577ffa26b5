"""Website leads in a real browser, with the real background worker.

The administrator builds a web form and a webhook in «Интеграции»; a visitor sends the form's own
page in Kartoteka, and then the pasted snippet on a static page served from another loopback
port (another origin); the second lead, whose phone is written differently, merges into the
first. ``kartoteka worker`` runs beside the server and delivers the signed webhook calls to a
receiver on loopback.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import WEBFORM_WAIT_MS
from tests.e2e.test_journey import login

pytestmark = pytest.mark.e2e


def serve(handler) -> tuple[ThreadingHTTPServer, str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def test_website_leads_reach_the_base_and_the_webhook(page, server, tmp_path):
    # given: a webhook receiver on loopback and the background worker
    received: list[tuple[dict, bytes]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server calls it by this name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append((dict(self.headers.items()), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    hooks_httpd, hooks_url = serve(Receiver)
    worker = subprocess.Popen(
        [sys.executable, "-m", "kartoteka.cli", "worker"],
        env=server.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    site_httpd = None
    try:
        login(page, server)
        # when: the administrator adds a webhook for «Контрагенты» (loopback allowed explicitly)
        page.get_by_test_id("settings-menu").get_by_role("button", name="Настройки").click()
        page.get_by_test_id("settings-menu").get_by_role("link", name="Вебхуки").click()
        page.fill("#id_url", hooks_url + "/hook")
        page.get_by_role("button", name="Добавить вебхук").click()
        expect(page.get_by_test_id("error-url")).to_contain_text("ведёт во внутреннюю сеть")
        page.check("#id_allow_private")
        page.get_by_role("button", name="Добавить вебхук").click()
        expect(page.get_by_role("alert").filter(has_text="Вебхук добавлен.")).to_be_visible()
        secret = page.get_by_test_id("webhook-secret").input_value()

        # and: a static «website» on another port, the origin the form will allow
        site = tmp_path / "site"
        site.mkdir()
        handler = partial(SimpleHTTPRequestHandler, directory=str(site))
        handler.log_message = lambda *a: None  # type: ignore[attr-defined]
        site_httpd, site_url = serve(handler)

        # when: the administrator builds a web form
        page.get_by_role("link", name="Веб-формы").click()
        page.fill("#id_name", "Заявка с сайта")
        page.get_by_role("button", name="Создать форму").click()
        expect(page.get_by_role("alert").filter(has_text="создана")).to_be_visible()
        page.fill("input[name=label_name]", "Ваше имя")
        page.check("input[name=req_phone]")
        page.select_option("#def_status", label="Заинтересован")
        page.select_option("#id_assign_field", label="Менеджер")
        page.select_option("#id_assign_group", label="Менеджеры")
        page.fill("#id_allowed_origins", site_url)
        page.fill("#id_success_message", "Спасибо, перезвоним!")
        page.get_by_role("button", name="Сохранить").click()
        expect(page.get_by_role("alert").filter(has_text="Форма сохранена.")).to_be_visible()
        public_url = page.get_by_test_id("webform-public-url").inner_text()
        snippet = page.get_by_test_id("webform-snippet").input_value()

        # and: opens its public page and sends a lead, as a person would (not in a second)
        visitor = page.context.browser.new_context(locale="ru-RU").new_page()
        visitor.goto(public_url)
        visitor.fill("#kt-name", "ООО Веб-лид")
        visitor.fill("#kt-phone", "+7 912 000-11-22")
        visitor.wait_for_timeout(WEBFORM_WAIT_MS)
        visitor.get_by_role("button", name="Отправить").click()
        expect(visitor.get_by_test_id("webform-message")).to_have_text("Спасибо, перезвоним!")

        # then: the lead is in the counterparties grid
        page.goto(server.url + "/t/counterparties/?q=ООО+Веб-лид")
        rows = page.get_by_test_id("grid").locator("tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("ООО Веб-лид")
        expect(rows.first).to_contain_text("Заинтересован")

        # when: the snippet pasted on the website is sent with the phone written differently
        (site / "index.html").write_text(
            f"<!doctype html><html><head><meta charset='utf-8'><title>Магазин</title></head>"
            f"<body><h1>Свяжитесь с нами</h1>{snippet}</body></html>",
            encoding="utf-8",
        )
        visitor.goto(site_url + "/index.html")
        visitor.fill("input[name=name]", "Иван с сайта")
        visitor.fill("input[name=phone]", "8 (912) 000 11 22")
        visitor.fill("input[name=email]", "ivan@veb-lid.ru")
        visitor.fill("textarea[name=comment]", "<b>Позвоните</b> утром")
        visitor.wait_for_timeout(WEBFORM_WAIT_MS)
        visitor.get_by_role("button", name="Отправить").click()
        expect(visitor.locator("[data-kartoteka-message]")).to_have_text("Спасибо, перезвоним!")
        assert visitor.url == site_url + "/index.html"  # sent without leaving the website
        visitor.context.close()

        # then: it merged into the first lead, filling only its empty fields: the name stays,
        # the other name is a planned letter in the work log; the status kept
        page.goto(server.url + "/t/counterparties/?q=912+000+11+22")
        rows = page.get_by_test_id("grid").locator("tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("ООО Веб-лид")
        expect(rows.first).to_contain_text("Заинтересован")
        rows.first.get_by_role("link", name="ООО Веб-лид").click()
        expect(page.locator("body")).to_contain_text("ivan@veb-lid.ru")
        expect(page.locator("body")).to_contain_text("<b>Позвоните</b> утром")
        expect(page.locator("body")).to_contain_text("веб-форма №")
        expect(page.locator("body")).to_contain_text("«Иван с сайта» (в карточке: «ООО Веб-лид»)")

        # and: the worker delivered both events, signed
        deadline = time.monotonic() + 30
        while len(received) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        bodies = []
        for headers, body in received:
            digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            assert headers["X-Kartoteka-Signature"] == f"sha256={digest}"
            bodies.append(json.loads(body))
        assert [(b["event"], b["record"]["name"]) for b in bodies] == [
            ("created", "ООО Веб-лид"),
            ("updated", "ООО Веб-лид"),
        ]
        assert sorted(bodies[1]["changed"]) == ["comment", "email"]
        assert re.fullmatch(r"webform:\d+", bodies[0]["source"])
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        hooks_httpd.shutdown()
        hooks_httpd.server_close()
        if site_httpd is not None:
            site_httpd.shutdown()
            site_httpd.server_close()
        # leave the shared server without a webhook that points at a closed port
        page.goto(server.url + "/integrations/webhooks/")
        for link in page.get_by_test_id("webhooks").get_by_role("link").all()[:1]:
            link.click()
            page.once("dialog", lambda d: d.accept())
            page.get_by_role("button", name="Удалить вебхук").click()
