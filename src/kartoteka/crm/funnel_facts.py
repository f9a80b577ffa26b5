"""Keeping the stage-entered facts (:class:`~kartoteka.crm.models.FunnelFact`) true.

The facts of a counterparty are a function of its own state — manager, creation day, current
status, trash — and of its done, active work rows that carry a status. Whenever any of those
change, :func:`refresh` deletes the counterparty's facts and writes them again from scratch, in
the caller's transaction; the rules call it for exactly the counterparties a write touched:

- :class:`~kartoteka.crm.rules.ClientWorkRules` — a work row created, edited, completed,
  archived, trashed, restored or purged (one call per batch: bulk edits and imports included);
- :class:`~kartoteka.crm.rules.CounterpartyRules` — a counterparty created, its manager or
  status changed, trashed, restored or purged.

:func:`rebuild` writes every fact again (``kartoteka rebuild-funnel``, and ``kartoteka init``
when the facts are missing or were written for another order of stages).

What a fact means — which rows enter which stage — is the report's definition (SPEC §5, the
module docs of :mod:`kartoteka.reports.funnel`); :func:`facts_of` is its one implementation on
this side, and the tests hold the report computed from facts equal to the report computed from
the work log directly.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from kartoteka.crm.models import FunnelFact, FunnelFactsState, FunnelTally
from kartoteka.tables.modelfactory import STATE_ACTIVE, STATE_DELETED, model_for
from kartoteka.tables.models import Table

ENTERED = 0
REFUSED_AT = 1
REFUSED = "refused"
#: Counterparties refreshed per statement: keeps ``IN (…)`` lists within every backend's limits.
CHUNK = 2000
#: Counterparties read per step of a rebuild (an id range).
REBUILD_STEP = 20_000

COLUMNS = (
    "counterparty_id",
    "manager_id",
    "created_day",
    "kind",
    "stage",
    "day",
    "prev_day",
    "to_next",
    "next_before",
    "furthest",
)

#: The sentinels of :class:`~kartoteka.crm.models.FunnelTally` for «no value».
NO_DAY = dt.date(1, 1, 1)
NO_NUMBER = -1
NO_MANAGER = 0
ALL_MANAGERS = -1
TALLY_COLUMNS = (
    "basis",
    "day",
    "kind",
    "stage",
    "manager_id",
    "furthest",
    "prev_day",
    "next_before",
    "to_next",
)

Fact = tuple[
    int, int | None, dt.date, int, int, dt.date, dt.date | None, int | None, Any, int | None
]


def stage_keys() -> list[str]:
    """The stage keys in order, «Отказ» excluded (the status options of «Контрагенты»)."""
    from kartoteka.crm.rules import stages

    return stages()


#: The layout of the facts and the tally; a new one makes ``kartoteka init`` rebuild them.
FORMAT = 2


def signature(keys: list[str]) -> str:
    """What :class:`~kartoteka.crm.models.FunnelFactsState` records: the layout and stages."""
    return f"{FORMAT}:{','.join(keys)}"


def facts_current(keys: list[str] | None = None) -> bool:
    """Whether the facts were written for the stages as they now stand."""
    keys = stage_keys() if keys is None else keys
    state = FunnelFactsState.objects.first()
    return state is not None and state.stages == signature(keys)


def refresh(counterparty_ids: Iterable[int | None]) -> None:
    """Write the facts of these counterparties again (in the caller's transaction).

    Does nothing while the facts are out of date as a whole (the stages changed): the next
    :func:`rebuild` writes everyone's.
    """
    ids = sorted({int(i) for i in counterparty_ids if i})
    if not ids:
        return
    keys = stage_keys()
    if not _state_for_write(keys):
        return
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        old = FunnelFact.objects.filter(counterparty_id__in=chunk)
        delta = tallies(old.values_list(*COLUMNS))
        old.delete()
        new = list(facts_of(keys, Q(pk__in=chunk), Q(counterparty_id__in=chunk)))
        _insert(new)
        delta.subtract(tallies(new))
        _add_to_tally({key: -n for key, n in delta.items() if n})


def rebuild() -> int:
    """Write every fact again from the counterparties and the work log; returns how many.

    One transaction: the funnel and writers of work rows wait for it (the facts table is
    emptied, the state row locked) rather than read or refresh facts it is about to replace.
    """
    keys = stage_keys()
    counterparties = model_for(Table.objects.get(key="counterparties"))
    written = 0
    with transaction.atomic():
        state = FunnelFactsState.objects.select_for_update().first()
        if state is None:
            state = FunnelFactsState.objects.create(stages=signature(keys))
        else:
            state.stages = signature(keys)
            state.save(update_fields=["stages"])
        _clear()
        total: Counter[tuple[Any, ...]] = Counter()
        low = counterparties.objects.order_by("pk").values_list("pk", flat=True).first()
        high = counterparties.objects.order_by("-pk").values_list("pk", flat=True).first()
        if low is None or high is None:
            return 0
        for start in range(low, high + 1, REBUILD_STEP):
            end = start + REBUILD_STEP
            facts = list(
                facts_of(
                    keys,
                    Q(pk__gte=start, pk__lt=end),
                    Q(counterparty_id__gte=start, counterparty_id__lt=end),
                )
            )
            written += _insert(facts)
            total.update(tallies(facts))
        _insert_tally(total)
        _analyze()
    return written


def _analyze() -> None:
    """Fresh planner statistics for the rewritten tables: without them PostgreSQL guesses a
    handful of rows and sorts the year's tally on disk instead of hashing it."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {FunnelFact._meta.db_table}, {FunnelTally._meta.db_table}")
        else:
            cursor.execute(f"ANALYZE {FunnelTally._meta.db_table}")


def ensure_current() -> int | None:
    """Rebuild the facts when they are missing or out of date; the number written, or ``None``
    when they were current."""
    if facts_current():
        return None
    return rebuild()


def facts_of(keys: list[str], counterparties: Q, work_rows: Q) -> Iterator[Fact]:
    """The facts of the counterparties ``counterparties`` selects, from their work rows
    (``work_rows`` selects the rows of the same counterparties)."""
    position = {key: index for index, key in enumerate(keys)}
    n = len(keys)
    cp_model = model_for(Table.objects.get(key="counterparties"))
    work_model = model_for(Table.objects.get(key="client_work"))
    people = (
        cp_model.objects.filter(counterparties)
        .exclude(record_state=STATE_DELETED)
        .order_by("pk")
        .values_list("pk", "manager", "created_at", "status")
    )
    rows = (
        work_model.objects.filter(work_rows)
        .filter(done=True, record_state=STATE_ACTIVE, status__isnull=False)
        .order_by()
        .values_list("counterparty_id", "date", "status", "status_before")
    )
    by_counterparty: dict[int, list[tuple[dt.date, str, str | None]]] = defaultdict(list)
    for parent, day, status, before in rows.iterator(chunk_size=10_000):
        by_counterparty[parent].append((day, status, before))
    for pk, manager, created_at, status in people.iterator(chunk_size=10_000):
        yield from _facts_of_one(
            pk,
            manager,
            timezone.localtime(created_at).date(),
            status,
            by_counterparty.get(pk, []),
            position,
            n,
        )


def _facts_of_one(
    pk: int,
    manager: int | None,
    created: dt.date,
    status: str | None,
    rows: list[tuple[dt.date, str, str | None]],
    position: dict[str, int],
    n: int,
) -> Iterator[Fact]:
    entered: dict[int, set[dt.date]] = defaultdict(set)
    refused: dict[int, set[dt.date]] = defaultdict(set)
    furthest = position.get(status or "", 0)
    for day, result, before in rows:
        if result in position and result != (before or ""):
            # A move: enters the stages above «Статус до» up to the result (only the result
            # when «Статус до» is empty or not a stage).
            high = position[result]
            low = position.get(before or "", high - 1)
            furthest = max(furthest, high)
            for stage in range(max(low + 1, 1), high + 1):
                entered[stage].add(day)
        elif result == REFUSED and before in position:
            low = position[before]
            furthest = max(furthest, low)
            refused[low].add(day)
    following = sorted(entered[1]) if n > 1 else []
    to_next, before_next = _next(created, following)
    yield (pk, manager, created, ENTERED, 0, created, None, to_next, before_next, furthest)
    for stage in range(1, n):
        days = sorted(entered.get(stage, ()))
        if not days:
            continue
        following = sorted(entered.get(stage + 1, ())) if stage + 1 < n else []
        previous = None
        for day in days:
            to_next, before_next = _next(day, following)
            yield (pk, manager, created, ENTERED, stage, day, previous, to_next, before_next, None)
            previous = day
    for stage, stage_days in sorted(refused.items()):
        previous = None
        for day in sorted(stage_days):
            yield (pk, manager, created, REFUSED_AT, stage, day, previous, None, None, None)
            previous = day


def tallies(facts: Iterable[Fact]) -> Counter[tuple[Any, ...]]:
    """The :class:`~kartoteka.crm.models.FunnelTally` rows (keyed as ``TALLY_COLUMNS``) that
    these facts make, with how many facts each."""
    counted: Counter[tuple[Any, ...]] = Counter()
    for _pk, manager, created, kind, stage, day, prev, to_next, before, furthest in facts:
        who = manager if manager is not None else NO_MANAGER
        since = prev or NO_DAY
        counted[(0, day, kind, stage, who, NO_NUMBER, since, NO_DAY, NO_NUMBER)] += 1
        if to_next is not None:
            after = before or NO_DAY
            counted[(1, day, kind, stage, who, NO_NUMBER, since, after, to_next)] += 1
            counted[(2, day, kind, stage, ALL_MANAGERS, NO_NUMBER, since, after, to_next)] += 1
        if prev is not None:
            continue
        if kind == REFUSED_AT or stage == 0:
            reached = furthest if furthest is not None else NO_NUMBER
            counted[(3, created, kind, stage, who, reached, NO_DAY, NO_DAY, NO_NUMBER)] += 1
        if to_next is not None and before is None:
            counted[(4, created, kind, stage, who, NO_NUMBER, NO_DAY, NO_DAY, to_next)] += 1
            counted[
                (5, created, kind, stage, ALL_MANAGERS, NO_NUMBER, NO_DAY, NO_DAY, to_next)
            ] += 1
    return counted


def _add_to_tally(delta: dict[tuple[Any, ...], int]) -> None:
    """Add ``delta`` to the tally rows, creating those missing. In key order, so that two
    transactions adding to the same rows lock them in the same order."""
    if not delta:
        return
    table = FunnelTally._meta.db_table
    columns = ", ".join(TALLY_COLUMNS)
    sql = (
        f"INSERT INTO {table} ({columns}, n) VALUES ({_marks(len(TALLY_COLUMNS) + 1)}) "
        f"ON CONFLICT ({columns}) DO UPDATE SET n = {table}.n + excluded.n"
    )
    rows = [(*_adapt(key), n) for key, n in sorted(delta.items())]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _insert_tally(total: Counter[tuple[Any, ...]]) -> None:
    table = FunnelTally._meta.db_table
    columns = ", ".join(TALLY_COLUMNS)
    sql = f"INSERT INTO {table} ({columns}, n) VALUES ({_marks(len(TALLY_COLUMNS) + 1)})"
    rows = [(*_adapt(key), n) for key, n in sorted(total.items()) if n]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}, n) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        for start in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[start : start + 5000])


