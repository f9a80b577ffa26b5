"""Web forms: forms an administrator builds for a table and pastes into a website.

A :class:`WebForm` belongs to one table and has a public key (its address ``/f/<key>/``). Its
visible inputs are :class:`WebFormField` rows (a field of the table, a label, required, order);
:class:`WebFormDefault` rows are hidden values every submission gets (source = «Сайт», type,
status …); the manager is assigned round-robin among the active users of ``assign_group`` into
the user field ``assign_field``. Every submission attempt — accepted or refused — is a
:class:`WebFormSubmission` row: the log the settings page shows, what rate limits count, and
what keeps a time-trap token to one accepted submission.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _

from kartoteka.tables.models import Field, Table


def new_key() -> str:
    return secrets.token_urlsafe(12)


class WebForm(models.Model):
    """A public form that brings website visitors' requests into ``table``."""

    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("название"), max_length=200)
    key = models.CharField(max_length=40, unique=True, default=new_key)
    title = models.CharField(_("заголовок формы"), max_length=200, blank=True)
    submit_label = models.CharField(_("текст кнопки"), max_length=100, default="Отправить")
    success_message = models.TextField(
        _("сообщение после отправки"), default="Спасибо! Мы свяжемся с вами в ближайшее время."
    )
    redirect_url = models.URLField(_("перейти после отправки"), max_length=1000, blank=True)
    allowed_origins = models.TextField(_("разрешённые сайты"), blank=True)
    merge = models.BooleanField(_("объединять с существующей записью"), default=True)
    assign_field = models.ForeignKey(
        Field, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assign_group = models.ForeignKey(
        Group, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    is_active = models.BooleanField(_("принимает заявки"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def origins(self) -> list[str]:
        """Allowed origins, normalised to ``scheme://host[:port]`` without a trailing slash."""
        result = []
        for line in self.allowed_origins.replace(",", "\n").split():
            line = line.strip().rstrip("/").lower()
            if line:
                result.append(line)
        return result


class WebFormField(models.Model):
    """One visible input of a web form."""

    form = models.ForeignKey(WebForm, on_delete=models.CASCADE, related_name="inputs")
    field = models.ForeignKey(Field, on_delete=models.CASCADE, related_name="+")
    label = models.CharField(_("подпись"), max_length=200, blank=True)
    required = models.BooleanField(_("обязательное"), default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["form", "field"], name="webform_field_once")]

    def __str__(self) -> str:
        return self.label or self.field.label

    @property
    def shown_label(self) -> str:
        return self.label or self.field.label


class WebFormDefault(models.Model):
    """A hidden value every submission of the form gets (text as a person types it)."""

    form = models.ForeignKey(WebForm, on_delete=models.CASCADE, related_name="defaults")
    field = models.ForeignKey(Field, on_delete=models.CASCADE, related_name="+")
    value = models.CharField(max_length=500)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["form", "field"], name="webform_default_once")
        ]

    def __str__(self) -> str:
        return f"{self.field.key}={self.value}"


class WebFormSubmission(models.Model):
    """One submission attempt: its outcome, the visitor's address and (if accepted) the record."""

    CREATED = "created"
    MERGED = "merged"
    INVALID = "invalid"
    REFUSED = "refused"
    OUTCOMES = [
        (CREATED, _("создана запись")),
        (MERGED, _("объединено с записью")),
        (INVALID, _("ошибки в данных")),
        (REFUSED, _("отклонено защитой от спама")),
    ]
    #: Outcomes that took the submission: each uses up its time-trap token.
    ACCEPTED = (CREATED, MERGED)

    form = models.ForeignKey(WebForm, on_delete=models.CASCADE, related_name="submissions")
    created_at = models.DateTimeField(auto_now_add=True)
    ip = models.GenericIPAddressField(null=True)
    origin = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=16, choices=OUTCOMES)
    reason = models.CharField(max_length=300, blank=True)
    record_id = models.BigIntegerField(null=True)
    #: The time-trap token's nonce: an accepted submission uses it up.
    nonce = models.CharField(max_length=32, blank=True, default="")
    #: What a merge sent that differs from the record's filled fields (kept for the manager).
    content = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["form", "ip", "created_at"], name="webform_sub_ip_idx"),
            models.Index(fields=["form", "created_at"], name="webform_sub_form_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["form", "nonce"],
                condition=models.Q(outcome__in=["created", "merged"]) & ~models.Q(nonce=""),
                name="webform_token_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.form_id}: {self.outcome}"
