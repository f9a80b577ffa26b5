"""The sending job: claim a recipient, send, record — one at a time, crash-safe.

Each recipient goes ``queued`` → ``sending`` by one ``UPDATE … WHERE state = 'queued'`` that
names this process (:func:`kartoteka.core.leases.me`): whoever's update changed the row owns
it, so two workers never send the same recipient. The message is sent outside any transaction
and the outcome written at once (``sent``, ``failed`` with the reason, or back to ``queued``
with a later ``next_attempt_at`` for a temporary fault, with backoff, until
``MAILING_RETRY_DELAYS`` is used up).

A worker killed between its send and its record leaves that one recipient ``sending``; the next
run finds its owner dead (:func:`kartoteka.core.leases.is_dead`) and queues it again. So a
recipient recorded ``sent`` is never sent again, and **at most the one message in flight when a
worker died may be sent twice** — SMTP and the SMS providers give no way to ask whether an
interrupted message went out.

The job reads the campaign's state every half second: a pause or cancel stops it within that.
SMS go out only within the campaign's window (installation time zone); outside it, and when
only retries wait, the job enqueues itself for later and ends. A provider's refusal of the whole
account (no money, wrong key) pauses the campaign with the reason.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import smtplib
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.db.models import F, Min, Q
from django.utils import timezone

from kartoteka.core import leases
from kartoteka.core.exceptions import NotFound
from kartoteka.mailings import messages
from kartoteka.mailings.audience import NO_MAILING_FIELD, author
from kartoteka.mailings.content import ContentError, names, record_context, uses_subtables
from kartoteka.mailings.models import EMAIL, Campaign, OptOut, Recipient
from kartoteka.records.selectors import base_queryset
from kartoteka.sms import gateway
from kartoteka.tables.modelfactory import fields_of

BEAT_EVERY = 20
#: Seconds between two reads of the campaign's state (a pause or cancel takes effect within).
STATE_EVERY = 0.5


def retry_delays() -> list[int]:
    return list(getattr(settings, "MAILING_RETRY_DELAYS", [60, 300, 1800, 7200]))


def recover(campaign: Campaign) -> int:
    """Queue again the recipients left ``sending`` by a process that is gone."""
    back = 0
    stuck = Recipient.objects.filter(campaign=campaign, state=Recipient.SENDING)
    for owner in set(stuck.values_list("claimed_by", flat=True)):
        lease = SimpleNamespace(lease_owner=owner, heartbeat_at=campaign.heartbeat_at)
        if not owner or leases.is_dead(lease):
            back += stuck.filter(claimed_by=owner).update(state=Recipient.QUEUED, claimed_by="")
    return back


def claim(campaign: Campaign, now: dt.datetime) -> Recipient | None:
    """Take the next due queued recipient for this process, or ``None`` when none is due."""
    due = Recipient.objects.filter(campaign=campaign, state=Recipient.QUEUED).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    me = leases.me()
    columns = ("pk", "record_id", "address", "attempts")
    while True:
        row = due.order_by("id").values_list(*columns).first()
        if row is None:
            return None
        pk, record_id, address, attempts = row
        taken = Recipient.objects.filter(pk=pk, state=Recipient.QUEUED).update(
            state=Recipient.SENDING, claimed_by=me, attempts=F("attempts") + 1
        )
        if taken:  # the row is this process's now: what was read of it still holds
            return Recipient(
                pk=pk,
                campaign=campaign,
                record_id=record_id,
                address=address,
                attempts=attempts + 1,
                state=Recipient.SENDING,
                claimed_by=me,
            )


def record(recipient: Recipient, state: str, reason: str = "", **fields: Any) -> None:
    Recipient.objects.filter(pk=recipient.pk, state=Recipient.SENDING).update(
        state=state, reason=reason[:500], claimed_by="", **fields
    )


def _retry_or_fail(recipient: Recipient, reason: str, now: dt.datetime) -> None:
    delays = retry_delays()
    if recipient.attempts <= len(delays):
        wait = dt.timedelta(seconds=delays[recipient.attempts - 1])
        record(recipient, Recipient.QUEUED, reason, next_attempt_at=now + wait)
    else:
        record(recipient, Recipient.FAILED, reason)


def in_window(campaign: Campaign, now: dt.datetime) -> bool:
    if campaign.channel == EMAIL:
        return True
    local = timezone.localtime(now).time()
    return campaign.window_start <= local < campaign.window_end


def next_window(campaign: Campaign, now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    start = local.replace(
        hour=campaign.window_start.hour,
        minute=campaign.window_start.minute,
        second=0,
        microsecond=0,
    )
    return start if start > local else start + dt.timedelta(days=1)


class Sender:
    """Sends one recipient's message; keeps the SMTP connection open between messages."""

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign
        self.actor = author(campaign)
        self.connection: Any = None
        self.sms = gateway.config() if campaign.channel != EMAIL else None
        self.flag = any(f.key == NO_MAILING_FIELD for f in fields_of(campaign.table))
        self.common = names(self.actor)
        self.subtables = uses_subtables(campaign.table, campaign.subject, campaign.body)

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.connection.close()
            self.connection = None

    def load(self, recipient: Recipient) -> Any:
        try:
            qs = base_queryset(self.actor, self.campaign.table)
        except NotFound:
            return None
        return qs.filter(pk=recipient.record_id).first()

    def send(self, recipient: Recipient, now: dt.datetime) -> str:
        """Send and record; returns the recipient's new state (``paused`` for the campaign)."""
        campaign = self.campaign
        row = self.load(recipient)
        if row is None:
            record(recipient, Recipient.SKIPPED, "запись удалена или недоступна автору")
            return Recipient.SKIPPED
        if self.flag and getattr(row, NO_MAILING_FIELD, False):
            record(recipient, Recipient.SKIPPED, "no_mailing")
            return Recipient.SKIPPED
        if OptOut.objects.filter(
            channel=campaign.channel, address=recipient.address.lower()
        ).exists():
            record(recipient, Recipient.SKIPPED, "unsubscribed")
            return Recipient.SKIPPED
        try:
            bag = record_context(self.actor, campaign.table, row, subtables=self.subtables)
            ctx = messages.context(campaign, bag, recipient.pk, self.common)
            if campaign.channel == EMAIL:
                return self._email(recipient, ctx, now)
            return self._sms(recipient, ctx, now)
        except ContentError as exc:
            record(recipient, Recipient.FAILED, f"ошибка шаблона: {exc}")
            return Recipient.FAILED

    def _email(self, recipient: Recipient, ctx: dict[str, Any], now: dt.datetime) -> str:
        message = messages.email_message(self.campaign, ctx, recipient.address)
        try:
            if self.connection is None:
                self.connection = get_connection(fail_silently=False)
                self.connection.open()
            self.connection.send_messages([message])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return self._smtp_fault(recipient, code, text, now)
        except smtplib.SMTPResponseException as exc:
            return self._smtp_fault(recipient, exc.smtp_code, exc.smtp_error, now)
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            self.close()
            _retry_or_fail(recipient, f"SMTP: {exc or type(exc).__name__}", now)
            return Recipient.QUEUED
        record(recipient, Recipient.SENT, sent_at=timezone.now())
        return Recipient.SENT

    def _smtp_fault(self, recipient: Recipient, code: int, text: Any, now: dt.datetime) -> str:
        self.close()
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        reason = f"SMTP {code}: {text}"
        if 500 <= code < 600:
            record(recipient, Recipient.FAILED, reason)
            return Recipient.FAILED
        _retry_or_fail(recipient, reason, now)
        return Recipient.QUEUED

    def _sms(self, recipient: Recipient, ctx: dict[str, Any], now: dt.datetime) -> str:
        assert self.sms is not None
        text = messages.sms_text(self.campaign, ctx, self.sms.opt_out_text)
        result = gateway.send_sms(recipient.address, text, cfg=self.sms)
        if result.ok:
            record(recipient, Recipient.SENT, sent_at=timezone.now())
            return Recipient.SENT
        if result.status == "retry":
            _retry_or_fail(recipient, result.reason, now)
            return Recipient.QUEUED
        if result.account:
            record(recipient, Recipient.QUEUED, "", attempts=F("attempts") - 1)
            pause(self.campaign, result.reason)
            return "paused"
        record(recipient, Recipient.FAILED, result.reason)
        return Recipient.FAILED


