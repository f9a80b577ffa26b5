"""Keyset pagination: pages that cost the same on the first and on the last of a million rows.

``OFFSET`` makes the database walk every skipped row, so page 20,000 of a big table is slow. A
keyset page instead remembers the sort value and id of the row at its edge (the *cursor*) and asks
for rows after (or before) it, which an index answers directly. The order is always
``(column, id)`` so rows with equal values keep a stable order; empty values sort last in both
directions.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import F, Q, QuerySet

#: Above this many rows an unfiltered PostgreSQL count is taken from the planner's statistics.
ESTIMATE_ABOVE = 200_000


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


def _order(column: str, descending: bool, reverse: bool) -> list[Any]:
    desc = descending != reverse
    nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
    if column == "id":
        return ["-id" if desc else "id"]
    expr = F(column).desc(**nulls) if desc else F(column).asc(**nulls)
    return [expr, "-id" if desc else "id"]


def _after(column: str, descending: bool, value: Any, pk: int) -> Q:
    """Rows after (value, pk) in the forward order."""
    gt, pk_gt = ("lt", "lt") if descending else ("gt", "gt")
    if column == "id":
        return Q(**{f"id__{pk_gt}": pk})
    if value is None:
        return Q(**{f"{column}__isnull": True, f"id__{pk_gt}": pk})
    return (
        Q(**{f"{column}__{gt}": value})
        | Q(**{column: value, f"id__{pk_gt}": pk})
        | Q(**{f"{column}__isnull": True})
    )


def _before(column: str, descending: bool, value: Any, pk: int) -> Q:
    """Rows before (value, pk) in the forward order."""
    lt, pk_lt = ("gt", "gt") if descending else ("lt", "lt")
    if column == "id":
        return Q(**{f"id__{pk_lt}": pk})
    if value is None:
        return Q(**{f"{column}__isnull": False}) | Q(
            **{f"{column}__isnull": True, f"id__{pk_lt}": pk}
        )
    return Q(**{f"{column}__{lt}": value}) | Q(**{column: value, f"id__{pk_lt}": pk})


def keyset_page(
    qs: QuerySet,
    *,
    column: str,
    descending: bool,
    size: int,
    cursor: str | None = None,
    direction: str = "next",
) -> KeysetPage:
    """One page of ``qs`` ordered by ``(column, id)``.

    ``direction`` is ``"next"`` (rows after ``cursor``; the first page without one), ``"prev"``
    (rows before ``cursor``) or ``"last"``. ``column`` is a model attribute name (``manager_id``
    for relations).
    """
    decoded = decode_cursor(cursor) if cursor else None
    reverse = direction in ("prev", "last")
    page_qs = qs.order_by(*_order(column, descending, reverse))
    if decoded is not None and direction in ("next", "prev"):
        value, pk = decoded
        edge = _after if direction == "next" else _before
        page_qs = page_qs.filter(edge(column, descending, value, pk))
    rows = list(page_qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if reverse:
        rows.reverse()
    if direction == "next":
        has_next, has_prev = more, decoded is not None
    elif direction == "prev":
        has_next, has_prev = True, more
    else:  # last
        has_next, has_prev = False, more
    attname = column

    def cursor_of(row: Any) -> str:
        return encode_cursor(getattr(row, attname), row.pk)

    return KeysetPage(
        rows=rows,
        has_next=has_next,
        has_prev=has_prev,
        next_cursor=cursor_of(rows[-1]) if rows and has_next else None,
        prev_cursor=cursor_of(rows[0]) if rows and has_prev else None,
    )


def count_rows(qs: QuerySet, *, filtered: bool) -> tuple[int, bool]:
    """The number of rows and whether it is an estimate (big unfiltered PostgreSQL tables)."""
    if not filtered and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
                [qs.model._meta.db_table],
            )
            row = cursor.fetchone()
        if row and row[0] and row[0] > ESTIMATE_ABOVE:
            return int(row[0]), True
    return qs.count(), False
