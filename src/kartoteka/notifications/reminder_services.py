"""Configuring reminders (administrators only): one service saves, one deletes."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import (
    KartotekaError,
    NotFound,
    PermissionDenied,
    RecordValidationError,
)
from kartoteka.notifications.models import Reminder
from kartoteka.notifications.reminders import reminder_conditions
from kartoteka.records.selectors import list_records
from kartoteka.sms.reminders import set_reminder_sms
from kartoteka.tables.modelfactory import fields_of
from kartoteka.tables.models import Table


class ReminderError(KartotekaError):
    code = "reminder"


def save_reminder(
    actor: Actor, table: Table, values: dict[str, Any], reminder: Reminder | None = None
) -> Reminder:
    """Create or change a reminder of ``table``; refused with a clear message when it could
    never fire (no recipient, no channel, no date field, a condition on a missing field)."""
    if not actor.is_admin:
        raise PermissionDenied(_("Напоминания настраивает администратор."))
    fields = {f.key: f for f in fields_of(table)}
    if values.get("recipient_field") and fields.get(values["recipient_field"]) is None:
        raise ReminderError(_("В таблице нет такого поля."), code="unknown_field")
    if values.get("recipient_field") and fields[values["recipient_field"]].type != "user":
        raise ReminderError(_("Получатель берётся из поля-пользователя."), code="not_user_field")
    if not (values.get("recipient_field") or values.get("users") or values.get("group")):
        raise ReminderError(
            _("Укажите, кому напоминать: поле, сотрудников или группу."), code="no_recipients"
        )
    by_sms = bool(values.pop("by_sms", False))
    if not (values.get("in_app") or values.get("by_email") or by_sms):
        raise ReminderError(
            _("Выберите хотя бы один канал: в приложении, по e-mail или SMS."), code="no_channel"
        )
    if values.get("moment") == Reminder.MOMENT_DATE:
        date_field = fields.get(values.get("date_field") or "")
        if date_field is None or date_field.type not in ("date", "datetime"):
            raise ReminderError(
                _("Выберите поле даты, от которого считать момент."), code="no_date_field"
            )
    users = values.pop("users", [])
    with transaction.atomic():
        if reminder is None:
            reminder = Reminder(table=table)
        for key, value in values.items():
            setattr(reminder, key, value)
        conditions, match = reminder_conditions(reminder)
        try:
            list_records(actor, table, conditions=conditions, match=match).exists()
        except RecordValidationError as exc:
            raise ReminderError(
                _("Условие не подходит: %(e)s") % {"e": exc.message}, code="bad_condition"
            ) from None
        reminder.save()
        reminder.users.set(users)
        set_reminder_sms(reminder, by_sms)
    return reminder


def delete_reminder(actor: Actor, pk: int) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_("Напоминания настраивает администратор."))
    deleted, _rows = Reminder.objects.filter(pk=pk).delete()
    if not deleted:
        raise NotFound(_("Напоминание не найдено."))
