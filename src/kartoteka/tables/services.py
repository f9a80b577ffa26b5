"""Services that change tables and fields: the table designer («конструктор») and the built-in
table sync both come here.

Each service takes the :class:`~kartoteka.core.actor.Actor` first, refuses non-administrators,
changes metadata and the SQL table (through :mod:`kartoteka.tables.schema`) in one transaction,
and bumps the table's ``schema_version`` so every process rebuilds its model.

Other apps that keep data derived from a table's values (the search index) learn of field
changes through :data:`schema_listeners`, called inside the same transaction — so the table
engine never imports them, and a listener that fails rolls the change back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Max
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import PermissionDenied, SchemaError
from kartoteka.core.registry import Registry
from kartoteka.tables import schema
from kartoteka.tables.converters import converter_for
from kartoteka.tables.fieldtypes import field_types
from kartoteka.tables.fieldtypes.choice import fold
from kartoteka.tables.fieldtypes.multi_choice import SEPARATORS
from kartoteka.tables.modelfactory import (
    RESERVED_KEYS,
    DynamicRecord,
    build_registry,
    clear_model_cache,
    model_for,
)
from kartoteka.tables.models import Category, Choice, Field, Table

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
#: Field attributes that only change metadata, never SQL.
PLAIN_ATTRIBUTES = (
    "label",
    "help_text",
    "required",
    "read_only",
    "default",
    "group",
    "position",
    "show_in_grid",
    "show_in_add",
    "show_in_edit",
)


@dataclass(frozen=True)
class ChoiceSpec:
    key: str
    label: str
    color: str = ""
    system_only: bool = False


@dataclass(frozen=True)
class FieldChange:
    """What a schema service did to a field, as :data:`schema_listeners` are told.

    ``action`` is ``"add"``, ``"change"`` or ``"remove"``; ``old_type``/``new_type`` are type
    keys (``None`` before an add and after a remove); ``values_changed`` says whether stored
    values may differ afterwards (a removal, a retype, a storage change — not a new, empty column
    or a label edit).
    """

    table: Table
    key: str
    action: str
    old_type: str | None
    new_type: str | None
    values_changed: bool


#: Called with a :class:`FieldChange` after every field change, inside its transaction, with the
#: table's new model in place. Filled from ``AppConfig.ready()`` (e.g. the search index).
schema_listeners: Registry[Callable[[FieldChange], None]] = Registry("schema_listeners")


def _notify(change: FieldChange) -> None:
    for listener in schema_listeners.values():
        listener(change)


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_("Менять таблицы и поля может только администратор."))


def validate_key(key: str, *, what: str = "field") -> None:
    if not KEY_RE.match(key or ""):
        raise SchemaError(
            _("Ключ «%(key)s» должен начинаться с латинской буквы и состоять из a–z, 0–9 и «_».")
            % {"key": key},
            code="bad_key",
        )
    # A key becomes an attribute of the model class: it must not hide a model method or
    # attribute (``save``, ``from_db``, ``delete`` …), or every read or write of the table breaks.
    if what == "field" and (
        key in RESERVED_KEYS or key.endswith("_id") or hasattr(DynamicRecord, key)
    ):
        raise SchemaError(_("Ключ «%(key)s» зарезервирован.") % {"key": key}, code="reserved_key")


def bump_version(table: Table) -> None:
    """Mark the table's model stale everywhere, and the models of tables that link to it."""
    linking = Field.objects.filter(link_table=table).values_list("table_id", flat=True)
    Table.objects.filter(pk__in=[table.pk, *linking]).update(schema_version=F("schema_version") + 1)
    table.refresh_from_db(fields=["schema_version"])
    # Other Table instances in this process still carry the old version and would be served the
    # cached old model; forget it now, and again after commit in case another thread rebuilt the
    # cache from the committed (old) metadata meanwhile.
    clear_model_cache()
    transaction.on_commit(clear_model_cache)


# -- categories and tables ---------------------------------------------------------------------


