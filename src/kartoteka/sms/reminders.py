"""Reminders by SMS: the reminder's messages sent to the recipients' phones after the commit.

A recipient's phone is the «Телефон» of his «Сотрудники» record; a user without one gets no
SMS. The job sends each message once; a provider's refusal is logged (the reminder's in-app
notification stands).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django_tasks import task

from kartoteka.sms.models import ReminderSms

log = logging.getLogger(__name__)


def reminder_by_sms(reminder: Any) -> bool:
    return ReminderSms.objects.filter(reminder=reminder, enabled=True).exists()


def set_reminder_sms(reminder: Any, enabled: bool) -> None:
    ReminderSms.objects.update_or_create(reminder=reminder, defaults={"enabled": enabled})


def phones_of(user_ids: Iterable[int]) -> dict[int, str]:
    """``{user id: phone}`` from the «Сотрудники» records (users without a phone left out)."""
    from kartoteka.tables.modelfactory import model_for
    from kartoteka.tables.models import Table

    employees = Table.objects.filter(key="employees").first()
    if employees is None:
        return {}
    rows = model_for(employees).objects.filter(user_id__in=list(user_ids)).exclude(phone="")
    return {uid: phone for uid, phone in rows.values_list("user_id", "phone") if phone}


def send_copies(reminder: Any, messages: Iterable[Any]) -> None:
    """After the commit, SMS copies of a reminder's messages (when its SMS channel is on)."""
    items = [[m.user_id, m.text] for m in messages if m.user_id is not None]
    if items and reminder_by_sms(reminder):
        transaction.on_commit(lambda: send_reminder_sms.enqueue(items))


@task()
def send_reminder_sms(items: list[list[Any]]) -> int:
    """Send ``[user id, text]`` items to the users' phones; returns how many were accepted."""
    from kartoteka.sms import send_sms

    phones = phones_of(uid for uid, _text in items)
    sent = 0
    for uid, text in items:
        phone = phones.get(uid)
        if not phone:
            continue
        result = send_sms(phone, text)
        if result.ok:
            sent += 1
        else:
            log.warning("reminder SMS to user %s not sent: %s", uid, result.reason)
    return sent
