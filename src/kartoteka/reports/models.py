"""What people keep about reports: saved own reports, their e-mail schedules, the desktop's
widgets and the managers' monthly sales plans.

A saved report keeps its :class:`~kartoteka.reports.builder.Definition` as JSON (field keys, never
ids, so a rename changes nothing); it belongs to its author and may be shared with access groups —
every viewer gets the figures of his own rows (the report runs with the viewer's rights).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _


class SavedReport(models.Model):
    name = models.CharField(_("название"), max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    groups = models.ManyToManyField(Group, blank=True, related_name="+")
    definition = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


FREQUENCIES = [
    ("daily", _("каждый день")),
    ("weekly", _("каждую неделю")),
    ("monthly", _("каждый месяц")),
]


class ReportSchedule(models.Model):
    """A report e-mailed as XLSX (the chart inline) on a schedule; the worker sends it with the
    author's rights, to ``recipients`` (addresses, one per line)."""

    report = models.ForeignKey(SavedReport, on_delete=models.CASCADE, related_name="schedules")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    frequency = models.CharField(max_length=10, choices=FREQUENCIES, default="weekly")
    recipients = models.TextField(blank=True, default="")
    next_run = models.DateTimeField(db_index=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["next_run", "id"]


WIDGETS = [
    ("report", _("Отчёт")),
    ("tasks_today", _("Мои задания на сегодня")),
    ("tasks_overdue", _("Просроченные задания")),
    ("web_leads", _("Новые заявки с сайта")),
    ("events", _("Ближайшие события")),
    ("invoices_due", _("Счета к оплате")),
    ("sales_plan", _("План продаж")),
]


class DesktopWidget(models.Model):
    """One widget of a desktop: a user's own (``user``) or a group's default (``group``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=WIDGETS)
    report = models.ForeignKey(SavedReport, on_delete=models.CASCADE, null=True, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class SalesPlan(models.Model):
    """A manager's sales plan for a month (its first day), set by an administrator."""

    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    month = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["manager", "month"], name="one_plan_per_month")
        ]
