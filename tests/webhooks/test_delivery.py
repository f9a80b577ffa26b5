"""Webhooks: a record event becomes a signed POST to a real receiver on loopback, delivered by
the background worker after the commit, retried with backoff, refused for private targets."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest
from django_tasks_db.models import DBTaskResult

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import PermissionDenied, RecordValidationError
from kartoteka.records.services import create_record, trash_records, update_record
from kartoteka.webhooks.models import Webhook, WebhookDelivery
from kartoteka.webhooks.services import save_webhook


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def hook(admin, table, receiver):
    return save_webhook(admin, table("counterparties"), url=receiver.url, allow_private=True)


def test_a_created_record_is_delivered_signed_after_the_commit(
    admin, table, hook, receiver, run_worker, django_capture_on_commit_callbacks
):
    # given: a webhook on «Контрагенты» pointing at the receiver
    # when: a record is created and the worker runs
    with django_capture_on_commit_callbacks(execute=True):
        record = create_record(
            admin, table("counterparties"), {"name": "ООО Ромашка", "phone": "8 912 345-67-89"}
        )
        assert DBTaskResult.objects.count() == 0  # nothing is enqueued before the commit
    assert DBTaskResult.objects.count() == 1
    run_worker()
    # then: one POST, signed with the webhook's secret, with the record in the body
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request.path == "/hook"
    assert request.headers["X-Kartoteka-Signature"] == signature(hook.secret, request.body)
    assert request.headers["X-Kartoteka-Event"] == "created"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    body = json.loads(request.body)
    assert body["event"] == "created"
    assert body["table"] == "counterparties"
    assert body["source"] == "form"
    assert body["record"]["id"] == record.pk
    assert body["record"]["name"] == "ООО Ромашка"
    assert body["record"]["phone"] == "+79123456789"
    assert body["record"]["status"] == "cold"
    assert body["record"]["manager"] == admin.user.pk
    assert sorted(body["changed"]) == ["kind", "manager", "name", "phone", "status", "type"]
    delivery = WebhookDelivery.objects.get()
    assert request.headers["X-Kartoteka-Delivery"] == str(delivery.pk)
    assert (delivery.status, delivery.attempts, delivery.response_status, delivery.error) == (
        WebhookDelivery.DELIVERED,
        1,
        200,
        "",
    )
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_update_and_trash_send_changed_fields(
    admin, table, hook, receiver, run_worker, django_capture_on_commit_callbacks
):
    # given: a record created before the webhook cared (its delivery already done)
    counterparties = table("counterparties")
    with django_capture_on_commit_callbacks(execute=True):
        record = create_record(admin, counterparties, {"name": "ООО Ромашка"})
    run_worker()
    # when: a field changes, then the record goes to the trash
    with django_capture_on_commit_callbacks(execute=True):
        update_record(admin, counterparties, record.pk, {"city": "Казань"})
    with django_capture_on_commit_callbacks(execute=True):
        trash_records(admin, counterparties, [record.pk])
    run_worker()
    # then
    bodies = [json.loads(r.body) for r in receiver.requests]
    assert [(b["event"], b["changed"]) for b in bodies] == [
        ("created", ["name", "kind", "manager", "type", "status"]),
        ("updated", ["city"]),
        ("deleted", ["record_state"]),
    ]
    assert bodies[1]["record"]["city"] == "Казань"
    assert bodies[2]["record"]["record_state"] == "deleted"


def test_a_rolled_back_write_sends_nothing(admin, table, hook, receiver, run_worker):
    # when: the record is created in a transaction that rolls back
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        create_record(admin, table("counterparties"), {"name": "ООО Ромашка"})
        raise RuntimeError("rolled back")
    run_worker()
    # then
    assert WebhookDelivery.objects.count() == 0
    assert receiver.requests == []


def test_a_failed_call_is_retried_with_backoff(
    admin, table, hook, receiver, run_worker, settings, django_capture_on_commit_callbacks
):
    # given: the receiver fails the first call with 500
    settings.WEBHOOK_RETRY_DELAYS = [60, 300]
    receiver.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        create_record(admin, table("counterparties"), {"name": "ООО Ромашка"})
    # when: the worker runs the first attempt
    run_worker()
    # then: the failure is logged and a retry is scheduled a minute later
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("pending", 1, 500)
    assert delivery.error == "Сервер ответил кодом 500."
    assert delivery.next_attempt_at == delivery.last_attempt_at + dt.timedelta(seconds=60)
    retry = DBTaskResult.objects.filter(status="READY").get()
    assert retry.run_after == delivery.next_attempt_at
    # when: the worker runs again before the time, nothing is sent
    run_worker()
    assert len(receiver.requests) == 1
    # when: the time comes (the scheduled run moved to now) and the worker runs
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=dt.datetime.now(dt.UTC))
    run_worker()
    # then: the second attempt is delivered with the very same signed body
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status, delivery.error) == (
        "delivered",
        2,
        200,
        "",
    )
    assert delivery.next_attempt_at is None
    first, second = receiver.requests
    assert first.body == second.body
    assert second.headers["X-Kartoteka-Signature"] == signature(hook.secret, second.body)


def test_attempts_run_out(
    admin, table, hook, receiver, settings, django_capture_on_commit_callbacks
):
    # given: one retry allowed, and a receiver that always fails
    from kartoteka.webhooks.services import deliver

    settings.WEBHOOK_RETRY_DELAYS = [60]
    receiver.statuses = [503, 503, 503]
    with django_capture_on_commit_callbacks(execute=True):
        create_record(admin, table("counterparties"), {"name": "ООО Ромашка"})
    delivery = WebhookDelivery.objects.get()
    # when: both attempts fail; a third run of the task does nothing
    assert deliver(delivery.pk) == "pending"
    assert deliver(delivery.pk) == "failed"
    assert deliver(delivery.pk) == "skipped"
    # then
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 2, None)
    assert len(receiver.requests) == 2


def test_private_targets_are_refused_when_saved(admin, table, receiver):
    # when / then: loopback, private and link-local targets without the explicit permission
    counterparties = table("counterparties")
    for url in (
        receiver.url,
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/",
    ):
        with pytest.raises(RecordValidationError) as err:
            save_webhook(admin, counterparties, url=url)
        assert err.value.errors[0].field == "url"
        assert "ведёт во внутреннюю сеть" in err.value.errors[0].message
    with pytest.raises(RecordValidationError) as err:
        save_webhook(admin, counterparties, url="ftp://example.ru/")
    assert err.value.errors[0].message == (
        "Адрес должен начинаться с http:// или https:// и содержать имя сервера."
    )
    assert Webhook.objects.count() == 0


@pytest.mark.parametrize(
    "address",
    [
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::127.0.0.1",  # IPv4-compatible
        "64:ff9b::7f00:1",  # NAT64, the well-known prefix
        "64:ff9b:1::a00:5",  # NAT64, a local-use prefix → 10.0.0.5
        "2002:7f00:1::",  # 6to4 → 127.0.0.1
        "2002:c0a8:101::1",  # 6to4 → 192.168.1.1
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    ],
)
def test_ipv6_forms_of_a_private_ipv4_address_are_refused(admin, table, address):
    # when: an IPv6 address that leads to a loopback or private IPv4 address
    with pytest.raises(RecordValidationError) as err:
        save_webhook(admin, table("counterparties"), url=f"http://[{address}]:8080/hook")
    # then: refused like the IPv4 address itself, nothing saved
    assert "ведёт во внутреннюю сеть" in err.value.errors[0].message
    assert Webhook.objects.count() == 0


def test_ipv6_forms_of_a_public_ipv4_address_pass():
    from kartoteka.webhooks.net import resolve

    for address in ("64:ff9b::808:808", "2002:808:808::1", "2a00:1450:4010:c0e::8a"):
        assert resolve(f"http://[{address}]/hook", allow_private=False).address == address


def test_a_private_target_is_refused_at_delivery_too(
    admin, table, receiver, run_worker, django_capture_on_commit_callbacks
):
    # given: a webhook whose host resolves to loopback now (DNS rebinding: it was public when
    # saved), without the permission
    Webhook.objects.create(
        table=table("counterparties"), url=receiver.url.replace("127.0.0.1", "localhost")
    )
    # when
    with django_capture_on_commit_callbacks(execute=True):
        create_record(admin, table("counterparties"), {"name": "ООО Ромашка"})
    run_worker()
    # then: nothing was sent, the delivery failed for good with the reason
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 1, None)
    assert delivery.error.startswith("Адрес «localhost» ведёт во внутреннюю сеть")


def test_only_administrators_configure_webhooks(manager_user, table, receiver):
    with pytest.raises(PermissionDenied):
        save_webhook(
            Actor.for_user(manager_user),
            table("counterparties"),
            url=receiver.url,
            allow_private=True,
        )
    assert Webhook.objects.count() == 0


def test_no_webhook_costs_one_query_per_batch(admin, table):
    # given: no webhooks; the cost of a batch with the listener is one query more than without
    from kartoteka.records import events
    from kartoteka.webhooks.services import on_record_event

    counterparties = table("counterparties")
    create_record(admin, counterparties, {"name": "Прогрев"})  # warm the model cache
    events._listeners.remove(on_record_event)
    try:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as without:
            create_record(admin, counterparties, {"name": "А"})
    finally:
        events.register_listener(on_record_event)
    with CaptureQueriesContext(connection) as with_listener:
        create_record(admin, counterparties, {"name": "Б"})
    assert len(with_listener) == len(without) + 1
