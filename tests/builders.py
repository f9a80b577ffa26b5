"""Builders for tests: ``make_table`` creates a user table with fields (and rows) in one call."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from kartoteka.core.actor import Actor
from kartoteka.records.services import create_records
from kartoteka.tables import services
from kartoteka.tables.models import Table
from kartoteka.tables.services import ChoiceSpec

SYSTEM = Actor.system("tests")

T = TypeVar("T")


def built_for_module(django_db_blocker: Any, build: Callable[[], T]) -> Iterator[T]:
    """Data that a module's many tests only read, built once: ``yield from`` it in a
    module-scoped fixture (``django_db_setup`` and ``django_db_blocker`` among its arguments).

    ``build`` runs in a transaction that stays open while the module's tests run; each test's
    own transaction (``db``) nests in it as a savepoint and rolls back to the data as built, and
    the data is rolled back after the module's last test. Python objects are shared by the
    tests: a test that changes one must get its own copy (read it again)."""
    from django.db import transaction

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = build()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    try:
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def make_table(
    fields: list[dict[str, Any]],
    rows: list[dict[str, Any]] | None = None,
    *,
    key: str = "things",
    label: str = "Вещи",
) -> Table:
    """Create a table; each field is the keyword arguments of ``add_field`` (``choices`` may be a
    list of ``(key, label)`` pairs)."""
    table = services.create_table(SYSTEM, key=key, label=label)
    for spec in fields:
        spec = dict(spec)
        if "choices" in spec:
            spec["choices"] = [ChoiceSpec(k, v) for k, v in spec["choices"]]
        services.add_field(SYSTEM, table, **spec)
    table.refresh_from_db()
    if rows:
        create_records(SYSTEM, table, rows)
    return table
