"""What administrators decide about access, and what happened (the audit log).

- :class:`TableRight` — a group's rights on one table: the verbs it may use, the table actions it
  may run, and the row filter its users are confined to. A table without a row for a group gives
  the group every right on it (tables added in the designer are open until restricted); a group
  «without the table» has a row with no verbs.
- :class:`FieldRight` — a group's access to one field: hidden, read-only or editable; shown in the
  grid, written to exports, accepted from imports. No row: editable and everywhere.
- :class:`AuditEvent` — log-ins, failed log-ins, locks and every change of rights.
- :class:`LoginFailure` — failed log-ins, counted per account and per address for the lock.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kartoteka.tables.models import Field, Table

VERB_LABELS = {
    "view": _("Просмотр"),
    "add": _("Добавление"),
    "edit": _("Изменение"),
    "delete": _("Удаление"),
    "archive": _("Архив"),
    "import": _("Импорт"),
    "export": _("Экспорт"),
    "bulk_edit": _("Групповые операции"),
    "print": _("Печать"),
    "send": _("Отправка (e-mail, SMS)"),
}
VERBS = tuple(VERB_LABELS)

#: The right to open «Сотрудники» settings: log-ins, passwords, disabling, handing over clients.
MANAGE_EMPLOYEES = "manage_employees"
#: A group whose members must log in with a code from an authenticator app (two-factor log-in).
REQUIRE_TWO_FACTOR = "require_two_factor"
#: Group-wide rights an administrator may give on a group's page: codename → label.
GROUP_PERMISSIONS = {
    MANAGE_EMPLOYEES: _("Управление сотрудниками"),
    REQUIRE_TWO_FACTOR: _("Вход только с кодом из приложения (двухфакторный)"),
}

HIDDEN = "hidden"
READ_ONLY = "read_only"
EDITABLE = "editable"
FIELD_ACCESS = [
    (HIDDEN, _("Скрыто")),
    (READ_ONLY, _("Только чтение")),
    (EDITABLE, _("Изменение")),
]


class TableRight(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="table_rights")
    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="+")
    #: Granted verbs (keys of :data:`VERB_LABELS`).
    verbs = models.JSONField(default=list, blank=True)
    #: Keys of the table actions the group may run (``["issue_invoice"]``).
    actions = models.JSONField(default=list, blank=True)
    #: ``{"match": "all"|"any", "conditions": [[field, op, value], ...]}`` — the saved-view shape;
    #: values may be the tokens ``{current user}`` and ``{current user's group}``.
    row_filter = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "table"], name="one_table_right_per_group")
        ]
        #: Rights beyond tables, given to a group as Django permissions (``access.<codename>``).
        permissions = [
            (MANAGE_EMPLOYEES, "Управление сотрудниками"),
            (REQUIRE_TWO_FACTOR, "Двухфакторный вход обязателен"),
        ]

    def __str__(self) -> str:
        return f"{self.group} / {self.table}"


class FieldRight(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="field_rights")
    field = models.ForeignKey(Field, on_delete=models.CASCADE, related_name="+")
    access = models.CharField(max_length=10, choices=FIELD_ACCESS, default=EDITABLE)
    in_grid = models.BooleanField(default=True)
    in_export = models.BooleanField(default=True)
    in_import = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "field"], name="one_field_right_per_group")
        ]


class AuditEvent(models.Model):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOCKED = "login_locked"
    RIGHTS = "rights"
    ACCOUNT = "account"
    KINDS = [
        (LOGIN, _("Вход")),
        (LOGIN_FAILED, _("Неудачный вход")),
        (LOCKED, _("Вход заблокирован")),
        (RIGHTS, _("Изменение прав")),
        (ACCOUNT, _("Учётные записи")),
    ]

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=20, choices=KINDS, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True, default="")
    ip = models.CharField(max_length=45, blank=True, default="")
    message = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class LoginFailure(models.Model):
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    username = models.CharField(max_length=150, db_index=True)
    ip = models.CharField(max_length=45, db_index=True, blank=True, default="")
