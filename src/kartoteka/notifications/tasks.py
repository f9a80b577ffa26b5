"""Background jobs of notifications (django-tasks, database backend; ``kartoteka worker``)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django_tasks import task

from kartoteka.notifications.models import Notification

log = logging.getLogger(__name__)


@task()
def send_notification_emails(ids: list[int]) -> int:
    """E-mail copies of notifications ``ids``; returns how many letters were sent."""
    sent = 0
    for note in Notification.objects.filter(pk__in=ids).select_related("user", "table"):
        address = note.user.email
        if not address:
            continue
        body = note.text
        if note.table_id and note.record_id:
            base = settings.KARTOTEKA_BASE_URL
            body += "\n\n" + base + reverse("record", args=[note.table.key, note.record_id])
        EmailMessage(
            subject=note.text[:120], body=body, to=[address], from_email=settings.DEFAULT_FROM_EMAIL
        ).send()
        sent += 1
    return sent