def create_category(actor: Actor, *, key: str, label: str, position: int | None = None) -> Category:
    _require_admin(actor)
    validate_key(key, what="category")
    if position is None:
        position = (Category.objects.aggregate(m=Max("position"))["m"] or 0) + 1
    return Category.objects.create(key=key, label=label, position=position)


def create_table(
    actor: Actor,
    *,
    key: str,
    label: str,
    category: Category | None = None,
    title_template: str = "",
    db_table: str | None = None,
    is_builtin: bool = False,
    position: int | None = None,
) -> Table:
    """Create a table: its metadata row and its SQL table with the system columns."""
    _require_admin(actor)
    validate_key(key, what="table")
    if Table.objects.filter(key=key).exists():
        raise SchemaError(
            _("Таблица с ключом «%(key)s» уже есть.") % {"key": key}, code="duplicate"
        )
    if position is None:
        position = (Table.objects.aggregate(m=Max("position"))["m"] or 0) + 1
    with transaction.atomic():
        table = Table(
            key=key,
            label=label,
            category=category,
            title_template=title_template,
            is_builtin=is_builtin,
            position=position,
            db_table=db_table or f"tmp_{key}",
        )
        table.save()
        if not db_table:
            table.db_table = f"t_{table.pk}"
            table.save(update_fields=["db_table"])
        models = build_registry(extra_tables=[table], around=table)
        schema.create_table(models[table.pk])
    return table


def delete_table(actor: Actor, table: Table) -> None:
    """Drop a user table with its data. Built-in tables and link targets are refused."""
    _require_admin(actor)
    if table.is_builtin:
        raise SchemaError(_("Встроенную таблицу удалить нельзя."), code="builtin")
    incoming = Field.objects.filter(link_table=table).exclude(table=table)
    if incoming.exists():
        names = ", ".join(sorted({f.table.label for f in incoming}))
        raise SchemaError(
            _("На таблицу ссылаются поля других таблиц: %(names)s.") % {"names": names},
            code="linked",
        )
    with transaction.atomic():
        model = model_for(table)
        schema.drop_table(model)
        # The table's own fields first: a link to itself (a «parent» field) would otherwise
        # protect the table from deletion through ``Field.link_table``.
        Field.objects.filter(table=table).delete()
        table.delete()


# -- fields --------------------------------------------------------------------------------------


def forget_choices(field: Field) -> None:
    """Drop what a Field instance remembers of its options (our cache and a prefetch), e.g. a
    Field handed out by the model cache, so the next read sees the database."""
    field._choices_cache = None  # type: ignore[attr-defined]
    prefetched = getattr(field, "_prefetched_objects_cache", None)
    if prefetched:
        prefetched.pop("choices", None)


def _set_choices(field: Field, choices: list[ChoiceSpec] | None) -> None:
    if choices is None:
        return
    keys = [c.key for c in choices]
    if len(set(keys)) != len(keys):
        raise SchemaError(_("Ключи вариантов повторяются."), code="duplicate_choice")
    for c in choices:
        validate_key(c.key, what="choice")
    existing = {c.key: c for c in field.choices.all()}
    removed = set(existing) - set(keys)
    if removed and field.pk and field.table_id:
        model = model_for(field.table)
        in_use = []
        for key in removed:
            lookup = (
                {f"{field.key}__contains": f",{key},"}
                if field.type == "multi_choice"
                else {field.key: key}
            )
            if model.objects.filter(**lookup).exists():
                in_use.append(existing[key].label)
        if in_use:
            raise SchemaError(
                _("Нельзя удалить варианты, которые заполнены в записях: %(names)s.")
                % {"names": ", ".join(in_use)},
                code="choice_in_use",
            )
        Choice.objects.filter(field=field, key__in=removed).delete()
    for position, spec in enumerate(choices):
        option = existing.get(spec.key) or Choice(field=field, key=spec.key)
        option.label = spec.label
        option.color = spec.color
        option.position = position
        option.system_only = spec.system_only
        option.save()
    forget_choices(field)


