"""Invitations and password-reset requests.

- :class:`Invitation` — a one-time link to set a password, e-mailed to a new colleague. Only the
  SHA-256 of the link's token is kept; sending a new invitation revokes the older ones.
- :class:`ResetRequest` — one «Забыли пароль?» request (address and visitor's IP), counted by the
  log-in limiter (:mod:`kartoteka.access.login`) to refuse a flood.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Invitation(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    email = models.EmailField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def is_pending(self) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class ResetRequest(models.Model):
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    #: The address asked for, lower-cased (counted whether or not a user has it).
    username = models.CharField(max_length=254, db_index=True)
    ip = models.CharField(max_length=45, db_index=True, blank=True, default="")
