"""Keeping the search index current. Nothing else writes :class:`SearchEntry` rows.

- :func:`index_records` and :func:`remove_records` are called by
  :mod:`kartoteka.records.services` inside the transaction of every write, so the index commits
  or rolls back with the records. They are batch-first like the records service: a few
  statements per batch of 500, never a query per record. A created record gets one bulk
  ``INSERT``; an updated one has its stored text compared with its new one, and only rows that
  differ are updated in place (or inserted, or deleted when nothing is left to find); an update
  that touches no searchable field needs nothing at all.
- :func:`reindex_after_field_change` is a :data:`~kartoteka.tables.services.schema_listeners`
  entry: removing a searchable field, or retyping a field to or from a searchable type, rewrites
  the table's index in the schema change's transaction. (A new field's column is empty, so adding
  one changes nothing until records are updated — which the records service indexes.)
- :func:`reindex` rebuilds the index of some or all tables (``kartoteka reindex``);
  :func:`reindex_missing` does it for tables that have records but no index (``kartoteka init``
  after an upgrade from a version without search).

The index covers records in every state: the state tabs filter records, not the index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import NotFound, PermissionDenied
from kartoteka.search import backends
from kartoteka.search.models import SearchEntry
from kartoteka.search.text import index_text
from kartoteka.tables.fieldtypes import field_types
from kartoteka.tables.modelfactory import fields_of, model_for
from kartoteka.tables.models import Field, Table
from kartoteka.tables.services import FieldChange, schema_listeners

BATCH = 500
#: Records read per query when a whole table is reindexed.
REINDEX_CHUNK = 5000


def searchable_fields(table: Table) -> list[Field]:
    """The fields of ``table`` whose values are indexed (no query when the model is cached)."""
    return [f for f in fields_of(table) if f.field_type.searchable]


def _insert(table: Table, fields: Sequence[Field], rows: Iterable[tuple[Any, ...]]) -> int:
    """Insert the index rows of ``(record id, value, value, …)`` tuples in one statement;
    records with nothing to find get no row. Returns how many rows were written."""
    entries = []
    for pk, *values in rows:
        text = index_text(fields, values)
        if text:
            entries.append((table.pk, pk, text))
    backends.insert_entries(entries)
    return len(entries)


def index_records(
    table: Table,
    records: Sequence[Any],
    *,
    created: bool = False,
    fields: Sequence[Field] | None = None,
) -> None:
    """Write the index rows of ``records`` (model instances holding their current values).

    ``created``: the records are new and have no index rows yet, so none are deleted.
    """
    if not records:
        return
    if fields is None:
        fields = searchable_fields(table)
    for start in range(0, len(records), BATCH):
        chunk = records[start : start + BATCH]
        if created:
            if fields:
                _insert(
                    table, fields, ((r.pk, *(getattr(r, f.key) for f in fields)) for r in chunk)
                )
        else:
            _reindex_chunk(table, fields, chunk)


def _reindex_chunk(table: Table, fields: Sequence[Field], records: Sequence[Any]) -> None:
    """Bring the index rows of existing ``records`` in line with their values.

    Only what differs is written: an unchanged text is left alone, a changed one is updated in
    place, a record with nothing left to find loses its row. On SQLite every index row written
    costs the FTS5 trigram index far more than the row itself (the triggers tokenize the old
    text out and the new one in), so rewriting every record of an update, as a delete and an
    insert, was most of an import's update time.
    """
    texts = {
        r.pk: index_text(fields, [getattr(r, f.key) for f in fields]) if fields else ""
        for r in records
    }
    stored = dict(
        SearchEntry.objects.filter(table_id=table.pk, record_id__in=list(texts)).values_list(
            "record_id", "text"
        )
    )
    gone = [pk for pk, text in texts.items() if not text and pk in stored]
    if gone:
        SearchEntry.objects.filter(table_id=table.pk, record_id__in=gone).delete()
    backends.update_entries(
        [
            (table.pk, pk, text)
            for pk, text in texts.items()
            if text and pk in stored and stored[pk] != text
        ]
    )
    backends.insert_entries(
        [(table.pk, pk, text) for pk, text in texts.items() if text and pk not in stored]
    )


def remove_records(table: Table, ids: Sequence[int]) -> None:
    """Drop the index rows of records deleted for good."""
    for start in range(0, len(ids), BATCH):
        SearchEntry.objects.filter(
            table_id=table.pk, record_id__in=list(ids[start : start + BATCH])
        ).delete()


def reindex_table(table: Table) -> int:
    """Rebuild the index of one table from its records; returns how many rows it now has.

    Runs in the caller's transaction (or its own); reads the records in id order, a chunk per
    query, so a table of a million records is never held in memory.
    """
    with transaction.atomic():
        SearchEntry.objects.filter(table_id=table.pk).delete()
        fields = searchable_fields(table)
        if not fields:
            return 0
        model = model_for(table)
        columns = [f.key for f in fields]
        written = 0
        last = 0
        while True:
            rows = list(
                model.objects.filter(pk__gt=last)
                .order_by("pk")
                .values_list("pk", *columns)[:REINDEX_CHUNK]
            )
            if not rows:
                return written
            written += _insert(table, fields, rows)
            last = rows[-1][0]


def reindex(actor: Actor, table_keys: Iterable[str] | None = None) -> dict[str, int]:
    """Rebuild the index of the tables ``table_keys`` (all tables when ``None``).

    Administrators only. Returns the number of index rows per table key. Each table is rebuilt in
    its own transaction.
    """
    if not actor.is_admin:
        raise PermissionDenied(_("Перестраивать поисковый индекс может только администратор."))
    if table_keys is None:
        tables = list(Table.objects.order_by("id"))
    else:
        keys = list(table_keys)
        found = {t.key: t for t in Table.objects.filter(key__in=keys)}
        missing = [k for k in keys if k not in found]
        if missing:
            raise NotFound(_("Таблица «%(key)s» не найдена.") % {"key": missing[0]})
        tables = [found[k] for k in keys]
    return {table.key: reindex_table(table) for table in tables}


def reindex_missing() -> list[str]:
    """Index the tables that have records and searchable fields but no index rows at all; the
    keys of the tables indexed. Two cheap queries per table when there is nothing to do."""
    done = []
    for table in Table.objects.order_by("id"):
        if not searchable_fields(table):
            continue
        if SearchEntry.objects.filter(table_id=table.pk).exists():
            continue
        if not model_for(table).objects.exists():
            continue
        if reindex_table(table):
            done.append(table.key)
    return done


def _searchable_type(key: str | None) -> bool:
    return key is not None and key in field_types and field_types.get(key).searchable


def reindex_after_field_change(change: FieldChange) -> None:
    """Schema listener: rewrite a table's index when searchable values may have changed."""
    if not change.values_changed:
        return
    if _searchable_type(change.old_type) or _searchable_type(change.new_type):
        reindex_table(change.table)


def register_schema_listener() -> None:
    schema_listeners.register("search", reindex_after_field_change)
