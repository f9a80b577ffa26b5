"""The shipped templates: each passes the save-time check, and the invoice's print, PDF and
e-mail use the default «Счёт на оплату» template — an administrator's copy when he changes it."""

from __future__ import annotations

import pytest

from kartoteka.documents import services
from kartoteka.documents.models import DocumentTemplate
from kartoteka.documents.shipped import SHIPPED
from tests.documents.test_services import docx_text


def test_every_shipped_template_is_there_and_passes_the_check(crm):
    for item in SHIPPED:
        template = DocumentTemplate.objects.get(table__key=item.table, name=item.name)
        docx = services.template_bytes(template) if template.kind == "docx" else None
        problems = services.template_problems(
            template.table, template.kind, body=template.body, docx=docx
        )
        assert problems == [], (item.name, problems)
    assert DocumentTemplate.objects.get(table__key="invoices", is_default=True).name == (
        "Счёт на оплату"
    )


def test_the_contract_and_the_act_come_out_of_the_shipped_templates(admin, deal, media):
    _company, counterparty, invoice = deal
    contract = DocumentTemplate.objects.get(name="Договор поставки")
    made = services.make_document(admin, contract, counterparty.pk, "docx", number="Д-2026-015")
    text = docx_text(made.data)
    assert "ДОГОВОР ПОСТАВКИ № Д-2026-015" in text
    assert "в лице генерального директора Орлова Сергея Петровича" in text
    assert f"ООО «Ромашка», ИНН {counterparty.inn}" in text
    assert "(Сто тысяч рублей 00 копеек)" in text
    act = DocumentTemplate.objects.get(name="Акт выполненных работ")
    html = services.make_document(admin, act, invoice.pk, "html", number="А-1").data.decode()
    assert "Акт № А-1 от" in html
    assert "Сто двадцать восемь тысяч пятьсот пять рублей 00 копеек" in html


def test_the_invoice_print_uses_the_administrator_s_default_template(
    client,
    admin_user,
    admin,
    deal,
    table,
    media,
):
    _company, _counterparty, invoice = deal
    services.save_template(
        admin,
        table("invoices"),
        name="Мой счёт",
        body="<html><body><h1>Мой счёт {{ invoice.number }}: {{ invoice.in_words }}</h1>"
        "</body></html>",
        is_default=True,
    )
    client.force_login(admin_user)
    page = client.get(f"/documents/invoices/{invoice.pk}/print/").content.decode()
    assert "Мой счёт 2026-0042: Сто двадцать восемь тысяч пятьсот пять рублей 00 копеек" in page
    assert 'data-testid="invoice-toolbar"' in page
    assert DocumentTemplate.objects.get(name="Счёт на оплату").is_default is False


@pytest.mark.parametrize("name", ["Коммерческое предложение"])
def test_the_quote_comes_out_as_pdf(admin, deal, media, name):
    _company, counterparty, _invoice = deal
    quote = DocumentTemplate.objects.get(name=name)
    made = services.make_document(admin, quote, counterparty.pk, "pdf", number="КП-1")
    assert made.data.startswith(b"%PDF")
    assert made.filename == "Коммерческое предложение КП-1 — ООО «Ромашка».pdf"


def test_without_a_default_html_template_the_invoice_keeps_the_shipped_form(logged_in, deal, media):
    _company, _counterparty, invoice = deal
    DocumentTemplate.objects.filter(table__key="invoices").delete()
    page = logged_in.get(f"/documents/invoices/{invoice.pk}/print/").content.decode()
    assert "Счёт на оплату № 2026-0042 от 5 марта 2026 г." in page
