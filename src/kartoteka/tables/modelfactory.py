"""Django models built at runtime from table metadata.

Why: every user table is a real SQL table so that filters, sorts, sums and joins run in the
database at full speed. Django needs a model class to query a table, so we build one with
``type()`` from the :class:`~kartoteka.tables.models.Field` rows.

How:

- All dynamic models live in one *isolated* app registry (:class:`DynamicApps`, app label
  ``kdyn``), never in Django's global one: the global registry would warn on every rebuild, add
  reverse relations to ``auth.User`` and make Django's deletion collector walk our tables. The
  isolated registry falls back to the global one for other app labels, so
  ``ForeignKey("auth.User")`` resolves.
- The models have explicit ``db_table`` and ``db_column`` taken from the stored metadata: a
  rename never changes SQL, and migrations never see these tables.
- One registry holds the models of *all* tables, so links between tables (even mutual ones)
  resolve to each other. It is cached per process together with each table's ``schema_version``;
  when a caller passes a table whose version differs (another process changed it, or this one did),
  the whole registry is rebuilt from the database: three queries and a few milliseconds for a few
  dozen tables. Every metadata change bumps ``schema_version`` in its transaction
  (:mod:`kartoteka.tables.services`).
- Each model carries its ordered field metadata (``_kt_fields``), so callers get fields, choices
  and link targets without queries.
"""

from __future__ import annotations

import string
import threading
from collections.abc import Iterable
from typing import Any, ClassVar, cast

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.db import models

from kartoteka.tables.models import Field, Table

DYNAMIC_APP_LABEL = "kdyn"

#: The fixed system columns every table has from day one.
SYSTEM_COLUMNS = ("id", "created_at", "updated_at", "created_by", "updated_by", "record_state")
RESERVED_KEYS = frozenset(SYSTEM_COLUMNS) | {"pk", "objects"}

STATE_ACTIVE = "active"
STATE_ARCHIVED = "archived"
STATE_DELETED = "deleted"
STATES = (STATE_ACTIVE, STATE_ARCHIVED, STATE_DELETED)


class DynamicApps(Apps):
    """An app registry for dynamic models that resolves other apps' models globally."""

    def __init__(self) -> None:
        super().__init__(installed_apps=[])

    def get_registered_model(self, app_label: str, model_name: str) -> Any:
        if app_label != DYNAMIC_APP_LABEL:
            return global_apps.get_registered_model(app_label, model_name)
        return super().get_registered_model(app_label, model_name)


class DynamicRecord(models.Model):
    """Base of every dynamic model: a record's title comes from the table's title template."""

    objects: ClassVar[Any]
    _kt_table_id: int
    _kt_version: int
    _kt_fields: list[Field]
    _kt_title_keys: list[str]

    class Meta:
        abstract = True

    def __str__(self) -> str:
        fields = {f.key: f for f in self._kt_fields}
        parts = []
        for key in self._kt_title_keys:
            if key == "id":
                parts.append(str(self.pk))
                continue
            field = fields[key]
            ft = field.field_type
            value = getattr(self, key) if ft.is_relation else getattr(self, field.key)
            parts.append(ft.display(field, value))
        text = " ".join(p for p in parts if p).strip()
        return text or f"#{self.pk}"

    @property
    def kt_fields(self) -> list[Field]:
        return self._kt_fields


def title_field_keys(table: Table, fields: Iterable[Field] | None = None) -> list[str]:
    """Field keys named in the table's title template (``{name}``); a default when empty."""
    if fields is None:
        fields = fields_of(table)
    fields = list(fields)
    known = {f.key for f in fields} | {"id"}
    keys = [
        name
        for _text, name, _spec, _conv in string.Formatter().parse(table.title_template or "")
        if name and name in known
    ]
    if keys:
        return keys
    for f in fields:
        if f.type == "text":
            return [f.key]
    return ["id"]


def _system_fields() -> dict[str, models.Field]:
    return {
        "id": models.BigAutoField(primary_key=True),
        "created_at": models.DateTimeField(db_index=True),
        "updated_at": models.DateTimeField(),
        "created_by": models.ForeignKey(
            "auth.User",
            on_delete=models.DO_NOTHING,
            db_constraint=False,
            null=True,
            related_name="+",
            db_column="created_by_id",
        ),
        "updated_by": models.ForeignKey(
            "auth.User",
            on_delete=models.DO_NOTHING,
            db_constraint=False,
            null=True,
            related_name="+",
            db_column="updated_by_id",
        ),
        "record_state": models.CharField(max_length=16, default=STATE_ACTIVE, db_index=True),
    }


