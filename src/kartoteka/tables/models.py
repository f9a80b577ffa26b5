"""Metadata of the table engine: categories, tables, fields and choice options.

A user table is rows here plus one real SQL table; :mod:`kartoteka.tables.modelfactory` builds the
Django model for it at runtime and :mod:`kartoteka.tables.schema` is the only place that changes
the SQL table. Keys (``Table.key``, ``Field.key``, ``Choice.key``) are stable and used by code and
the API; labels are free to change. ``db_table`` and ``db_column`` are set once and never
recomputed, so renaming a table or a field never touches SQL.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    """A group of tables in the top menu («категория»)."""

    key = models.SlugField(max_length=64, unique=True)
    label = models.CharField(_("название"), max_length=200)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("категория")
        verbose_name_plural = _("категории")

    def __str__(self) -> str:
        return self.label


class Table(models.Model):
    """A table of records; its rows live in the SQL table ``db_table``.

    ``schema_version`` is bumped in the same transaction as every DDL change of the table, and
    keys the per-process model cache.
    """

    key = models.SlugField(max_length=64, unique=True)
    label = models.CharField(_("название"), max_length=200)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="tables"
    )
    db_table = models.CharField(max_length=63, unique=True, editable=False)
    is_builtin = models.BooleanField(default=False)
    schema_version = models.PositiveIntegerField(default=1)
    title_template = models.CharField(
        _("шаблон названия записи"), max_length=300, blank=True, default=""
    )
    position = models.PositiveIntegerField(default=0)
    page_size = models.PositiveIntegerField(default=50)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("таблица")
        verbose_name_plural = _("таблицы")

    def __str__(self) -> str:
        return self.label


class Field(models.Model):
    """A column of a table. ``type`` is a key of the ``field_types`` registry.

    ``options`` holds the settings of the type (validated by the type), e.g. ``max_length`` of
    text or ``decimal_places`` of a number. ``link_table`` is the target of link fields; a link
    with ``options["subtable"]`` makes this table a subtable shown in the target's record card.
    """

    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="fields")
    key = models.SlugField(max_length=64)
    label = models.CharField(_("название"), max_length=200)
    type = models.CharField(_("тип"), max_length=32)
    options = models.JSONField(default=dict, blank=True)
    db_column = models.CharField(max_length=63, editable=False)
    link_table = models.ForeignKey(
        Table, on_delete=models.PROTECT, null=True, blank=True, related_name="incoming_links"
    )
    is_system = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    required = models.BooleanField(_("обязательное"), default=False)
    unique = models.BooleanField(_("запрещать дублирование"), default=False)
    read_only = models.BooleanField(_("только чтение"), default=False)
    default = models.JSONField(_("значение по умолчанию"), null=True, blank=True)
    help_text = models.CharField(_("подсказка"), max_length=500, blank=True, default="")
    group = models.CharField(_("группа полей"), max_length=200, blank=True, default="")
    show_in_grid = models.BooleanField(default=True)
    show_in_add = models.BooleanField(default=True)
    show_in_edit = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["table", "key"], name="field_key_unique_in_table"),
            models.UniqueConstraint(
                fields=["table", "db_column"], name="field_column_unique_in_table"
            ),
        ]
        verbose_name = _("поле")
        verbose_name_plural = _("поля")

    def __str__(self) -> str:
        return f"{self.table.key}.{self.key}"

    @property
    def field_type(self):  # -> FieldType; typed loosely to keep models import-light
        """The registered type of ``type``, remembered on the instance.

        Asked for per value on every write path (hundreds of thousands of times in an import),
        so the lookup is cached. The cache is keyed by ``type``: retyping a field changes
        ``type`` and misses it; a registry never replaces a type once registered.
        """
        cached = self.__dict__.get("_field_type")
        if cached is not None and cached[0] == self.type:
            return cached[1]
        from kartoteka.tables.fieldtypes import field_types

        found = field_types.get(self.type)
        self.__dict__["_field_type"] = (self.type, found)
        return found


class Choice(models.Model):
    """An option of a choice or multi-choice field, ordered by ``position``."""

    field = models.ForeignKey(Field, on_delete=models.CASCADE, related_name="choices")
    key = models.SlugField(max_length=64)
    label = models.CharField(_("название"), max_length=200)
    color = models.CharField(max_length=20, blank=True, default="")
    position = models.PositiveIntegerField(default=0)
    system_only = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["field", "key"], name="choice_key_unique_in_field")
        ]

    def __str__(self) -> str:
        return self.label


class Sequence(models.Model):
    """A named counter for autonumber defaults and document numbers.

    Incremented with ``select_for_update`` (PostgreSQL) or under SQLite's single writer lock, so
    a number is never handed out twice.
    """

    key = models.CharField(max_length=200, unique=True)
    value = models.BigIntegerField(default=0)
