"""Saving the SMS gateway's settings (administrators only)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import PermissionDenied
from kartoteka.sms.models import SmsSettings


def save_sms_settings(actor: Actor, values: dict[str, Any], *, clear_key: bool = False) -> None:
    """Store the gateway's settings. The API key is write-only: a blank one keeps the stored
    key, ``clear_key`` removes it."""
    if not actor.is_admin:
        raise PermissionDenied(_("Настройки SMS меняет администратор."))
    row, _created = SmsSettings.objects.get_or_create(pk=1)
    key = values.pop("api_key", "")
    for name, value in values.items():
        setattr(row, name, value)
    if clear_key:
        row.api_key = ""
    elif key:
        row.api_key = key
    row.save()