def _marks(n: int) -> str:
    return ", ".join(["%s"] * n)


def _adapt(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """Dates as ISO text on SQLite (its driver no longer adapts them by default)."""
    if connection.vendor == "postgresql":
        return values
    return tuple(v.isoformat() if isinstance(v, dt.date) else v for v in values)


def _next(day: dt.date, following: list[dt.date]) -> tuple[int | None, dt.date | None]:
    """Days from ``day`` to the first of ``following`` on or after it, and the last of
    ``following`` before it."""
    index = bisect.bisect_left(following, day)
    to_next = (following[index] - day).days if index < len(following) else None
    return to_next, following[index - 1] if index else None


def _state_for_write(keys: list[str]) -> bool:
    """Whether the facts are current; on PostgreSQL the state row is share-locked, so that a
    rebuild (which locks it for update) and this transaction's refresh do not interleave."""
    table = FunnelFactsState._meta.db_table
    lock = " FOR SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT stages FROM {table} ORDER BY id LIMIT 1{lock}")
        row = cursor.fetchone()
    return row is not None and row[0] == signature(keys)


def _clear() -> None:
    with connection.cursor() as cursor:
        for table in (FunnelFact._meta.db_table, FunnelTally._meta.db_table):
            if connection.vendor == "postgresql":
                cursor.execute(f"TRUNCATE {table}")
            else:
                cursor.execute(f"DELETE FROM {table}")


def _insert(facts: Iterable[Fact]) -> int:
    """Bulk-insert facts: ``COPY`` on PostgreSQL, batched ``executemany`` on SQLite."""
    table = FunnelFact._meta.db_table
    if connection.vendor == "postgresql":
        # Made before the COPY starts: ``facts_of`` reads the database, which a connection
        # cannot do in the middle of a COPY.
        facts = list(facts)
    columns = ", ".join(COLUMNS)
    total = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for fact in facts:
                    copy.write_row(fact)
                    total += 1
            return total
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"
        batch: list[tuple[Any, ...]] = []
        for fact in facts:
            batch.append(_adapt(fact))
            if len(batch) >= 5000:
                cursor.executemany(sql, batch)
                total += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            total += len(batch)
    return total