def pause(campaign: Campaign, reason: str) -> None:
    Campaign.objects.filter(pk=campaign.pk, state=Campaign.SENDING).update(
        state=Campaign.PAUSED, reason=reason[:500]
    )


def run(
    campaign_id: int,
    *,
    clock: Callable[[], dt.datetime] = timezone.now,
    schedule: Callable[[int, dt.datetime], None] | None = None,
    limit: int | None = None,
) -> str:
    """Send a campaign's due recipients; returns why it stopped (``done``, ``paused``,
    ``cancelled``, ``later``, ``limit``). ``schedule(id, when)`` enqueues the next run."""
    campaign = Campaign.objects.select_related("table", "created_by").filter(pk=campaign_id).first()
    if campaign is None or campaign.state != Campaign.SENDING:
        return campaign.state if campaign else "gone"
    Campaign.objects.filter(pk=campaign.pk).update(**leases.lease())
    recover(campaign)
    sender = Sender(campaign)
    interval = 60.0 / campaign.per_minute if campaign.per_minute else 0.0
    sent = 0
    checked = -STATE_EVERY
    try:
        while True:
            if time.monotonic() - checked >= STATE_EVERY:
                checked = time.monotonic()
                state = (
                    Campaign.objects.filter(pk=campaign.pk).values_list("state", flat=True).first()
                )
                if state != Campaign.SENDING:
                    return state or "gone"
            now = clock()
            if not in_window(campaign, now):
                if schedule:
                    schedule(campaign.pk, next_window(campaign, now))
                return "later"
            if limit is not None and sent >= limit:
                return "limit"
            recipient = claim(campaign, now)
            if recipient is None:
                return _finish_or_later(campaign, schedule)
            started = time.monotonic()
            outcome = sender.send(recipient, now)
            sent += 1
            if outcome == "paused":
                return "paused"
            if outcome != Recipient.SENT:
                checked = -STATE_EVERY  # a fault: look at the campaign before the next one
            if sent % BEAT_EVERY == 0:
                leases.beat(Campaign, campaign.pk)
            if interval:
                time.sleep(max(0.0, interval - (time.monotonic() - started)))
    finally:
        sender.close()


def _finish_or_later(campaign: Campaign, schedule: Callable[[int, dt.datetime], None] | None):
    waiting = Recipient.objects.filter(campaign=campaign, state=Recipient.QUEUED)
    when = waiting.aggregate(at=Min("next_attempt_at"))["at"]
    if when is not None:
        if schedule:
            schedule(campaign.pk, when)
        return "later"
    if Recipient.objects.filter(campaign=campaign, state=Recipient.SENDING).exists():
        return "later"  # another worker's message in flight: it finishes the campaign
    Campaign.objects.filter(pk=campaign.pk, state=Campaign.SENDING).update(
        state=Campaign.DONE, finished_at=timezone.now(), reason=""
    )
    return "done"
