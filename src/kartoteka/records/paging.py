"""Keyset pagination: pages that cost the same on the first and on the last of a million rows.

``OFFSET`` makes the database walk every skipped row, so page 20,000 of a big table is slow. A
keyset page instead remembers the sort value and id of the row at its edge (the *cursor*) and asks
for rows after (or before) it, which an index answers directly. The order is always
``(column, id)`` so rows with equal values keep a stable order; empty values sort last in both
directions, read by a second index-friendly query (see :func:`_walk`).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

#: Above this many rows an unfiltered PostgreSQL count is taken from the planner's statistics.
ESTIMATE_ABOVE = 200_000
#: A filtered grid counts its rows up to this many, then says «more than».
COUNT_CAP = 10_000


@dataclass
class KeysetPage:
    rows: list[Any]
    has_next: bool
    has_prev: bool
    next_cursor: str | None
    prev_cursor: str | None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode_cursor(value: Any, pk: int) -> str:
    raw = json.dumps([_jsonable(value), pk], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, int] | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return value, int(pk)
    except (ValueError, TypeError):
        return None


def _order(column: str, desc: bool) -> list[str]:
    if column == "id":
        return ["-id" if desc else "id"]
    return [f"-{column}" if desc else column, "-id" if desc else "id"]


def _beyond(column: str, desc: bool, value: Any, pk: int) -> Q:
    """Rows that come after ``(value, pk)`` in the order ``(column desc?, id desc?)``."""
    op = "lt" if desc else "gt"
    if column == "id":
        return Q(**{f"id__{op}": pk})
    return Q(**{f"{column}__{op}": value}) | Q(**{column: value, f"id__{op}": pk})


def _walk(
    qs: QuerySet, column: str, desc: bool, start: tuple[Any, int] | None, limit: int
) -> list[Any]:
    """Up to ``limit`` rows in the order ``(column, id)`` (``desc`` flips both) with empty
    values at the end, starting after ``start``.

    Filled values and empty ones are read by separate queries — ``column IS NOT NULL ORDER BY
    column, id`` and ``column IS NULL ORDER BY id`` — because each of those is a plain index scan
    on SQLite and PostgreSQL, while one ``ORDER BY column NULLS LAST`` is not.
    """
    if column == "id":
        page = qs.order_by(*_order("id", desc))
        if start is not None:
            page = page.filter(_beyond("id", desc, None, start[1]))
        return list(page[:limit])
    rows: list[Any] = []
    in_filled = start is None or start[0] is not None
    if in_filled:
        filled = qs.filter(**{f"{column}__isnull": False}).order_by(*_order(column, desc))
        if start is not None:
            filled = filled.filter(_beyond(column, desc, start[0], start[1]))
        rows = list(filled[:limit])
    if len(rows) < limit:
        empty = qs.filter(**{f"{column}__isnull": True}).order_by(*_order("id", desc))
        if start is not None and start[0] is None:
            empty = empty.filter(_beyond("id", desc, None, start[1]))
        rows += list(empty[: limit - len(rows)])
    return rows


def _walk_back(
    qs: QuerySet, column: str, desc: bool, start: tuple[Any, int] | None, limit: int
) -> list[Any]:
    """Up to ``limit`` rows before ``start`` (from the end without it), nearest first."""
    if column == "id":
        page = qs.order_by(*_order("id", not desc))
        if start is not None:
            page = page.filter(_beyond("id", not desc, None, start[1]))
        return list(page[:limit])
    rows: list[Any] = []
    in_empty = start is None or start[0] is None
    if in_empty:
        empty = qs.filter(**{f"{column}__isnull": True}).order_by(*_order("id", not desc))
        if start is not None:
            empty = empty.filter(_beyond("id", not desc, None, start[1]))
        rows = list(empty[:limit])
    if len(rows) < limit:
        filled = qs.filter(**{f"{column}__isnull": False}).order_by(*_order(column, not desc))
        if start is not None and start[0] is not None:
            filled = filled.filter(_beyond(column, not desc, start[0], start[1]))
        rows += list(filled[: limit - len(rows)])
    return rows


def keyset_page(
    qs: QuerySet,
    *,
    column: str,
    descending: bool,
    size: int,
    cursor: str | None = None,
    direction: str = "next",
) -> KeysetPage:
    """One page of ``qs`` ordered by ``(column, id)``, empty values last.

    ``direction`` is ``"next"`` (rows after ``cursor``; the first page without one), ``"prev"``
    (rows before ``cursor``) or ``"last"``. ``column`` is a model attribute name (``manager_id``
    for relations).
    """
    decoded = decode_cursor(cursor) if cursor else None
    if direction == "next":
        rows = _walk(qs, column, descending, decoded, size + 1)
        more = len(rows) > size
        rows = rows[:size]
        has_next, has_prev = more, decoded is not None
    else:
        start = decoded if direction == "prev" else None
        rows = _walk_back(qs, column, descending, start, size + 1)
        more = len(rows) > size
        rows = rows[:size]
        rows.reverse()
        has_next, has_prev = direction == "prev", more

    def cursor_of(row: Any) -> str:
        return encode_cursor(getattr(row, column), row.pk)

    return KeysetPage(
        rows=rows,
        has_next=has_next,
        has_prev=has_prev,
        next_cursor=cursor_of(rows[-1]) if rows and has_next else None,
        prev_cursor=cursor_of(rows[0]) if rows and has_prev else None,
    )


def count_rows(qs: QuerySet, *, filtered: bool) -> tuple[int, str]:
    """How many rows ``qs`` has, and how exactly: ``"exact"``, ``"estimate"`` (the planner's
    statistics of a big unfiltered PostgreSQL table) or ``"at_least"``.

    A filtered count stops at :data:`COUNT_CAP` rows: counting every match of a broad filter over a
    million rows costs more than the page itself, and «more than 10 000» is what a person needs
    to know there. (Bulk actions count the exact rows they change on their confirmation page.)
    """
    if not filtered:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
                    [qs.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] and row[0] > ESTIMATE_ABOVE:
                return int(row[0]), "estimate"
        return qs.count(), "exact"
    capped = qs.order_by()[: COUNT_CAP + 1].count()
    if capped > COUNT_CAP:
        return COUNT_CAP, "at_least"
    return capped, "exact"
