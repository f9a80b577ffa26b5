"""Campaigns («Рассылки»): one message, personalised, to the records of a table.

A :class:`Campaign` names its table, its audience (a saved view, the grid's filter or chosen
ids — read as its author, so only rows he may read), its channel and content. Starting it writes
one :class:`Recipient` per record (excluded ones as ``skipped`` with the reason) and enqueues
the sending job; the job claims recipients one at a time (see :mod:`kartoteka.mailings.sending`).
:class:`OptOut` is the list of addresses that unsubscribed: later campaigns skip them even on
another record or table.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kartoteka.core.leases import LeasedJob
from kartoteka.tables.models import Table


def attachment_path(_campaign: Campaign, filename: str) -> str:
    """A folder of its own per file: the letter carries the name the file was uploaded with,
    never the storage's «_abc1234» suffix for a name already taken."""
    return f"mailings/{uuid.uuid4().hex}/{filename}"


EMAIL, SMS = "email", "sms"
CHANNELS = [(EMAIL, "E-mail"), (SMS, "SMS")]


class Campaign(LeasedJob):
    DRAFT, SENDING, PAUSED, DONE, CANCELLED = "draft", "sending", "paused", "done", "cancelled"
    STATES = [
        (DRAFT, _("черновик")),
        (SENDING, _("отправляется")),
        (PAUSED, _("на паузе")),
        (DONE, _("завершена")),
        (CANCELLED, _("отменена")),
    ]

    name = models.CharField(_("название"), max_length=200)
    channel = models.CharField(_("канал"), max_length=10, choices=CHANNELS, default=EMAIL)
    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="+")
    address_field = models.CharField(max_length=100)
    saved_view = models.ForeignKey(
        "grids.SavedView", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    conditions = models.JSONField(default=list, blank=True)
    match = models.CharField(max_length=3, default="all")
    search = models.CharField(max_length=200, blank=True, default="")
    record_ids = models.JSONField(default=list, blank=True)
    subject = models.CharField(_("тема"), max_length=300, blank=True, default="")
    body = models.TextField(_("текст"))
    attachment = models.FileField(upload_to=attachment_path, blank=True, default="")
    per_minute = models.PositiveIntegerField(_("писем в минуту"), default=0)
    window_start = models.TimeField(default=dt.time(9, 0))
    window_end = models.TimeField(default=dt.time(21, 0))
    state = models.CharField(max_length=12, choices=STATES, default=DRAFT)
    reason = models.CharField(max_length=500, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name


class Recipient(models.Model):
    QUEUED, SENDING, SENT = "queued", "sending", "sent"
    FAILED, SKIPPED, UNSUBSCRIBED, BOUNCED = "failed", "skipped", "unsubscribed", "bounced"
    STATES = [
        (QUEUED, _("в очереди")),
        (SENDING, _("отправляется")),
        (SENT, _("отправлено")),
        (FAILED, _("ошибка")),
        (SKIPPED, _("пропущено")),
        (UNSUBSCRIBED, _("отписался")),
        (BOUNCED, _("не доставлено")),
    ]

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    record_id = models.BigIntegerField()
    address = models.CharField(max_length=320, blank=True, default="")
    state = models.CharField(max_length=12, choices=STATES, default=QUEUED)
    reason = models.CharField(max_length=500, blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "record_id"], name="recipient_once")
        ]
        indexes = [
            # The claim walks a campaign's queued rows in id order (the retry time is checked
            # on the few it meets): with the retry time in the index instead, PostgreSQL
            # scanned every row sent so far for each claim.
            models.Index(fields=["campaign", "state", "id"], name="recipient_queue"),
            models.Index(fields=["record_id"], name="recipient_record"),
        ]


class OptOut(models.Model):
    """An address that asked for no more campaigns (by the link, or the one-click header)."""

    channel = models.CharField(max_length=10, choices=CHANNELS)
    address = models.CharField(max_length=320)
    campaign = models.ForeignKey(Campaign, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "address"], name="optout_once")]
