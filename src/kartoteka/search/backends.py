"""The only module with database-specific search SQL: how each database finds substrings fast.

Both databases store the same ``search_entry`` rows (:class:`~kartoteka.search.models.SearchEntry`)
and every needle is already normalised (:mod:`kartoteka.search.text`), so the question is only
which index answers "which rows contain these substrings":

- **PostgreSQL** — a GIN index with ``gin_trgm_ops`` (``pg_trgm``) on ``text``; it serves
  ``text LIKE '%needle%'`` directly, ``AND``/``OR`` through bitmap scans. Needles shorter than
  three characters give the index nothing to look up; the planner then reads the table's rows
  through the ``(table_id, record_id)`` index and filters them.
- **SQLite** — an FTS5 table ``search_fts`` with ``tokenize='trigram'`` whose content is
  ``search_entry`` (external content: the text is stored once) and which triggers keep in step
  with it. A quoted FTS5 string of three or more characters matches as a substring, so every
  such needle goes into one ``MATCH`` expression; shorter needles are checked with ``LIKE`` on
  the rows it leaves, or, when a word has nothing longer, on all the table's entries (a scan,
  correct because the text is already case folded). ``+table_id`` keeps the
  planner from walking every entry of the table instead of starting from the ``MATCH`` result —
  without it a rare word in a big table costs tens of milliseconds instead of one.

The DDL that creates these structures is in ``migrations/0001_initial.py`` (migrations are frozen
history and must not change when this module does). Writes need no database-specific code: the
service deletes ``SearchEntry`` rows with the ORM and inserts and updates them with
:func:`insert_entries` and :func:`update_entries` (plain SQL both databases take), and on SQLite
the triggers update the FTS index in the same transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models.expressions import RawSQL

from kartoteka.search.text import Term

#: The FTS5 trigram tokenizer (SQLite 3.34) finds substrings of at least this many characters.
FTS_MIN_LENGTH = 3

# Columns are qualified: these conditions run inside subqueries of queries on record tables.
_LIKE = "search_entry.\"text\" LIKE %s ESCAPE '\\'"
_MATCH = "search_entry.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH %s)"


def _like_pattern(needle: str) -> str:
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_string(needle: str) -> str:
    """An FTS5 string: whatever the user typed is matched literally, never as query syntax."""
    return '"' + needle.replace('"', '""') + '"'


def _fts_alternatives(alternatives: tuple[tuple[str, ...], ...]) -> str:
    return " OR ".join(
        "(" + " AND ".join(_fts_string(n) for n in needles) + ")" for needles in alternatives
    )


def _like_all(needles: tuple[str, ...], params: list[Any]) -> str:
    """``text`` contains every needle; appends the patterns to ``params``."""
    params.extend(_like_pattern(n) for n in needles)
    return "(" + " AND ".join([_LIKE] * len(needles)) + ")"


def _trigram_where(terms: list[Term]) -> tuple[list[str], list[Any]]:
    """WHERE parts for PostgreSQL: every needle a ``LIKE`` the trigram index serves."""
    parts: list[str] = []
    params: list[Any] = []
    for term in terms:
        parts.append("(" + " OR ".join(_like_all(n, params) for n in term.alternatives) + ")")
    return parts, params


def _fts_where(terms: list[Term]) -> tuple[list[str], list[Any], bool]:
    """WHERE parts for SQLite, and whether they start with a ``MATCH`` that every row passes.

    A term whose every alternative has a needle of three or more characters joins one ``MATCH``
    expression with those needles — a superset of its matches that the FTS index finds fast.
    Where an alternative also has shorter needles, the term is then checked exactly with ``LIKE``
    on the rows the ``MATCH`` left (cheap: a few rows, text already folded). Terms with an
    alternative of short needles only cannot use the index and are ``LIKE`` alone.
    """
    driving: list[str] = []
    checks: list[str] = []
    params: list[Any] = []
    for term in terms:
        longs = [
            tuple(n for n in needles if len(n) >= FTS_MIN_LENGTH) for needles in term.alternatives
        ]
        if all(longs):
            driving.append("(" + _fts_alternatives(tuple(longs)) + ")")
            if longs == list(term.alternatives):
                continue
        checks.append("(" + " OR ".join(_like_all(n, params) for n in term.alternatives) + ")")
    if driving:
        return [_MATCH, *checks], [" AND ".join(driving), *params], True
    return checks, params, False


def _where(terms: list[Term], table_id: int | None) -> tuple[str, list[Any]]:
    """The WHERE clause over ``search_entry`` of rows matching every term (in ``table_id``)."""
    if connection.vendor == "sqlite":
        parts, params, driven_by_match = _fts_where(terms)
        # ``+`` makes the column unusable for an index: start from the MATCH result instead.
        table_column = "+search_entry.table_id" if driven_by_match else "search_entry.table_id"
    else:
        parts, params = _trigram_where(terms)
        table_column = "search_entry.table_id"
    if table_id is not None:
        parts.insert(0, f"{table_column} = %s")
        params.insert(0, table_id)
    return " AND ".join(parts) or "1 = 1", params


def matching_record_ids(table_id: int, terms: list[Term], *, or_id: int | None = None) -> RawSQL:
    """A subquery of the ids of records of table ``table_id`` matching every term (and ``or_id``,
    when given); use it as ``filter(pk__in=…)`` so the database joins it, however many records
    match. The extra id is part of the subquery rather than an ``OR pk = …`` beside it, which
    would keep PostgreSQL from a semi-join."""
    where, params = _where(terms, table_id)
    sql = f"SELECT record_id FROM search_entry WHERE {where}"
    if or_id is not None:
        sql += " UNION ALL SELECT %s"
        params.append(or_id)
    return RawSQL(sql, params)


def tables_with_matches(terms: list[Term]) -> set[int]:
    """Ids of the tables with at least one record matching every term (in any state)."""
    where, params = _where(terms, None)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT table_id FROM search_entry WHERE {where}", params)
        return {row[0] for row in cursor.fetchall()}


def insert_entries(entries: list[tuple[int, int, str]]) -> None:
    """Insert ``(table id, record id, text)`` index rows in one statement.

    ``executemany`` rather than ``bulk_create``: no model instances and no ``RETURNING`` of ids
    nobody reads, and one statement for the batch on SQLite too, where ``bulk_create`` splits at
    999 parameters. The SQL is the same on both databases.
    """
    if not entries:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            'INSERT INTO search_entry (table_id, record_id, "text") VALUES (%s, %s, %s)', entries
        )


def update_entries(entries: list[tuple[int, int, str]]) -> None:
    """Set the text of existing ``(table id, record id, text)`` index rows in one statement.

    An ``UPDATE`` in place rather than a delete and an insert: the row keeps its id, and on
    SQLite the ``search_entry_au`` trigger of ``migrations/0001_initial.py`` moves the FTS5
    index from the old text to the new one — the work of the delete and insert triggers
    together, without rewriting the row and its unique index twice.
    """
    if not entries:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            'UPDATE search_entry SET "text" = %s WHERE table_id = %s AND record_id = %s',
            [(text, table_id, record_id) for table_id, record_id, text in entries],
        )
