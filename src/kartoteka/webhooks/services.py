"""Webhooks: configuring them, turning record events into deliveries, and delivering.

Flow of one event:

1. The records service emits a :class:`~kartoteka.records.events.RecordEvent` inside its
   transaction; :func:`on_record_event` looks up the active webhooks of the table (one indexed
   query per batch — nothing more when there are none) and writes one
   :class:`~kartoteka.webhooks.models.WebhookDelivery` per record and webhook, holding the JSON
   body, in the same transaction.
2. After the commit each delivery is enqueued as a background task
   (:func:`kartoteka.webhooks.tasks.deliver_webhook`, run by ``kartoteka worker``).
3. :func:`deliver` resolves and checks the target again (DNS rebinding), POSTs the body signed
   with HMAC-SHA256 and records the attempt. A failure (no connection, timeout, a status other
   than 2xx) is retried after the delays of ``WEBHOOK_RETRY_DELAYS`` (seconds; by default 1 min,
   5 min, 30 min, 2 h, 6 h): the task re-enqueues itself to run at ``next_attempt_at``. When the
   delays run out, or the target is refused, the delivery is marked failed.

Body: ``{"event", "table", "record": {field key: JSON value, "id": …}, "changed": [keys],
"source", "occurred_at"}``; headers ``X-Kartoteka-Event``, ``X-Kartoteka-Delivery`` and
``X-Kartoteka-Signature: sha256=<hex HMAC-SHA256 of the raw body with the webhook's secret>``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import FieldError, NotFound, PermissionDenied, RecordValidationError
from kartoteka.records import events
from kartoteka.tables.modelfactory import fields_of
from kartoteka.tables.models import Table
from kartoteka.webhooks import net
from kartoteka.webhooks.models import Webhook, WebhookDelivery

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Kartoteka-Signature"
DEFAULT_RETRY_DELAYS = (60, 300, 1800, 7200, 21600)


def register_webhooks() -> None:
    events.register_listener(on_record_event)


# -- configuration ------------------------------------------------------------------------------


def _allow_private(webhook_flag: bool) -> bool:
    return webhook_flag or bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE", False))


def save_webhook(
    actor: Actor,
    table: Table,
    *,
    url: str,
    on_create: bool = True,
    on_update: bool = True,
    on_delete: bool = True,
    allow_private: bool = False,
    is_active: bool = True,
    webhook: Webhook | None = None,
) -> Webhook:
    """Create a webhook of ``table`` (or change ``webhook``); administrators only.

    The URL is checked now: it must resolve, and to a public address unless ``allow_private``.

    Raises:
        PermissionDenied: the actor is not an administrator.
        RecordValidationError: the URL is refused (the error is at field ``url``).
    """
    if not actor.is_admin:
        raise PermissionDenied(_("Вебхуки настраивает только администратор."))
    url = url.strip()
    try:
        net.resolve(url, allow_private=_allow_private(allow_private))
    except net.UnsafeTarget as exc:
        raise RecordValidationError([FieldError("url", exc.message, exc.code)]) from None
    if not (on_create or on_update or on_delete):
        raise RecordValidationError(
            [FieldError("on_create", _("Выберите хотя бы одно событие."), "no_events")]
        )
    hook = webhook or Webhook(table=table, created_by_id=actor.user_id)
    hook.url = url
    hook.on_create, hook.on_update, hook.on_delete = on_create, on_update, on_delete
    hook.allow_private = allow_private
    hook.is_active = is_active
    hook.save()
    return hook


def delete_webhook(actor: Actor, webhook: Webhook) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_("Вебхуки настраивает только администратор."))
    webhook.delete()


def get_webhook(actor: Actor, pk: int) -> Webhook:
    if not actor.is_admin:
        raise PermissionDenied(_("Вебхуки настраивает только администратор."))
    hook = Webhook.objects.select_related("table").filter(pk=pk).first()
    if hook is None:
        raise NotFound(_("Вебхук не найден."))
    return hook


# -- events → deliveries ------------------------------------------------------------------------


def record_json(table: Table, record: Any) -> dict[str, Any]:
    """A record as the webhook body carries it: field key → JSON value, plus system columns."""
    data: dict[str, Any] = {"id": record.pk}
    for field in fields_of(table):
        attname = record._meta.get_field(field.key).attname
        value = getattr(record, attname)
        data[field.key] = None if value is None else field.field_type.to_json(field, value)
    data["record_state"] = record.record_state
    data["created_at"] = record.created_at
    data["updated_at"] = record.updated_at
    return data


def on_record_event(event: events.RecordEvent) -> None:
    """Write the deliveries of one batch event; enqueue them after the commit."""
    hooks = [
        h for h in Webhook.objects.filter(table=event.table, is_active=True) if h.wants(event.event)
    ]
    if not hooks:
        return
    now = timezone.now()
    rows = []
    for record, changed in zip(event.records, event.changed, strict=True):
        payload = json.loads(
            json.dumps(
                {
                    "event": event.event,
                    "table": event.table.key,
                    "record": record_json(event.table, record),
                    "changed": list(changed),
                    "source": event.actor.source,
                    "occurred_at": now,
                },
                cls=DjangoJSONEncoder,
            )
        )
        rows.extend(
            WebhookDelivery(webhook=h, event=event.event, record_id=record.pk, payload=payload)
            for h in hooks
        )
    created = WebhookDelivery.objects.bulk_create(rows, batch_size=500)
    ids = [d.pk for d in created]
    transaction.on_commit(lambda: enqueue_deliveries(ids))


def enqueue_deliveries(ids: list[int], run_after: dt.datetime | None = None) -> None:
    from kartoteka.webhooks.tasks import deliver_webhook

    task = deliver_webhook
    if run_after is not None:
        if not task.get_backend().supports_defer:
            # A backend that cannot run later (e.g. the immediate one) would retry at once,
            # in a loop: the delivery stays pending with its next_attempt_at instead.
            logger.warning("webhook retries need a task backend that supports run_after")
            return
        task = task.using(run_after=run_after)
    for pk in ids:
        task.enqueue(pk)


# -- delivery -----------------------------------------------------------------------------------


def body_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def sign(secret: str, body: bytes) -> str:
    """The value of ``X-Kartoteka-Signature`` for ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def retry_delays() -> list[int]:
    return list(getattr(settings, "WEBHOOK_RETRY_DELAYS", DEFAULT_RETRY_DELAYS))