def add_field(
    actor: Actor,
    table: Table,
    *,
    key: str,
    label: str,
    type: str,
    options: dict[str, Any] | None = None,
    link_table: Table | None = None,
    choices: list[ChoiceSpec] | None = None,
    db_column: str | None = None,
    is_system: bool = False,
    position: int | None = None,
    **attributes: Any,
) -> Field:
    """Add a field and its column. ``attributes`` are :data:`PLAIN_ATTRIBUTES` and ``unique``."""
    _require_admin(actor)
    validate_key(key)
    if type not in field_types:
        raise SchemaError(_("Неизвестный тип поля «%(type)s».") % {"type": type}, code="bad_type")
    ftype = field_types.get(type)
    if ftype.key == "link" and link_table is None:
        raise SchemaError(_("Для связи нужно выбрать таблицу."), code="no_link_table")
    if Field.objects.filter(table=table, key=key).exists():
        raise SchemaError(
            _("Поле с ключом «%(key)s» уже есть в таблице.") % {"key": key}, code="duplicate"
        )
    if position is None:
        position = (Field.objects.filter(table=table).aggregate(m=Max("position"))["m"] or 0) + 1
    unknown = set(attributes) - set(PLAIN_ATTRIBUTES) - {"unique"}
    if unknown:
        raise TypeError(f"unknown field attributes: {sorted(unknown)}")
    with transaction.atomic():
        field = Field(
            table=table,
            key=key,
            label=label,
            type=type,
            options=options or {},
            link_table=link_table,
            is_system=is_system,
            position=position,
            db_column=db_column or f"tmp_{key}",
            **attributes,
        )
        field.save()
        if not db_column:
            field.db_column = f"f_{field.pk}"
            field.save(update_fields=["db_column"])
        _set_choices(field, choices)
        bump_version(table)
        models = build_registry(around=table)
        try:
            schema.add_column(models[table.pk], key)
        except IntegrityError:
            raise SchemaError(
                _("Нельзя сделать поле уникальным: значения повторяются."), code="not_unique"
            ) from None
        _notify(FieldChange(table, key, "add", None, type, values_changed=False))
    return field


def remove_field(actor: Actor, field: Field) -> None:
    """Drop a field and its column with its data. System fields are refused."""
    _require_admin(actor)
    if field.is_system:
        raise SchemaError(
            _("Поле «%(label)s» системное: его нельзя удалить.") % {"label": field.label},
            code="system_field",
        )
    table = field.table
    with transaction.atomic():
        model = model_for(table)
        schema.remove_column(model, field.key)
        field.delete()
        bump_version(table)
        _notify(FieldChange(table, field.key, "remove", field.type, None, values_changed=True))


def change_field(
    actor: Actor,
    field: Field,
    *,
    type: str | None = None,
    options: dict[str, Any] | None = None,
    unique: bool | None = None,
    choices: list[ChoiceSpec] | None = None,
    **attributes: Any,
) -> Field:
    """Change a field's settings; retypes convert the stored values or are refused as a whole.

    Label, help text, required, default, group and visibility change metadata only. Type,
    storage options (length, decimal places) and uniqueness change the column: values are read,
    converted by the registered converter and checked *before* anything changes; if one value
    does not convert, the change is refused with the rows that failed and nothing is written.
    """
    _require_admin(actor)
    unknown = set(attributes) - set(PLAIN_ATTRIBUTES)
    if unknown:
        raise TypeError(f"unknown field attributes: {sorted(unknown)}")
    table = field.table
    old = Field.objects.select_related("link_table", "table").get(pk=field.pk)
    new_type = type or old.type
    if new_type not in field_types:
        raise SchemaError(
            _("Неизвестный тип поля «%(type)s».") % {"type": new_type}, code="bad_type"
        )
    if new_type != old.type and old.is_system:
        raise SchemaError(
            _("Тип системного поля «%(label)s» менять нельзя.") % {"label": old.label},
            code="system_field",
        )
    if new_type == "link" and old.link_table_id is None:
        raise SchemaError(_("Для связи нужно выбрать таблицу."), code="no_link_table")
    old_model = model_for(table)  # before any change: the model as the SQL table is now
    with transaction.atomic():
        for name, value in attributes.items():
            setattr(field, name, value)
        field.type = new_type
        if new_type != "link":
            field.link_table = None  # a former link must not keep its target from deletion
        if options is not None:
            field.options = options
        if unique is not None:
            field.unique = unique
        field.save()
        _set_choices(field, choices)
        forget_choices(field)
        if new_type in ("choice", "multi_choice") and not field.choices.exists():
            _choices_from_values(old, old_model, field)
        new_models = build_registry(around=table)
        new_model = new_models[table.pk]
        old_mf = cast(models.Field, old_model._meta.get_field(old.key))
        new_mf = cast(models.Field, new_model._meta.get_field(field.key))
        storage_changed = (
            new_type != old.type
            or old_mf.deconstruct()[1:] != new_mf.deconstruct()[1:]
            or old_mf.unique != new_mf.unique
        )
        if storage_changed:
            _convert_column(old, field, old_model, new_model)
        bump_version(table)
        _notify(FieldChange(table, field.key, "change", old.type, new_type, storage_changed))
    return field


