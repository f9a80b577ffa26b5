"""Creating and reading-off notifications; the one entry point other code calls is
:func:`notify` (tasks, reminders, and later web-form leads).

A notification is written in the caller's transaction, so it exists exactly when the change that
caused it does. E-mail copies (for users who asked for them in their settings, or when a reminder
asks for e-mail) are sent by a background job enqueued after the commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import PermissionDenied
from kartoteka.notifications.models import Notification, NotificationSettings
from kartoteka.tables.models import Table


@dataclass(frozen=True)
class Message:
    """One notification to write: to ``user_id``, about record ``record_id`` of ``table``."""

    user_id: int | None
    text: str
    table: Table | None = None
    record_id: int | None = None
    kind: str = ""


def notify(
    users: Iterable[int | None],
    text: str,
    *,
    table: Table | None = None,
    record_id: int | None = None,
    kind: str = "",
    exclude: int | None = None,
    in_app: bool = True,
    email: bool | None = None,
    now: Any = None,
) -> list[Notification]:
    """Notify each user once with the same text (ids; ``None`` and ``exclude`` — usually the
    actor — are skipped). See :func:`notify_each` for the channels."""
    messages = [Message(u, text, table, record_id, kind) for u in dict.fromkeys(users)]
    return notify_each(messages, exclude=exclude, in_app=in_app, email=email, now=now)


def notify_each(
    messages: Iterable[Message],
    *,
    exclude: int | None = None,
    in_app: bool = True,
    email: bool | None = None,
    now: Any = None,
) -> list[Notification]:
    """Write a batch of notifications with a fixed number of queries.

    Args:
        exclude: a user who gets none of them (the actor: nobody is told what he did himself).
        email: ``True`` sends an e-mail copy to everyone with an address, ``False`` to nobody,
            ``None`` (default) to those whose settings ask for e-mail.
        in_app: ``False`` for an e-mail-only reminder: the row is kept (as read) for the record.
    """
    wanted_messages = [m for m in messages if m.user_id is not None and m.user_id != exclude]
    if not wanted_messages:
        return []
    ids = {m.user_id for m in wanted_messages}
    active = set(
        get_user_model().objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True)
    )
    now = now or timezone.now()
    created = Notification.objects.bulk_create(
        [
            Notification(
                user_id=m.user_id,
                text=m.text[:500],
                kind=m.kind,
                table=m.table,
                record_id=m.record_id,
                created_at=now,
                read_at=None if in_app else now,
            )
            for m in wanted_messages
            if m.user_id in active
        ]
    )
    if email is None:
        wanted = set(
            NotificationSettings.objects.filter(user_id__in=active, by_email=True).values_list(
                "user_id", flat=True
            )
        )
    else:
        wanted = set(active) if email else set()
    mail_ids = [n.pk for n in created if n.user_id in wanted]
    if mail_ids:
        transaction.on_commit(lambda: _enqueue_emails(mail_ids))
    return created


def _enqueue_emails(ids: list[int]) -> None:
    from kartoteka.notifications.tasks import send_notification_emails

    send_notification_emails.enqueue(ids)


def mark_read(actor: Actor, ids: Iterable[int] | None = None) -> int:
    """Mark the actor's notifications read (``ids``; all of them when ``None``)."""
    if actor.user is None:
        raise PermissionDenied("no user")
    qs = Notification.objects.filter(user=actor.user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


def set_email_preference(actor: Actor, by_email: bool) -> None:
    if actor.user is None:
        raise PermissionDenied("no user")
    NotificationSettings.objects.update_or_create(user=actor.user, defaults={"by_email": by_email})
