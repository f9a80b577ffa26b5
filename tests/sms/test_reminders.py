"""Reminders by SMS: a reminder with its SMS channel on texts each recipient's phone (his
«Сотрудники» record) through the gateway."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from kartoteka.accounts.services import create_user
from kartoteka.core.actor import Actor
from kartoteka.notifications.reminder_services import save_reminder
from kartoteka.notifications.reminders import evaluate_reminders
from kartoteka.records.services import create_record
from kartoteka.sms.reminders import reminder_by_sms
from tests.sms.test_gateway import env

pytestmark = pytest.mark.django_db


def test_a_reminder_by_sms_texts_the_recipients_phone(
    admin, admin_user, table, settings, tmp_path, django_capture_on_commit_callbacks
):
    # given: a manager with a phone and a reminder with its SMS channel on
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    log = tmp_path / "sms.log"
    env(settings, backend="file", file=str(log))
    manager = create_user(
        Actor.system("test"),
        username="petrov",
        password="Xk2#pLq9!vR",
        group="Менеджеры",
        full_name="Петров Пётр",
        phone="8 916 123-45-67",
    )
    values = {
        "name": "Тула",
        "enabled": True,
        "saved_view": None,
        "conditions": [["city", "eq", "Тула"]],
        "match": "all",
        "recipient_field": "manager",
        "users": [],
        "group": None,
        "message": "Клиент {name} из Тулы",
        "moment": "match",
        "date_field": "",
        "offset_minutes": 0,
        "at_time": None,
        "in_app": False,
        "by_email": False,
        "by_sms": True,
    }
    reminder = save_reminder(admin, table("counterparties"), dict(values))
    create_record(
        admin, table("counterparties"), {"name": "ООО Тула", "city": "Тула", "manager": manager.pk}
    )
    # when
    with django_capture_on_commit_callbacks(execute=True):
        fired = evaluate_reminders(dt.datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo("UTC")))
    # then
    assert fired == 1
    assert reminder_by_sms(reminder) is True
    sent = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [(s["to"], s["text"]) for s in sent] == [("+79161234567", "Клиент ООО Тула из Тулы")]