def deliver(delivery_id: int) -> str:
    """Make one attempt at a delivery; schedule the next one when it fails. Idempotent: a
    delivery that is no longer pending is left alone. Returns the resulting status."""
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.PENDING:
        return "skipped"
    hook = delivery.webhook
    now = timezone.now()
    status_code: int | None = None
    permanent = False
    if not hook.is_active:
        error, permanent = _("Вебхук выключен."), True
    else:
        body = body_bytes(delivery.payload)
        try:
            target = net.resolve(hook.url, allow_private=_allow_private(hook.allow_private))
            status_code = net.post(
                target,
                body,
                {
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "Kartoteka-Webhook/1",
                    "X-Kartoteka-Event": delivery.event,
                    "X-Kartoteka-Delivery": str(delivery.pk),
                    SIGNATURE_HEADER: sign(hook.secret, body),
                },
            )
            error = (
                ""
                if 200 <= status_code < 300
                else _("Сервер ответил кодом %(code)s.") % {"code": status_code}
            )
        except net.UnsafeTarget as exc:
            error, permanent = exc.message, True
        except OSError as exc:
            error = _("Не удалось соединиться: %(error)s") % {"error": exc}
    attempts = delivery.attempts + 1
    fields: dict[str, Any] = {
        "attempts": attempts,
        "last_attempt_at": now,
        "response_status": status_code,
        "error": error[:2000],
        "next_attempt_at": None,
    }
    delays = retry_delays()
    if not error:
        fields.update(status=WebhookDelivery.DELIVERED, delivered_at=now)
    elif permanent or attempts > len(delays):
        fields.update(status=WebhookDelivery.FAILED)
    else:
        fields.update(next_attempt_at=now + dt.timedelta(seconds=delays[attempts - 1]))
    # Conditional on the attempt count: a second run of the same attempt changes nothing.
    changed = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.PENDING, attempts=delivery.attempts
    ).update(**fields)
    if changed and fields["next_attempt_at"] is not None:
        enqueue_deliveries([delivery.pk], run_after=fields["next_attempt_at"])
    if error:
        logger.info("webhook %s delivery %s: %s", hook.pk, delivery.pk, error)
    return str(fields.get("status", WebhookDelivery.PENDING))


def list_deliveries(actor: Actor, webhook: Webhook, limit: int = 50) -> list[WebhookDelivery]:
    if not actor.is_admin:
        raise PermissionDenied(_("Вебхуки настраивает только администратор."))
    return list(webhook.deliveries.all()[:limit])
