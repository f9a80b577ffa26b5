"""A user's own settings and his recovery codes.

- :class:`Profile` — the interface language and time zone a user picked (empty: the
  installation's). Kept here, not on the user model, so the accounts app stays as it is.
- :class:`RecoveryCode` — one-time codes of two-factor log-in, stored as salted SHA-256 only (the
  codes are random with 50 bits each, so a fast hash is enough; the code itself is shown once).

The authenticator app's secret is django-otp's ``TOTPDevice`` (its own table).

- :class:`SmsDevice` — codes by SMS as a second factor (a django-otp device): the current code is
  kept only as an HMAC with valid-until, cleared when used; :class:`SmsCodeSend` counts the sends
  so a user cannot flood his phone.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_otp.models import Device


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kt_profile"
    )
    #: ``ru``/``en``; empty: the installation's language (or the switch's cookie).
    language = models.CharField(max_length=10, blank=True, default="")
    #: An IANA zone name (``Asia/Yekaterinburg``); empty: ``settings.TIME_ZONE``.
    time_zone = models.CharField(max_length=64, blank=True, default="")


class RecoveryCode(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "code_hash"])]


class SmsDevice(Device):
    """A user's phone as a second factor; ``confirmed`` once he typed a code sent to it."""

    #: The number the current code went to (E.164).
    phone = models.CharField(max_length=20, blank=True, default="")
    code_hash = models.CharField(max_length=64, blank=True, default="")
    valid_until = models.DateTimeField(null=True, blank=True)


class SmsCodeSend(models.Model):
    """One SMS code sent to a user (log-in or confirmation), for the limit of sends."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "sent_at"])]
