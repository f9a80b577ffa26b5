"""Built-in tables declared in Python and synced into the same metadata rows as user tables.

The CRM layer declares its tables with :class:`TableSpec`/:class:`FieldSpec`;
:func:`sync_builtin_tables` creates what is missing — categories, tables, fields, choice options —
and never removes or renames what an administrator changed. Running it twice changes nothing.
Built-in tables get readable SQL names (``kt_<key>``) and their fields readable columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from kartoteka.core.actor import Actor
from kartoteka.tables import services
from kartoteka.tables.fieldtypes import field_types
from kartoteka.tables.models import Category, Choice, Field, Table
from kartoteka.tables.services import ChoiceSpec


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    type: str
    required: bool = False
    unique: bool = False
    read_only: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    link: str | None = None  # key of the target table
    choices: tuple[ChoiceSpec, ...] = ()
    default: Any = None
    help_text: str = ""
    group: str = ""
    show_in_grid: bool = True
    show_in_add: bool = True
    show_in_edit: bool = True


@dataclass(frozen=True)
class TableSpec:
    key: str
    label: str
    category: str
    fields: tuple[FieldSpec, ...]
    title_template: str = ""


@dataclass(frozen=True)
class CategorySpec:
    key: str
    label: str


def sync_builtin_tables(categories: list[CategorySpec], tables: list[TableSpec]) -> list[str]:
    """Create the missing parts of the declared tables; returns what was created, for the log."""
    actor = Actor.system("sync built-in tables")
    created: list[str] = []
    with transaction.atomic():
        by_key: dict[str, Category] = {}
        for position, cat in enumerate(categories):
            obj, made = Category.objects.get_or_create(
                key=cat.key, defaults={"label": cat.label, "position": position}
            )
            by_key[cat.key] = obj
            if made:
                created.append(f"category {cat.key}")
        tables_by_key: dict[str, Table] = {}
        for position, spec in enumerate(tables):
            table = Table.objects.filter(key=spec.key).first()
            if table is None:
                table = services.create_table(
                    actor,
                    key=spec.key,
                    label=spec.label,
                    category=by_key[spec.category],
                    title_template=spec.title_template,
                    db_table=f"kt_{spec.key}",
                    is_builtin=True,
                    position=position,
                )
                created.append(f"table {spec.key}")
            tables_by_key[spec.key] = table
        for spec in tables:
            table = tables_by_key[spec.key]
            existing = {f.key: f for f in Field.objects.filter(table=table)}
            for position, fs in enumerate(spec.fields):
                current = existing.get(fs.key)
                if current is None:
                    _add(actor, table, fs, position, tables_by_key)
                    created.append(f"field {spec.key}.{fs.key}")
                elif fs.choices:
                    created.extend(_add_missing_choices(current, fs))
    return created


def _add(
    actor: Actor, table: Table, fs: FieldSpec, position: int, tables: dict[str, Table]
) -> None:
    ftype = field_types.get(fs.type)
    services.add_field(
        actor,
        table,
        key=fs.key,
        label=fs.label,
        type=fs.type,
        options=dict(fs.options),
        link_table=tables[fs.link] if fs.link else None,
        choices=list(fs.choices) or None,
        db_column=ftype.default_db_column(fs.key),
        is_system=True,
        position=position,
        required=fs.required,
        unique=fs.unique,
        read_only=fs.read_only,
        default=fs.default,
        help_text=fs.help_text,
        group=fs.group,
        show_in_grid=fs.show_in_grid,
        show_in_add=fs.show_in_add,
        show_in_edit=fs.show_in_edit,
    )


def _add_missing_choices(current: Field, fs: FieldSpec) -> list[str]:
    have = set(current.choices.values_list("key", flat=True))
    made = []
    last = current.choices.count()
    for spec in fs.choices:
        if spec.key not in have:
            Choice.objects.create(
                field=current,
                key=spec.key,
                label=spec.label,
                color=spec.color,
                position=last,
                system_only=spec.system_only,
            )
            last += 1
            made.append(f"choice {current.table.key}.{current.key}.{spec.key}")
    if made:
        services.bump_version(current.table)
    return made
