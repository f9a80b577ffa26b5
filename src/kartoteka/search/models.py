"""The search index: one row per record that has something to find.

``text`` is the normalised concatenation of the record's searchable values
(:func:`kartoteka.search.text.record_text`). The table is the same Django model on both databases;
what makes it fast differs and is created by the migration: a GIN ``gin_trgm_ops`` index on
PostgreSQL, an external-content FTS5 ``trigram`` table kept in step by triggers on SQLite (see
:mod:`kartoteka.search.backends` and ``docs/decisions/0002-search-index.md``).
"""

from __future__ import annotations

from django.db import models

from kartoteka.tables.models import Table


class SearchEntry(models.Model):
    """The searchable text of record ``record_id`` of ``table``.

    Written only by :mod:`kartoteka.search.services`, which the records service calls in the
    same transaction as every write; read only by :mod:`kartoteka.search.backends`.
    """

    # The unique constraint below starts with ``table``: it is the index the foreign key needs.
    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="+", db_index=False)
    record_id = models.BigIntegerField()
    text = models.TextField()

    class Meta:
        db_table = "search_entry"
        constraints = [
            models.UniqueConstraint(fields=["table", "record_id"], name="search_entry_record_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.table_id}#{self.record_id}"
