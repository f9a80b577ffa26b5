"""History of records: one row per record per operation, with every changed field."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kartoteka.tables.models import Table


class RecordChange(models.Model):
    """What one operation did to one record: who, when, how (source), field → [old, new].

    ``changes`` holds JSON values as the field types' ``to_json`` gives them, so the history of a
    field stays readable after the field is renamed, retyped or removed.
    """

    ACTIONS = [
        ("create", _("создание")),
        ("update", _("изменение")),
        ("archive", _("в архив")),
        ("delete", _("в удалённые")),
        ("restore", _("восстановление")),
        ("purge", _("удаление навсегда")),
    ]

    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="+")
    record_id = models.BigIntegerField()
    action = models.CharField(max_length=16, choices=ACTIONS)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    source = models.CharField(max_length=100)
    created_at = models.DateTimeField(db_index=True)
    changes = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["table", "record_id", "id"], name="change_record_idx")]
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.table_id}#{self.record_id} {self.action}"
