"""«Отправить по e-mail»: the invoice PDF goes through a real SMTP server and the letter is logged.

The SMTP server is aiosmtpd on loopback; Django's SMTP backend talks to it as to any mail server.
"""

from __future__ import annotations

import datetime as dt
import email
import io
import re
from decimal import Decimal
from email import policy

import pytest
from django.utils import timezone
from pypdf import PdfReader

from kartoteka.core.exceptions import RuleViolation
from kartoteka.crm.invoices import send_invoice
from kartoteka.records.actions import get_action
from kartoteka.tables.modelfactory import model_for
from tests.crm.test_invoices import _table, make_company, make_counterparty, make_invoice
from tests.mail import FROM_EMAIL, free_port

D = Decimal
TOTAL_WORDS = "Одна тысяча двести рублей 51 копейка"


@pytest.fixture
def invoice(crm):
    return make_invoice(
        make_counterparty(),
        [("Лицензия", 1, "шт", D("1000.00")), ("Настройка", D("1.5"), "ч", D("133.67"))],
        company=make_company(),
        number="2026-0042",
        date=dt.date(2026, 3, 5),
    )


@pytest.fixture
def logged_in(client, admin_user):
    client.force_login(admin_user)
    return client


def letters_of(counterparty_id: int) -> list:
    work = model_for(_table("client_work"))
    return list(work.objects.filter(counterparty_id=counterparty_id, work_type="letter"))


def parse(raw: bytes):
    return email.message_from_bytes(raw, policy=policy.default)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"[\s\u00a0]+", " ", " ".join(p.extract_text() for p in reader.pages))


def test_send_action_mails_the_pdf_to_the_counterparty_and_logs_a_letter(
    logged_in, invoice, smtp, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(f"/t/invoices/{invoice.pk}/action/send_email/", follow=True)
    # then: the page says so
    assert "Счёт отправлен на адрес buh@romashka.example." in response.content.decode()
    # and the letter reached the server
    assert len(smtp.messages) == 1
    mail_from, recipients, raw = smtp.messages[0]
    assert (mail_from, recipients) == (FROM_EMAIL, ["buh@romashka.example"])
    message = parse(raw)
    assert message["Subject"] == "Счёт №2026-0042 от 05.03.2026"
    assert message["To"] == "buh@romashka.example"
    assert message["Reply-To"] == "boss@example.ru"
    body = message.get_body(("plain",)).get_content()
    assert "Направляем счёт №2026-0042 от 05.03.2026 на сумму 1\u00a0200,51 руб." in body
    attachments = list(message.iter_attachments())
    assert [a.get_content_type() for a in attachments] == ["application/pdf"]
    assert attachments[0].get_filename() == "Счёт №2026-0042 от 05.03.2026.pdf"
    pdf = attachments[0].get_content()
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert "Счёт на оплату № 2026-0042" in text
    assert "Всего к оплате: 1 200,51" in text
    assert TOTAL_WORDS in text
    # and a done «Письмо» without status is in the work log
    letters = letters_of(invoice.counterparty_id)
    assert [(w.date, w.done, w.status, w.description, w.manager_id) for w in letters] == [
        (
            timezone.localdate(),
            True,
            None,
            "Отправлен счёт №2026-0042 на адрес buh@romashka.example",
            response.wsgi_request.user.pk,
        )
    ]


def test_a_typed_address_wins_over_the_counterparty_email(
    logged_in, invoice, smtp, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(
            f"/t/invoices/{invoice.pk}/action/send_email/", {"email": " director@romashka.example "}
        )
    # then
    assert [m[1] for m in smtp.messages] == [["director@romashka.example"]]
    assert letters_of(invoice.counterparty_id)[0].description == (
        "Отправлен счёт №2026-0042 на адрес director@romashka.example"
    )


def test_no_address_is_refused_and_nothing_is_sent_or_written(
    logged_in, crm, smtp, django_capture_on_commit_callbacks
):
    # given
    buyer = make_counterparty(email=None)
    invoice = make_invoice(buyer, [("Лицензия", 1, "шт", D("100.00"))], company=make_company())
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = logged_in.post(f"/t/invoices/{invoice.pk}/action/send_email/", follow=True)
    # then
    assert "У контрагента «ООО «Ромашка»» не указан e-mail. Введите адрес получателя." in (
        response.content.decode()
    )
    assert callbacks == []
    assert smtp.messages == []
    assert letters_of(buyer.pk) == []


def test_no_address_refusal_has_a_stable_code(crm, admin):
    # given
    buyer = make_counterparty(email=None)
    invoice = make_invoice(buyer, company=make_company())
    table = _table("invoices")
    # when
    with pytest.raises(RuleViolation) as exc:
        get_action(table, "send_email").run(admin, table, [invoice.pk], {"email": "  "})
    # then
    assert (exc.value.rule, exc.value.field) == ("invoice_email_missing", "email")
    assert letters_of(buyer.pk) == []


def test_a_malformed_typed_address_is_refused(crm, admin, invoice, smtp):
    table = _table("invoices")
    with pytest.raises(RuleViolation) as exc:
        get_action(table, "send_email").run(admin, table, [invoice.pk], {"email": "не адрес"})
    assert exc.value.rule == "invoice_email_invalid"
    assert exc.value.message == "«не адрес» — неверный адрес e-mail."
    assert smtp.messages == []
    assert letters_of(invoice.counterparty_id) == []


def test_a_refused_delivery_leaves_the_letter_planned_with_the_reason(
    crm, admin, invoice, settings, django_capture_on_commit_callbacks, caplog
):
    # given: nobody listens on the port
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_TIMEOUT = 5
    # when
    with django_capture_on_commit_callbacks(execute=True):
        delivery = send_invoice(admin, invoice.pk)
    # then
    assert delivery.sent is False
    letter = letters_of(invoice.counterparty_id)[0]
    assert (letter.done, letter.status) == (False, None)
    assert letter.result == "Не удалось отправить письмо: почтовый сервер недоступен"
    # and: the technical detail is in the server log only
    assert delivery.error == "почтовый сервер недоступен"
    assert "Connection refused" in caplog.text
