"""Campaigns sent through a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import re
from socket import gethostname

import pytest

from kartoteka.core.actor import Actor
from kartoteka.mailings import sending
from kartoteka.mailings.audience import count_audience
from kartoteka.mailings.models import Campaign, OptOut, Recipient
from kartoteka.mailings.selectors import totals
from kartoteka.mailings.services import preview, unsubscribe
from kartoteka.records.selectors import get_history
from kartoteka.tables.modelfactory import model_for
from tests.mailings.helpers import campaign, clients, counterparties, parse, send_all

pytestmark = pytest.mark.django_db


def states(pk: int) -> dict[str, tuple[str, str]]:
    return {
        r.address or str(r.record_id): (r.state, r.reason)
        for r in Recipient.objects.filter(campaign_id=pk)
    }


def test_audience_counts_every_exclusion_before_sending(admin):
    # given
    OptOut.objects.create(channel="email", address="gone@shop.example")
    rows = clients(
        [
            {"name": "Альфа", "email": "a@shop.example"},
            {"name": "Бета", "email": "A@Shop.example"},
            {"name": "Гамма", "email": "g@shop.example", "no_mailing": True},
            {"name": "Дельта", "email": ""},
            {"name": "Эпсилон", "email": "gone@shop.example"},
            {"name": "Жета", "email": "x@shop.example"},
            {"name": "Зета", "email": "z@почта.рф"},
        ]
    )
    # an address stored before the field checked it (an old database): Cyrillic before the @
    model_for(counterparties()).objects.filter(pk=rows[5].pk).update(email="вася@почта.рф")
    c = campaign(admin, [r.pk for r in rows])
    # when
    counts = count_audience(c)
    # then
    assert counts == {
        "recipients": 2,
        "no_mailing": 1,
        "unsubscribed": 1,
        "no_address": 1,
        "invalid_address": 1,
        "duplicate": 1,
    }
    assert Recipient.objects.count() == 0


def test_each_client_gets_his_own_letter_with_unsubscribe_headers(admin, smtp, settings):
    # given
    settings.KARTOTEKA_BASE_URL = "https://crm.example"
    rows = clients(
        [
            {"name": "Альфа", "email": "a@shop.example", "city": "Тула"},
            {"name": "Бета", "email": "b@почта.рф", "city": "Омск"},
        ]
    )
    c = campaign(admin, [r.pk for r in rows])
    # when
    outcome = send_all(admin, c.pk)
    # then
    assert outcome == "done"
    assert Campaign.objects.get(pk=c.pk).state == "done"
    assert sorted(rcpts[0] for _f, rcpts, _raw in smtp.messages) == [
        "a@shop.example",
        "b@xn--80a1acny.xn--p1ai",
    ]
    letter = parse(next(raw for _f, r, raw in smtp.messages if r == ["a@shop.example"]))
    assert letter["Subject"] == "Прайс для Альфа"
    url = re.fullmatch(
        r"<(https://crm\.example/m/u/[^>]+/)>", letter["List-Unsubscribe"].strip()
    ).group(1)
    assert letter["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = letter.get_body(("html",)).get_content()
    text = letter.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Здравствуйте, Альфа!" in html and "Город: Тула" in html
    assert f'href="{url}"' in html
    assert 'style="' in html and "<style>" not in html  # CSS inlined
    assert text == (
        f"Здравствуйте, Альфа!\n\nГород: Тула\n\nВы получили это письмо как клиент. "
        f"Отписаться от рассылки ({url})\n"
    )
    assert totals(c)["sent"] == 2


def test_smtp_refusals_fail_and_stalls_retry(admin, smtp, settings):
    # given: the server refuses one address for good and another for now
    settings.MAILING_RETRY_DELAYS = [0]
    answers = {"bad@shop.example": "550 5.1.1 No such user", "busy@shop.example": "451 4.3.0 Try"}

    async def handle_RCPT(server, session, envelope, address, rcpt_options):
        if address in answers:
            return answers[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp.handle_RCPT = handle_RCPT
    rows = clients(
        [
            {"name": "Альфа", "email": "ok@shop.example"},
            {"name": "Бета", "email": "bad@shop.example"},
            {"name": "Гамма", "email": "busy@shop.example"},
        ]
    )
    c = campaign(admin, [r.pk for r in rows])
    # when
    send_all(admin, c.pk)
    # then: the stalled one was tried twice (once more after the backoff), then failed
    assert states(c.pk) == {
        "ok@shop.example": ("sent", ""),
        "bad@shop.example": ("failed", "SMTP 550: 5.1.1 No such user"),
        "busy@shop.example": ("failed", "SMTP 451: 4.3.0 Try"),
    }
    assert Recipient.objects.get(address="busy@shop.example").attempts == 2


def test_a_template_error_fails_one_recipient_and_the_rest_go_on(admin, smtp):
    rows = clients(
        [{"name": "Альфа", "email": "a@shop.example"}, {"name": "Бета", "email": "b@shop.example"}]
    )
    c = campaign(admin, [r.pk for r in rows], body="{{ 100 // (record.name|length - 4) }}")
    send_all(admin, c.pk)
    assert states(c.pk) == {
        "a@shop.example": ("sent", ""),
        "b@shop.example": (
            "failed",
            "ошибка шаблона: Строка 1: ошибка при заполнении: integer division or modulo by zero",
        ),
    }


def test_a_recipient_deleted_mid_campaign_is_skipped(admin, smtp):
    from kartoteka.records.services import trash_records

    rows = clients(
        [{"name": "Альфа", "email": "a@shop.example"}, {"name": "Бета", "email": "b@shop.example"}]
    )
    c = campaign(admin, [r.pk for r in rows])
    sending_run = send_all(admin, c.pk, limit=0)
    assert sending_run == "limit"
    trash_records(admin, counterparties(), [rows[1].pk])
    sending.run(c.pk)
    assert states(c.pk)["b@shop.example"] == ("skipped", "запись удалена или недоступна автору")
    assert len(smtp.messages) == 1


def test_a_killed_worker_resumes_and_sends_only_the_one_in_flight_again(admin, smtp):
    # given: a worker claimed a recipient and died before recording it
    rows = clients([{"name": f"К{i}", "email": f"k{i}@shop.example"} for i in range(3)])
    c = campaign(admin, [r.pk for r in rows])
    send_all(admin, c.pk, limit=1)
    first = Recipient.objects.filter(campaign=c, state="queued").order_by("id").first()
    Recipient.objects.filter(pk=first.pk).update(
        state="sending", claimed_by=f"{gethostname()}:999999999:1"
    )
    # when
    assert sending.run(c.pk) == "done"
    # then
    received = sorted(r[0] for _f, r, _raw in smtp.messages)
    assert received == ["k0@shop.example", "k1@shop.example", "k2@shop.example"]
    assert totals(c)["sent"] == 3


def test_pause_stops_and_cancel_skips_the_rest(admin, smtp):
    from kartoteka.mailings.services import cancel_campaign, pause_campaign

    rows = clients([{"name": f"К{i}", "email": f"k{i}@shop.example"} for i in range(3)])
    c = campaign(admin, [r.pk for r in rows])
    send_all(admin, c.pk, limit=1)
    pause_campaign(admin, c.pk)
    assert sending.run(c.pk) == "paused"
    cancel_campaign(admin, c.pk)
    assert totals(c) | {"total": 0} == totals(c) | {
        "total": 0,
        "sent": 1,
        "skipped": 2,
        "queued": 0,
    }
    assert len(smtp.messages) == 1


def test_unsubscribe_sets_the_flag_with_history_and_later_campaigns_skip(admin, smtp):
    # given
    rows = clients([{"name": "Альфа", "email": "a@shop.example"}])
    c = campaign(admin, [rows[0].pk])
    send_all(admin, c.pk)
    url = parse(smtp.messages[0][2])["List-Unsubscribe"].strip().strip("<>")
    token = url.rstrip("/").rsplit("/", 1)[1]
    # when
    unsubscribe(token)
    unsubscribe(token)
    # then
    record = model_for(counterparties()).objects.get(pk=rows[0].pk)
    assert record.no_mailing is True
    sources = [h.source for h in get_history(admin, counterparties(), rows[0].pk)]
    assert sources.count(f"mailing_unsubscribe:{c.pk}") == 1
    assert Recipient.objects.get(campaign=c).state == "unsubscribed"
    later = campaign(admin, [rows[0].pk])
    assert count_audience(later)["no_mailing"] == 1


def test_a_managers_campaign_reaches_only_his_clients(manager_user, admin_user, smtp):
    # given
    manager = Actor.for_user(manager_user)
    mine = clients([{"name": "Мой", "email": "my@shop.example"}], manager=manager_user)
    clients([{"name": "Чужой", "email": "peer@shop.example"}], manager=admin_user)
    c = campaign(manager, [])
    # when
    send_all(manager, c.pk)
    # then
    assert [r for _f, r, _raw in smtp.messages] == [["my@shop.example"]]
    assert list(Recipient.objects.filter(campaign=c).values_list("record_id", flat=True)) == [
        mine[0].pk
    ]


def test_preview_renders_any_recipient(admin):
    rows = clients([{"name": "Альфа", "email": "a@shop.example", "city": "Тула"}])
    c = campaign(admin, [rows[0].pk])
    shown = preview(admin, c.pk, rows[0].pk)
    assert shown["subject"] == "Прайс для Альфа"
    assert "Город: Тула" in shown["text"]


def test_a_template_with_an_unknown_field_is_refused_at_creation(admin):
    from kartoteka.mailings.services import CampaignError

    with pytest.raises(CampaignError) as refused:
        campaign(admin, [], body="Здравствуйте, {{ record.nonexistent }}")
    assert "nonexistent" in refused.value.message
    assert Campaign.objects.count() == 0


def test_russian_helpers_fill_the_body(admin, smtp):
    rows = clients([{"name": "Альфа", "email": "a@shop.example"}])
    c = campaign(admin, [rows[0].pk], body="{{ 1250 | amount_words }}")
    shown = preview(admin, c.pk)
    assert "Одна тысяча двести пятьдесят рублей" in shown["text"]


def test_a_body_naming_a_subtable_gets_its_rows(admin, smtp, table):
    from kartoteka.records.services import create_records

    rows = clients([{"name": "Альфа", "email": "a@shop.example"}])
    create_records(admin, table("contacts"), [{"counterparty": rows[0].pk, "full_name": "Иванов"}])
    body = "{% for c in record.contacts %}{{ c.full_name }}{% endfor %}"
    c = campaign(admin, [rows[0].pk], body=body)
    send_all(admin, c.pk)
    assert "Иванов" in parse(smtp.messages[0][2]).get_body(("plain",)).get_content()


def test_throttle_spaces_the_letters_and_the_attachment_goes_with_each(admin, smtp):
    import time

    from django.core.files.uploadedfile import SimpleUploadedFile

    rows = clients([{"name": f"К{i}", "email": f"k{i}@shop.example"} for i in range(3)])
    price = SimpleUploadedFile("прайс.csv", "Товар;Цена\n".encode())
    c = campaign(admin, [r.pk for r in rows], per_minute=600, attachment=price)
    started = time.monotonic()
    send_all(admin, c.pk)
    took = time.monotonic() - started
    assert took >= 0.2  # 600 a minute: a letter every 0.1 s
    letter = parse(smtp.messages[0][2])
    (attached,) = list(letter.iter_attachments())
    assert attached.get_filename() == "прайс.csv"
    assert attached.get_content().splitlines() == ["Товар;Цена"]
