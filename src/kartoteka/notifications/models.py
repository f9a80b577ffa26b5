"""Notifications («Уведомления») and reminders («Напоминания»).

A :class:`Notification` is one message to one user, optionally pointing at a record (table +
id) that a click opens. Reminders are rules an administrator configures per table; the scheduler
(:mod:`kartoteka.notifications.scheduler`) evaluates them every minute. A reminder fires once per
record and moment: :class:`ReminderFiring` has a unique constraint on (reminder, record, moment),
so when two workers evaluate the same minute only the one whose insert commits first notifies.
:class:`SchedulerTick` (unique minute) lets only one worker run each minute's evaluation at all.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _

from kartoteka.tables.models import Table


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    text = models.CharField(_("текст"), max_length=500)
    kind = models.CharField(max_length=40, blank=True, default="")
    table = models.ForeignKey(Table, on_delete=models.CASCADE, null=True, blank=True)
    record_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.text


class NotificationSettings(models.Model):
    """A user's choices about notifications (the profile setting «также по e-mail»)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    by_email = models.BooleanField(_("также по e-mail"), default=False)


class Reminder(models.Model):
    """A reminder rule of one table.

    ``conditions`` are ``[field key, operator, value]`` triples (the grid's filter shape), or the
    conditions of ``saved_view``. ``moment`` is ``match`` (as soon as a record matches) or
    ``date`` (at ``date_field`` + ``offset_minutes``; a date without time is taken at
    ``at_time``). Recipients are the union of the user in ``recipient_field``, ``users`` and the
    members of ``group``.
    """

    MOMENT_MATCH = "match"
    MOMENT_DATE = "date"
    MOMENTS = [
        (MOMENT_MATCH, _("как только запись подходит под условие")),
        (MOMENT_DATE, _("в дату поля ± смещение")),
    ]

    key = models.SlugField(max_length=60, unique=True, null=True, blank=True)
    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="reminders")
    name = models.CharField(_("название"), max_length=200)
    enabled = models.BooleanField(_("включено"), default=True)
    saved_view = models.ForeignKey(
        "grids.SavedView", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    conditions = models.JSONField(default=list, blank=True)
    match = models.CharField(max_length=3, default="all")
    recipient_field = models.CharField(max_length=100, blank=True, default="")
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    group = models.ForeignKey(Group, on_delete=models.SET_NULL, null=True, blank=True)
    message = models.CharField(_("сообщение"), max_length=500)
    moment = models.CharField(max_length=10, choices=MOMENTS, default=MOMENT_DATE)
    date_field = models.CharField(max_length=100, blank=True, default="")
    offset_minutes = models.IntegerField(default=0)
    at_time = models.TimeField(null=True, blank=True)
    in_app = models.BooleanField(_("в приложении"), default=True)
    by_email = models.BooleanField(_("по e-mail"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["table__position", "name", "id"]

    def __str__(self) -> str:
        return self.name


class ReminderFiring(models.Model):
    """That a reminder fired for a record at a moment: the once-only guarantee."""

    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="firings")
    record_id = models.BigIntegerField()
    moment = models.DateTimeField()
    fired_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reminder", "record_id", "moment"], name="reminder_fires_once"
            )
        ]


class SchedulerTick(models.Model):
    """One row per evaluated minute; the worker that inserts it runs that minute's reminders."""

    minute = models.DateTimeField(unique=True)
    started_at = models.DateTimeField()
    worker = models.CharField(max_length=100, blank=True, default="")
