"""SMS campaigns through the gateway against a fake SMSC.ru on loopback: the sending window,
the opt-out text, a temporary fault retried, the account's refusal pausing the campaign."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from kartoteka.mailings import sending
from kartoteka.mailings.models import Campaign, Recipient
from kartoteka.mailings.services import preview, resume_campaign, start_campaign
from tests.mailings.helpers import campaign, clients
from tests.sms.fake import fake_provider
from tests.sms.test_gateway import env

pytestmark = pytest.mark.django_db

NOON = timezone.make_aware(dt.datetime(2026, 12, 7, 12, 0))
NIGHT = timezone.make_aware(dt.datetime(2026, 12, 7, 23, 30))


def sms_campaign(admin, ids):
    return campaign(admin, ids, channel="sms", subject="", body="{{ record.name }}, скидка 10%")


def test_sms_wait_for_the_window_then_go_with_the_opt_out_text(admin, settings):
    # given
    rows = clients([{"name": "Альфа", "phone": "8 916 123-45-67"}, {"name": "Бета"}])
    with fake_provider() as provider:
        env(settings, backend="smsc", api_key="k", url=provider.url, opt_out_text="Отказ: STOP")
        provider.answer('{"id": 1, "cnt": 1}')
        c = sms_campaign(admin, [r.pk for r in rows])
        start_campaign(admin, c.pk)
        later = []
        # when: at night it waits for 9:00 next morning; at noon it sends
        at_night = sending.run(
            c.pk, clock=lambda: NIGHT, schedule=lambda pk, when: later.append(when)
        )
        at_noon = sending.run(c.pk, clock=lambda: NOON)
    # then
    assert (at_night, at_noon) == ("later", "done")
    assert later == [timezone.make_aware(dt.datetime(2026, 12, 8, 9, 0))]
    assert [r["form"]["mes"] for r in provider.requests] == ["Альфа, скидка 10% Отказ: STOP"]
    assert provider.requests[0]["form"]["phones"] == "+79161234567"
    skipped = Recipient.objects.get(campaign=c, state="skipped")
    assert (skipped.record_id, skipped.reason) == (rows[1].pk, "no_address")


def test_a_temporary_fault_is_retried_and_no_money_pauses(admin, settings):
    # given
    settings.MAILING_RETRY_DELAYS = [0]
    rows = clients(
        [{"name": "Альфа", "phone": "+79161234567"}, {"name": "Бета", "phone": "+79161234568"}]
    )
    with fake_provider() as provider:
        env(settings, backend="smsc", api_key="k", url=provider.url)
        provider.answer('{"error": "duplicate", "error_code": 9}')
        provider.answer('{"id": 5, "cnt": 1}')
        provider.answer('{"error": "no money", "error_code": 3}')
        c = sms_campaign(admin, [r.pk for r in rows])
        start_campaign(admin, c.pk)
        # when
        outcome = sending.run(c.pk, clock=lambda: NOON)
        paused = Campaign.objects.get(pk=c.pk)
        # then: the second recipient waits, queued, for the money
        assert (outcome, paused.state, paused.reason) == ("paused", "paused", "SMSC.ru 3: no money")
        states = dict(Recipient.objects.filter(campaign=c).values_list("address", "state"))
        assert states == {"+79161234567": "sent", "+79161234568": "queued"}
        # when the account is topped up and the campaign resumed
        provider.answer('{"id": 6, "cnt": 1}')
        resume_campaign(admin, c.pk)
        assert sending.run(c.pk, clock=lambda: NOON) == "done"
    assert Recipient.objects.filter(campaign=c, state="sent").count() == 2
    assert len(provider.requests) == 4


def test_sms_preview_counts_parts_and_cost(admin, settings):
    env(settings, backend="console", price="3.50")
    rows = clients([{"name": "Альфа", "phone": "+79161234567"}])
    c = campaign(admin, [rows[0].pk], channel="sms", subject="", body="я" * 80)
    shown = preview(admin, c.pk)
    assert (shown["parts"], shown["cost"]) == (2, Decimal("7.00"))
