"""SQL building blocks the reports share.

Reports aggregate in the database and bring back only aggregates. Their row sources are always
querysets from :func:`kartoteka.records.selectors.base_queryset` — the one read path, where access
rights will plug in — compiled to SQL and used as derived tables of a hand-written aggregate
query. That keeps the aggregate readable (a report's semantics *is* its SQL) while every row it
reads has passed the selector.

Only SQLite and PostgreSQL are supported, like everywhere in Картотека; the few expressions that
differ between them are here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import NotSupportedError, connection, transaction
from django.db.models import Case, DateField, Func, IntegerField, QuerySet, Value, When


def compile_queryset(qs: QuerySet) -> tuple[str, list[Any]]:
    """The SQL and parameters of a queryset, for use as a derived table."""
    sql, params = qs.query.get_compiler(using=qs.db).as_sql()
    return sql, list(params)


def fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with analytic_session(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@contextmanager
def analytic_session() -> Iterator[None]:
    """A transaction tuned for one big aggregate query.

    On PostgreSQL it turns JIT compilation off for the transaction (``SET LOCAL``): a report's
    statement is expression-heavy and crosses the JIT cost threshold on big tables, and compiling
    its ~80 expressions takes longer (≈150 ms) than it saves. Nothing else changes.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        yield


def stage_index(column: str, keys: Sequence[str]) -> Case:
    """``CASE column WHEN 'cold' THEN 0 WHEN 'interested' THEN 1 … END``; NULL for anything else
    (an empty value, «Отказ», a key no longer among the options)."""
    return Case(
        *[When(**{column: key}, then=Value(index)) for index, key in enumerate(keys)],
        default=Value(None),
        output_field=IntegerField(),
    )


def day_param(day: dt.date) -> Any:
    """A date as the database driver wants it (ISO text on SQLite, a date on PostgreSQL)."""
    return connection.ops.adapt_datefield_value(day)


def days_between(later: str, earlier: str) -> str:
    """SQL for the whole days from ``earlier`` to ``later`` (two date expressions)."""
    if connection.vendor == "postgresql":
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


class WithoutIndex(Func):
    """The column itself, written so that SQLite will not read it through its index
    (``+"date"``: SQLite's documented way to disqualify an index); plain elsewhere.

    For a condition that keeps most of a big table, a plain scan is several times faster than
    an index walk with a row lookup per entry, and SQLite, having no histograms, cannot tell.
    """

    template = "%(expressions)s"
    arity = 1

    def as_sqlite(self, compiler: Any, conn: Any, **extra: Any) -> tuple[str, list[Any]]:
        return super().as_sql(compiler, conn, template="+%(expressions)s", **extra)


class LocalDate(Func):
    """The local calendar day of a UTC timestamp column, in ``settings.TIME_ZONE``.

    PostgreSQL converts exactly (``AT TIME ZONE``). SQLite has no time zone database, and
    Django's own ``TruncDate`` calls a Python function for every row there; instead the UTC
    offsets in force between ``start`` and ``end`` are worked out here and applied with a
    ``CASE`` over the transition instants — exact for every value in that range, a plain
    ``date(col, '+180 minutes')`` for Moscow. Values outside the range get the nearest offset.
    """

    output_field = DateField()
    arity = 1

    def __init__(self, expression: Any, *, start: dt.datetime, end: dt.datetime) -> None:
        super().__init__(expression)
        self.start = start
        self.end = end

    def as_postgresql(self, compiler: Any, conn: Any, **extra: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(({sql}) AT TIME ZONE %s)::date", [*params, settings.TIME_ZONE]

    def as_sqlite(self, compiler: Any, conn: Any, **extra: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.source_expressions[0])
        spans = utc_offsets(self.start, self.end)
        if len(spans) == 1:
            return f"date({sql}, %s)", [*params, _modifier(spans[0][1])]
        whens, when_params = [], []
        for until, minutes in spans[:-1]:
            whens.append(f"WHEN {sql} < %s THEN %s")
            when_params += [*params, conn.ops.adapt_datetimefield_value(until), _modifier(minutes)]
        case = f"CASE {' '.join(whens)} ELSE %s END"
        return f"date({sql}, {case})", [*params, *when_params, _modifier(spans[-1][1])]

    def as_sql(self, compiler: Any, conn: Any, **extra: Any) -> tuple[str, list[Any]]:
        # Kartoteka supports SQLite and PostgreSQL only (see the README).
        raise NotSupportedError(f"LocalDate supports SQLite and PostgreSQL, not {conn.vendor}")


def _modifier(minutes: int) -> str:
    return f"{minutes:+d} minutes"


def utc_offsets(start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime | None, int]]:
    """The UTC offsets (in minutes) of ``settings.TIME_ZONE`` between two instants:
    ``[(until, minutes), …, (None, minutes)]`` — each offset holds until the next transition.

    Walks day by day and narrows a change down to the second by bisection: a few hundred steps
    for a year, whatever the zone.
    """
    from django.utils import timezone

    zone = timezone.get_default_timezone()

    def offset(moment: dt.datetime) -> int:
        delta = moment.astimezone(zone).utcoffset() or dt.timedelta(0)
        return int(delta.total_seconds() // 60)

    spans: list[tuple[dt.datetime | None, int]] = []
    current = start.astimezone(dt.UTC)
    last = end.astimezone(dt.UTC)
    minutes = offset(current)
    while current < last:
        step = min(current + dt.timedelta(days=1), last)
        if offset(step) != minutes:
            low, high = current, step
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                if offset(middle) == minutes:
                    low = middle
                else:
                    high = middle
            spans.append((high, minutes))
            minutes = offset(high)
            current = high
        else:
            current = step
    spans.append((None, minutes))
    return spans
