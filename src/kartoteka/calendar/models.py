"""The personal iCalendar feed: a secret token in a URL that a phone or mail calendar polls.

The token is the only credential of the feed, so it is long and random, and revocable: a revoked
token answers 404 like one that never existed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class CalendarFeed(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