def _choices_from_values(old: Field, model: Any, new: Field) -> None:
    """Text → choice: the distinct values become the options, in order of first appearance.

    Values that differ only in case or «ё»/«е» become one option (the input matches either way);
    for a multi-choice, a value is split where people separate options («опт, розница»).
    """
    label_length = Choice._meta.get_field("label").max_length
    seen: dict[str, str] = {}
    for value in (
        model.objects.exclude(**{f"{old.key}__isnull": True})
        .values_list(old.key, flat=True)
        .order_by("id")
    ):
        shown = old.field_type.display(old, value)
        parts = SEPARATORS.split(shown) if new.type == "multi_choice" else [shown]
        for part in parts:
            label = " ".join(part.split())[:label_length]
            if label:
                seen.setdefault(fold(label), label)
    _set_choices(
        new, [ChoiceSpec(key=f"v{i + 1}", label=label) for i, label in enumerate(seen.values())]
    )


def _convert_column(old: Field, new: Field, old_model: Any, new_model: Any) -> None:
    converter = (
        (lambda o, n, v: n.field_type.clean(n, v))
        if old.type == new.type
        else (converter_for(old.type, new.type))
    )
    if converter is None:
        raise SchemaError(
            _("Тип «%(old)s» нельзя превратить в «%(new)s».")
            % {"old": old.field_type.label, "new": new.field_type.label},
            code="no_converter",
        )
    rows = list(
        old_model.objects.exclude(**{f"{old.key}__isnull": True}).values_list("id", old.key)
    )
    converted: list[tuple[int, Any]] = []
    failures: list[str] = []
    for pk, value in rows:
        try:
            converted.append((pk, converter(old, new, value)))
        except ValidationError as exc:
            failures.append(
                f"#{pk} «{old.field_type.display(old, value)}»: {' '.join(exc.messages)}"
            )
    if failures:
        raise SchemaError(
            ngettext(
                "Значение %(n)s записи не подходит для нового типа: %(examples)s",
                "Значения %(n)s записей не подходят для нового типа: %(examples)s",
                len(failures),
            )
            % {"n": len(failures), "examples": "; ".join(failures[:5])},
            code="conversion_failed",
        )
    if new.unique:
        values = [v for _pk, v in converted if v is not None]
        if len(values) != len(set(values)):
            raise SchemaError(
                _("Нельзя сделать поле уникальным: значения повторяются."), code="not_unique"
            )
    old_model.objects.update(**{old.key: None})
    schema.alter_column(old_model, old.key, new_model, new.key)
    objs = []
    for pk, value in converted:
        obj = new_model(pk=pk)
        setattr(obj, new_model._meta.get_field(new.key).attname, value)
        objs.append(obj)
    attname = new_model._meta.get_field(new.key).name
    new_model.objects.bulk_update(objs, [attname], batch_size=500)


def reorder_fields(actor: Actor, table: Table, keys: list[str]) -> None:
    _require_admin(actor)
    with transaction.atomic():
        for position, key in enumerate(keys):
            Field.objects.filter(table=table, key=key).update(position=position)
        bump_version(table)
