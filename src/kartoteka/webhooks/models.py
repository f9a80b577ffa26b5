"""Webhooks of a table and the log of their deliveries.

A :class:`Webhook` is a URL called when records of its table are created, updated or deleted.
Each call is a :class:`WebhookDelivery` row, written in the same transaction as the record change
(an outbox: a rolled-back write never produces a call, a committed one always has its row) and
sent by the background worker after the commit, retried with growing delays until it succeeds
or the attempts run out. The rows are the delivery log shown in the settings.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kartoteka.tables.models import Table


def new_secret() -> str:
    return secrets.token_hex(32)


class Webhook(models.Model):
    """A URL called with a signed JSON body on record events of one table.

    ``secret`` signs every body (HMAC-SHA256, header ``X-Kartoteka-Signature: sha256=<hex>``);
    the receiver keeps a copy. ``allow_private`` lets the administrator aim it at a loopback,
    private or link-local address, which is refused otherwise.
    """

    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="+")
    url = models.URLField(_("адрес"), max_length=1000)
    secret = models.CharField(max_length=128, default=new_secret)
    on_create = models.BooleanField(_("создание"), default=True)
    on_update = models.BooleanField(_("изменение"), default=True)
    on_delete = models.BooleanField(_("удаление"), default=True)
    allow_private = models.BooleanField(_("разрешить внутренние адреса"), default=False)
    is_active = models.BooleanField(_("включён"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["table_id", "id"]
        indexes = [models.Index(fields=["table", "is_active"], name="webhook_table_idx")]

    def __str__(self) -> str:
        return self.url

    def wants(self, event: str) -> bool:
        return {"created": self.on_create, "updated": self.on_update, "deleted": self.on_delete}[
            event
        ]


class WebhookDelivery(models.Model):
    """One call of a webhook: its body, attempts and outcome (the delivery log)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    STATUSES = [
        (PENDING, _("ожидает")),
        (DELIVERED, _("доставлено")),
        (FAILED, _("не доставлено")),
    ]

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=16)
    record_id = models.BigIntegerField()
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=STATUSES, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["webhook", "-id"], name="webhook_delivery_idx")]

    def __str__(self) -> str:
        return f"{self.webhook_id}: {self.event} #{self.record_id} ({self.status})"
