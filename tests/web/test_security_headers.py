"""The Content-Security-Policy of the pages, the templates it relies on, and the deploy check."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import kartoteka

TEMPLATES = sorted(Path(kartoteka.__file__).parent.glob("*/templates/**/*.html"))
#: Shown to administrators to paste into their own website, never served as a page of ours.
SNIPPET = "webforms/snippet.html"


def _policy(response) -> dict[str, str]:
    return {
        part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
        for part in (p.strip() for p in response["Content-Security-Policy"].split(";"))
    }


def test_pages_carry_a_policy_without_inline_script(client, admin_user):
    # given
    client.force_login(admin_user)
    # when
    policy = _policy(client.get("/t/counterparties/"))
    # then
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["style-src-attr"] == "'unsafe-inline'"
    assert policy["object-src"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'self'"


def test_the_invoice_print_view_styles_itself_by_the_responses_nonce(client, admin_user, crm):
    # given: an invoice
    from tests.crm.test_invoices import make_company, make_counterparty, make_invoice

    invoice = make_invoice(
        make_counterparty(), [("Настройка", 1, "ч", "100.00")], company=make_company()
    )
    client.force_login(admin_user)
    # when
    response = client.get(f"/documents/invoices/{invoice.pk}/print/")
    # then: its one <style> carries the nonce the policy names
    nonce = re.search(r"<style nonce=\"([^\"]+)\">", response.content.decode()).group(1)
    assert _policy(response)["style-src"] == f"'self' 'nonce-{nonce}'"


def test_the_public_web_form_page_may_send_the_visitor_on_to_its_redirect(client, admin, table):
    # given: a web form that sends the visitor to the shop's page after a submission
    from kartoteka.webforms import services
    from kartoteka.webforms.services import InputSpec

    form = services.save_webform(
        admin,
        table("counterparties"),
        name="Заявка",
        inputs=[InputSpec("name", "Имя", required=True)],
        redirect_url="https://shop.example.ru/thanks",
    )
    # when
    plain = _policy(client.get(f"/f/{form.key}/"))
    # then
    assert plain["form-action"] == "'self' https://shop.example.ru"
    assert plain["frame-ancestors"] == "'none'"


def test_templates_have_no_inline_script_or_event_handlers():
    # given: every template served as a page (the web form snippet is for other sites)
    offending = []
    for path in TEMPLATES:
        if path.as_posix().endswith(SNIPPET):
            continue
        text = path.read_text(encoding="utf-8")
        # then: scripts come from files, no on…= handlers, no javascript: links, no htmx
        # attributes that need eval (hx-on, js: values, trigger filters)
        if re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", text):
            offending.append(f"{path.name}: inline <script>")
        if re.search(r"\son[a-z]+\s*=", text):
            offending.append(f"{path.name}: on… handler")
        if re.search(r"javascript:|hx-on|hx-vals=['\"]js:|hx-trigger=\"[^\"]*\[", text):
            offending.append(f"{path.name}: script in an attribute")
        if re.search(r"<style(?![^>]*nonce)", text):
            offending.append(f"{path.name}: <style> without the nonce")
    assert offending == []


def test_the_deploy_check_is_clean_behind_https(tmp_path):
    # given: an installation behind HTTPS with its own secret key
    env = {
        **os.environ,
        "KARTOTEKA_DATA_DIR": str(tmp_path),
        "KARTOTEKA_HTTPS": "1",
        "KARTOTEKA_SECRET_KEY": "k" * 20 + "Zq8#mW2$vN5&xR9!tL4@pB7^cF1*hJ6%",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    # when
    result = subprocess.run(
        [sys.executable, "-m", "kartoteka.cli", "manage", "check", "--deploy"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
    assert result.stderr == ""
