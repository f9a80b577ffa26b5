"""The only module that changes SQL schema: every DDL statement of the project starts here.

All changes go through Django's schema editor, so SQLite and PostgreSQL get correct DDL each, and
they run in the caller's transaction (both databases do transactional DDL), together with the
metadata change that motivated them: a failure rolls back both.

SQLite: Django's SQLite schema editor refuses to start while foreign-key checks are on, and
SQLite cannot switch them off inside a transaction. Our dynamic tables carry no database-level
foreign keys (see :mod:`kartoteka.tables.fieldtypes.link`) and no table references them, so the
table remake that SQLite uses for column changes is safe with checks on. :class:`_SQLiteEditor`
therefore tries to disable checks (which works outside a transaction, as Django's own migrations
do) and proceeds either way; its exit still runs ``PRAGMA foreign_key_check``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from kartoteka.tables.models import Field, Table


def _sqlite_editor_class() -> type[BaseDatabaseSchemaEditor]:
    from django.db.backends.sqlite3.schema import DatabaseSchemaEditor

    class _SQLiteEditor(DatabaseSchemaEditor):
        def __enter__(self) -> Any:
            self.connection.disable_constraint_checking()
            return BaseDatabaseSchemaEditor.__enter__(self)

    return _SQLiteEditor


@contextmanager
def _editor() -> Iterator[BaseDatabaseSchemaEditor]:
    if connection.vendor == "sqlite":
        with _sqlite_editor_class()(connection, atomic=False) as editor:
            yield editor
    else:
        with connection.schema_editor(atomic=False) as editor:
            yield editor


def create_table(model: Any) -> None:
    """Create the SQL table of a freshly built model (system columns and fields)."""
    with _editor() as editor:
        editor.create_model(model)


def drop_table(model: Any) -> None:
    with _editor() as editor:
        editor.delete_model(model)


def add_column(model: Any, key: str) -> None:
    """Add the column of field ``key``; ``model`` is the model *with* the field."""
    with _editor() as editor:
        editor.add_field(model, model._meta.get_field(key))


def remove_column(model: Any, key: str) -> None:
    """Drop the column of field ``key``; ``model`` is the model *with* the field."""
    with _editor() as editor:
        editor.remove_field(model, model._meta.get_field(key))


def alter_column(old_model: Any, old_key: str, new_model: Any, new_key: str) -> None:
    """Change a column (type, uniqueness, name) from the old model's field to the new one's."""
    with _editor() as editor:
        editor.alter_field(
            old_model, old_model._meta.get_field(old_key), new_model._meta.get_field(new_key)
        )


def table_exists(db_table: str) -> bool:
    with connection.cursor() as cursor:
        return db_table in connection.introspection.table_names(cursor)


def column_names(db_table: str) -> list[str]:
    """Column names of a table as the database reports them (used by checks and tests)."""
    with connection.cursor() as cursor:
        return [c.name for c in connection.introspection.get_table_description(cursor, db_table)]


def unique_columns(db_table: str) -> set[str]:
    """Columns with a single-column unique constraint or index."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, db_table)
    return {
        c["columns"][0]
        for c in constraints.values()
        if c.get("unique") and not c.get("primary_key") and len(c["columns"]) == 1
    }


__all__ = [
    "Field",
    "Table",
    "add_column",
    "alter_column",
    "column_names",
    "create_table",
    "drop_table",
    "remove_column",
    "table_exists",
    "unique_columns",
]
