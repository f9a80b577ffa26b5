"""Builders for tests: ``make_table`` creates a user table with fields (and rows) in one call."""

from __future__ import annotations

from typing import Any

from kartoteka.core.actor import Actor
from kartoteka.records.services import create_records
from kartoteka.tables import services
from kartoteka.tables.models import Table
from kartoteka.tables.services import ChoiceSpec

SYSTEM = Actor.system("tests")


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
