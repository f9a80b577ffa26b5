"""Global search: the records of every table the actor may read that match a query.

Reads go through :mod:`kartoteka.records.selectors` (``list_tables`` and ``base_queryset``), so
access rights, when they come, apply here without a change. One query on the index finds the
tables with any match; only those tables are then counted and listed (two queries each).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kartoteka.core.actor import Actor
from kartoteka.records.selectors import base_queryset, list_tables, relation_fields, search_q
from kartoteka.search import backends
from kartoteka.search.text import parse_query
from kartoteka.tables.models import Table

#: Records shown per table; the rest are a link to the table's grid away.
PER_TABLE = 10


@dataclass(frozen=True)
class TableMatches:
    """The matching active records of one table: how many, and the newest ``records``."""

    table: Table
    total: int
    records: list[Any]

    @property
    def more(self) -> bool:
        return self.total > len(self.records)


def search_everywhere(actor: Actor, text: str, *, per_table: int = PER_TABLE) -> list[TableMatches]:
    """Active records matching ``text`` in every table the actor may read, table by table in
    menu order; tables without matches are left out. A number in the query is not read as a
    record id here (see :func:`~kartoteka.search.query.search_filter`)."""
    terms = parse_query(text)
    if not terms:
        return []
    candidates = backends.tables_with_matches(terms)
    results = []
    for table in list_tables(actor):
        if table.pk not in candidates:
            continue
        qs = base_queryset(actor, table).filter(search_q(actor, table, text, by_id=False))
        total = qs.count()
        if not total:
            continue
        records = list(qs.select_related(*relation_fields(table)).order_by("-id")[:per_table])
        results.append(TableMatches(table, total, records))
    return results
