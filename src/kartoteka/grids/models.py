"""What people keep about grids: named filters («фильтры») and their column choices.

A saved view belongs to its owner, or is shared with access groups (``owner`` empty). Conditions
are stored as ``[field key, operator, value]`` triples — the same shape the grid's query string
and :class:`kartoteka.records.selectors.Condition` use — so a view survives field renames.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _

from kartoteka.tables.models import Table


class SavedView(models.Model):
    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(_("название"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    groups = models.ManyToManyField(Group, blank=True, related_name="+")
    conditions = models.JSONField(default=list, blank=True)
    match = models.CharField(max_length=3, default="all")
    search = models.CharField(max_length=200, blank=True, default="")
    ordering = models.CharField(max_length=80, blank=True, default="")
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "name", "id"]

    def __str__(self) -> str:
        return self.name


class ColumnPreference(models.Model):
    """The columns a user shows in a table's grid, in order (keys of fields)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="+")
    columns = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "table"], name="one_column_pref_per_table")
        ]