def build_model(table: Table, fields: list[Field], registry: Apps) -> type[DynamicRecord]:
    """Build one model class for ``table`` with ``fields`` inside ``registry``."""
    meta = type(
        "Meta",
        (),
        {
            "app_label": DYNAMIC_APP_LABEL,
            "db_table": table.db_table,
            # Never seen by migrations (the registry is isolated); ``managed`` must be True or
            # the schema editor skips the model's indexes.
            "managed": True,
            "apps": registry,
            "ordering": ["id"],
        },
    )
    attrs: dict[str, Any] = {"__module__": __name__, "Meta": meta}
    attrs.update(_system_fields())
    for field in fields:
        model_field = field.field_type.model_field(field)
        model_field.db_column = field.db_column
        if field.unique:
            model_field._unique = True
        elif field.options.get("indexed"):
            # Columns people sort and filter big grids by get an index (``options.indexed``).
            model_field.db_index = True
        attrs[field.key] = model_field
    model = cast(type[DynamicRecord], type(f"T{table.pk}", (DynamicRecord,), attrs))
    model._kt_table_id = table.pk
    model._kt_version = table.schema_version
    model._kt_fields = list(fields)
    model._kt_title_keys = title_field_keys(table, fields)
    return model


def load_metadata(
    table_ids: Iterable[int] | None = None,
) -> tuple[list[Table], dict[int, list[Field]]]:
    """Tables and their ordered fields: all of them, or only those of ``table_ids``."""
    table_query = Table.objects.all()
    fields = (
        Field.objects.select_related("link_table", "table")
        .prefetch_related("choices")
        .order_by("position", "id")
    )
    if table_ids is not None:
        table_query = table_query.filter(pk__in=list(table_ids))
        fields = fields.filter(table_id__in=list(table_ids))
    tables = list(table_query)
    by_table: dict[int, list[Field]] = {t.pk: [] for t in tables}
    for field in fields:
        by_table.setdefault(field.table_id, []).append(field)
    return tables, by_table


def build_registry(
    overrides: dict[int, list[Field]] | None = None,
    extra_tables: list[Table] | None = None,
    *,
    around: Table | None = None,
) -> dict[int, type[DynamicRecord]]:
    """Build models of all tables into a fresh registry.

    ``overrides`` replaces the field list of some tables (the schema module uses it to get the
    model *after* a change before the change is made); ``extra_tables`` adds tables not yet in the
    database's metadata.

    ``around`` builds only that table and the tables its links point to: enough for the schema
    editor to change the table's columns (links have no reverse side, so nothing else refers
    to it). A schema change needs no more, and building every table's model for each added
    field made creating a table of many fields, and ``init``, slow as the tables grew.
    """
    table_ids = None
    if around is not None:
        targets = Field.objects.filter(table=around, link_table__isnull=False)
        table_ids = {around.pk, *targets.values_list("link_table_id", flat=True)}
    tables, by_table = load_metadata(table_ids)
    for extra in extra_tables or []:
        if all(t.pk != extra.pk for t in tables):
            tables.append(extra)
    overrides = overrides or {}
    registry = DynamicApps()
    built = {}
    for table in tables:
        fields = overrides.get(table.pk, by_table.get(table.pk, []))
        built[table.pk] = build_model(table, fields, registry)
    return built


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.models: dict[int, type[DynamicRecord]] = {}

    def clear(self) -> None:
        with self.lock:
            self.models = {}


_cache = _Cache()


def model_for(table: Table) -> type[DynamicRecord]:
    """The model of ``table`` at its current ``schema_version``; rebuilt when stale."""
    model = _cache.models.get(table.pk)
    if model is not None and model._kt_version == table.schema_version:
        return model
    with _cache.lock:
        model = _cache.models.get(table.pk)
        if model is None or model._kt_version != table.schema_version:
            _cache.models = build_registry()
            model = _cache.models.get(table.pk)
    if model is None:
        raise LookupError(f"table {table.pk} has no metadata")
    return model


def fields_of(table: Table) -> list[Field]:
    """The ordered fields of ``table`` (from the model cache: no query when warm)."""
    return model_for(table)._kt_fields


def field_of(table: Table, key: str) -> Field:
    for field in fields_of(table):
        if field.key == key:
            return field
    raise KeyError(f"{table.key} has no field {key!r}")


def clear_model_cache() -> None:
    """Forget all built models (tests call this between cases)."""
    _cache.clear()
