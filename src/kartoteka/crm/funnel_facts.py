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
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from kartoteka.crm.models import FunnelFact, FunnelFactsState
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

Fact = tuple[
    int, int | None, dt.date, int, int, dt.date, dt.date | None, int | None, Any, int | None
]


def stage_keys() -> list[str]:
    """The stage keys in order, «Отказ» excluded (the status options of «Контрагенты»)."""
    from kartoteka.crm.rules import stages

    return stages()


def signature(keys: list[str]) -> str:
    return ",".join(keys)


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
        FunnelFact.objects.filter(counterparty_id__in=chunk).delete()
        _insert(facts_of(keys, Q(pk__in=chunk), Q(counterparty_id__in=chunk)))


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
        low = counterparties.objects.order_by("pk").values_list("pk", flat=True).first()
        high = counterparties.objects.order_by("-pk").values_list("pk", flat=True).first()
        if low is None or high is None:
            return 0
        for start in range(low, high + 1, REBUILD_STEP):
            end = start + REBUILD_STEP
            written += _insert(
                facts_of(
                    keys,
                    Q(pk__gte=start, pk__lt=end),
                    Q(counterparty_id__gte=start, counterparty_id__lt=end),
                )
            )
    return written


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
    table = FunnelFact._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {table}")
        else:
            cursor.execute(f"DELETE FROM {table}")


def _insert(facts: Iterable[Fact]) -> int:
    """Bulk-insert facts: ``COPY`` on PostgreSQL, batched ``executemany`` on SQLite."""
    table = FunnelFact._meta.db_table
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
            batch.append(tuple(v.isoformat() if isinstance(v, dt.date) else v for v in fact))
            if len(batch) >= 5000:
                cursor.executemany(sql, batch)
                total += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            total += len(batch)
    return total
