"""The SMS gateway's settings an administrator keeps on the settings page.

One row (``pk=1``). A blank value falls back to the environment (``KARTOTEKA_SMS_…``), so an
installation may be configured either way; the API key is write-only on the page.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

BACKENDS = [
    ("", _("как в окружении")),
    ("console", _("консоль (разработка)")),
    ("file", _("файл (разработка)")),
    ("smsru", "SMS.ru"),
    ("smsc", "SMSC.ru"),
    ("smsaero", "SMS Aero"),
]


class SmsSettings(models.Model):
    backend = models.CharField(_("провайдер"), max_length=20, blank=True, default="")
    login = models.CharField(_("логин"), max_length=200, blank=True, default="")
    api_key = models.CharField(_("ключ API"), max_length=500, blank=True, default="")
    sender = models.CharField(_("имя отправителя"), max_length=20, blank=True, default="")
    price_per_part = models.DecimalField(
        _("цена части, ₽"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    opt_out_text = models.CharField(
        _("текст об отказе от рассылки"), max_length=100, blank=True, default=""
    )
    updated_at = models.DateTimeField(auto_now=True)


class ReminderSms(models.Model):
    """A reminder's SMS channel: its messages also go by SMS to the phone in each recipient's
    «Сотрудники» record (kept here, beside the gateway, rather than on the reminder)."""

    reminder = models.OneToOneField(
        "notifications.Reminder", on_delete=models.CASCADE, related_name="sms"
    )
    enabled = models.BooleanField(_("по SMS"), default=False)
