"""Search: quick search in a table and global search across tables, on an index of its own.

- :mod:`~kartoteka.search.text` normalises values and queries the same way (case folded,
  «ё» = «е», phones as digits) and parses a query into terms;
- :mod:`~kartoteka.search.services` keeps the index current — the records service calls it in
  the transaction of every write, and the table engine's ``schema_listeners`` after field changes;
- :mod:`~kartoteka.search.backends` is the only module with database-specific SQL (PostgreSQL
  ``pg_trgm``, SQLite FTS5 ``trigram``);
- :mod:`~kartoteka.search.query` turns a query into a filter for
  :func:`kartoteka.records.selectors.list_records`, and :mod:`~kartoteka.search.selectors` runs
  the global search through the records selectors.

Why a separate index and not ``icontains`` on every column: see
``docs/decisions/0002-search-index.md``.
"""
