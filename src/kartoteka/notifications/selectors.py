"""Reading a user's notifications."""

from __future__ import annotations

from django.db.models import QuerySet

from kartoteka.core.actor import Actor
from kartoteka.notifications.models import Notification, NotificationSettings


def unread_count(actor: Actor) -> int:
    if actor.user is None:
        return 0
    return Notification.objects.filter(user=actor.user, read_at__isnull=True).count()


def list_notifications(actor: Actor) -> QuerySet:
    return Notification.objects.filter(user=actor.user).select_related("table")


def get_notification(actor: Actor, pk: int) -> Notification | None:
    return Notification.objects.filter(user=actor.user, pk=pk).select_related("table").first()


def wants_email(actor: Actor) -> bool:
    return NotificationSettings.objects.filter(user=actor.user, by_email=True).exists()
