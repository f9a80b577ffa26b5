"""Funnel benchmark: «Воронка продаж» over a million counterparties and five million work rows.

    .venv/bin/python benchmarks/funnel.py [--rows 1000000] [--work 5] [--managers 10]
    DATABASE_URL=postgres://… .venv/bin/python benchmarks/funnel.py

It generates a year (2025) of sales history with bulk SQL (COPY on PostgreSQL, executemany on
SQLite): counterparties created evenly over the year, each with ``--work`` work rows dated from
its creation on, statuses moving forward only — most rows stay at the stage (calls that change
nothing), some move one stage, some skip stages, some refuse, a few are only planned; once paid,
rows carry no status, as the CRM rules have it. Each counterparty's status is the result of its
last done row. Then it times :func:`kartoteka.reports.funnel.compute_funnel` in-process for the
whole year and all managers, in both modes, plus one month and a drill-down page: p50 and p95 of
5 runs after a warm-up (the funnel reads the stage-entered facts, written by
``funnel_facts.rebuild()`` after the bulk load since the generator bypasses the rules;
``--compare`` also checks them against the work log), beside a raw baseline asked in the same run
(``SELECT status, COUNT(*) FROM client_work WHERE date BETWEEN … GROUP BY status``).
Target (issue 4): a year, all managers, under 1 s on PostgreSQL and under 3 s on SQLite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from _env import create_managers, drop_database, percentile, setup_django

STAGES = ["cold", "interested", "proposal", "negotiation", "invoice", "paid"]
REFUSED = "refused"
YEAR = dt.date(2025, 1, 1)
RUNS = 5


def _stamp(day: dt.date, seconds: int, vendor: str) -> str:
    """A UTC timestamp as the backend stores it (SQLite: naive text, as Django writes it)."""
    moment = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text}+00:00" if vendor == "postgresql" else text


def history(
    n: int, per: int, managers: list[int], seed: int
) -> Iterator[tuple[int, int, dt.date, list[tuple[dt.date, str, bool, str | None, str | None]]]]:
    """Per counterparty: (number, manager, creation day, rows of (date, type, done, before,
    status)) — a forward-only path through the stages."""
    rnd = random.Random(seed)
    kinds = ["call", "call", "call", "letter", "meeting"]
    for i in range(1, n + 1):
        created = YEAR + dt.timedelta(days=(i * 365) // (n + 1))
        stage: str | None = "cold"
        day = created
        rows = []
        for _ in range(per):
            day += dt.timedelta(days=rnd.choice((0, 1, 2, 3, 5, 7, 10, 14, 21)))
            before = stage
            kind = rnd.choice(kinds)
            if stage == "paid" or stage is None:
                rows.append((day, kind, True, None, None))
                stage = None
                continue
            if stage == REFUSED:
                rows.append((day, kind, True, REFUSED, REFUSED))
                continue
            roll = rnd.random()
            index = STAGES.index(stage)
            if roll < 0.05:  # planned: changes nothing until done
                rows.append((day, kind, False, before, STAGES[min(index + 1, 5)]))
                continue
            if roll < 0.50:
                new = stage
            elif roll < 0.80:
                new = STAGES[index + 1]
            elif roll < 0.90:
                new = STAGES[min(index + rnd.randint(2, 4), 5)]
            else:
                new = REFUSED
            if new == "paid":
                kind = "payment"
            rows.append((day, kind, True, before, new))
            stage = new
        yield i, rnd.choice(managers), created, rows


def final_status(rows: list[tuple[dt.date, str, bool, str | None, str | None]]) -> str:
    status = "cold"
    for _day, _kind, done, _before, new in rows:
        if done and new is not None:
            status = new
    return status


def generate(args: argparse.Namespace, managers: list[int], vendor: str) -> tuple[int, int]:
    from grid import bulk_insert

    from kartoteka.tables.models import Table

    cp = Table.objects.get(key="counterparties")
    work = Table.objects.get(key="client_work")

    def counterparties() -> Iterator[tuple]:
        for i, manager, created, rows in history(args.rows, args.work, managers, args.seed):
            stamp = _stamp(created, (i * 7919) % 86400, vendor)
            status = final_status(rows)
            kind = "client" if any(r[4] == "paid" and r[2] for r in rows) else "potential"
            yield (stamp, stamp, "active", f"ООО «Клиент-{i}»", manager, kind, status, "legal")

    def work_rows() -> Iterator[tuple]:
        stamp = _stamp(YEAR, 0, vendor)
        for i, manager, _created, rows in history(args.rows, args.work, managers, args.seed):
            for day, kind, done, before, new in rows:
                yield (stamp, stamp, "active", i, day.isoformat(), kind, done, before, new, manager)

    n = bulk_insert(
        cp.db_table,
        [
            "created_at",
            "updated_at",
            "record_state",
            "name",
            "manager_id",
            "type",
            "status",
            "kind",
        ],
        counterparties(),
    )
    w = bulk_insert(
        work.db_table,
        [
            "created_at",
            "updated_at",
            "record_state",
            "counterparty_id",
            "date",
            "work_type",
            "done",
            "status_before",
            "status",
            "manager_id",
        ],
        work_rows(),
    )
    return n, w


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    fn()
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return percentile(samples, 0.5), percentile(samples, 0.95)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--work", type=int, default=5, help="work rows per counterparty")
    parser.add_argument("--managers", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep and reuse the data: the SQLite data directory given in KARTOTEKA_DATA_DIR, "
        "or on PostgreSQL the database named in KARTOTEKA_BENCH_KEEP_DB",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also compute the year funnel from the work log and check it equals the facts'",
    )
    args = parser.parse_args()
    created_db = setup_django()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from kartoteka.core.actor import Actor
    from kartoteka.crm import funnel_facts
    from kartoteka.crm.setup import init
    from kartoteka.tables.modelfactory import model_for
    from kartoteka.tables.models import Table

    try:
        system = Actor.system("benchmark", source="bench")
        if args.reuse and _has_data():
            # Not ``init``: it would build the search index of the generated rows. The funnel
            # needs the migrations and current facts only.
            call_command("migrate", interactive=False, verbosity=0)
            start = time.perf_counter()
            facts = funnel_facts.ensure_current()
            managers = list(
                get_user_model()
                .objects.filter(username__startswith="m")
                .values_list("pk", flat=True)
            )
            cp = model_for(Table.objects.get(key="counterparties"))
            rebuilt = "current" if facts is None else f"{facts:,} rebuilt in "
            rebuilt += "" if facts is None else f"{time.perf_counter() - start:.0f} s"
            print(
                f"database: {connection.vendor}; reusing {cp.objects.count():,} counterparties; "
                f"funnel facts: {rebuilt}"
            )
        else:
            init(verbosity=0)
            managers = create_managers(args.managers)
            start = time.perf_counter()
            n, w = generate(args, managers, connection.vendor)
            generated = time.perf_counter() - start
            start = time.perf_counter()
            facts = funnel_facts.rebuild()
            rebuilt = time.perf_counter() - start
            start = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            analyzed = time.perf_counter() - start
            print(
                f"database: {connection.vendor}; counterparties: {n:,}; work rows: {w:,}; "
                f"managers: {len(managers)}; generated in {generated:.0f} s; "
                f"funnel facts: {facts:,} in {rebuilt:.0f} s; ANALYZE {analyzed:.0f} s"
            )
        if args.compare:
            compare(system)
        measure(system, managers)
    finally:
        drop_database(created_db)
        if not args.reuse:
            _remove_data_dir()
    return 0


def _has_data() -> bool:
    """Whether the database already holds generated counterparties."""
    from django.db import connection

    if "kt_counterparties" not in connection.introspection.table_names():
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM kt_counterparties LIMIT 1")
        return cursor.fetchone() is not None


def compare(system: Any) -> None:
    """The year funnel from the facts and from the work log directly, both modes: equal."""
    from kartoteka.reports.funnel import _FactsQuery, _FunnelQuery, _tally_work_log
    from kartoteka.reports.period import Period

    def plain(tally: Any) -> Any:
        return [[{k: v for k, v in per.items() if v} for per in part] for part in tally]

    for mode in ("period", "cohort"):
        query = _FunnelQuery(system, Period(YEAR, dt.date(2025, 12, 31)), None, mode)
        start = time.perf_counter()
        direct = plain(_tally_work_log(query))
        took = time.perf_counter() - start
        same = plain(_FactsQuery(query).tally()) == direct
        print(f"  {mode}: facts {'equal' if same else 'DIFFER from'} the work log's ({took:.1f} s)")
        if not same:
            raise SystemExit(1)


def measure(system: Any, managers: list[int]) -> None:
    from django.db import connection

    from kartoteka.reports.funnel import compute_funnel, funnel_members
    from kartoteka.tables.models import Table

    work_table = Table.objects.get(key="client_work").db_table
    year = {"date_from": dt.date(2025, 1, 1), "date_to": dt.date(2025, 12, 31)}
    june = {"date_from": dt.date(2025, 6, 1), "date_to": dt.date(2025, 6, 30)}

    def baseline() -> Any:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT status, COUNT(*) FROM {work_table} "
                "WHERE date BETWEEN %s AND %s GROUP BY status",
                [year["date_from"].isoformat(), year["date_to"].isoformat()],
            )
            return cursor.fetchall()

    for mode in ("period", "cohort"):
        funnel = compute_funnel(system, **year, mode=mode)
        counts = " ".join(f"{r.stage.key}={r.count:,}/{r.refused:,}" for r in funnel.rows)
        medians = " ".join(
            "-" if r.median_days is None else f"{r.median_days:g}" for r in funnel.rows
        )
        print(f"  {mode:<7}{counts}  medians: {medians}")
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("raw: work rows by status, year", baseline),
        ("funnel, year, passed in period", lambda: compute_funnel(system, **year)),
        ("funnel, year, cohort", lambda: compute_funnel(system, **year, mode="cohort")),
        ("funnel, June, passed in period", lambda: compute_funnel(system, **june)),
        ("funnel, June, cohort", lambda: compute_funnel(system, **june, mode="cohort")),
        (
            "funnel, year, one manager",
            lambda: compute_funnel(system, **year, managers=[managers[0]]),
        ),
        (
            "drill-down: first 50, year, negotiation",
            lambda: list(funnel_members(system, **year, stage="negotiation")[:50]),
        ),
    ]
    print(f"{'case':<42} {'p50':>9} {'p95':>9}")
    results = {}
    for label, fn in cases:
        p50, p95 = timed(fn)
        results[label] = p95
        print(f"{label:<42} {p50:>7.0f}ms {p95:>7.0f}ms")
    target = 1000 if connection.vendor == "postgresql" else 3000
    worst = max(results["funnel, year, passed in period"], results["funnel, year, cohort"])
    print(f"worst year funnel p95: {worst:.0f} ms (target < {target} ms at 1,000,000)")


def _remove_data_dir() -> None:
    """Delete the throwaway data directory (on SQLite a million rows take a few hundred MB)."""
    import os
    import shutil

    from django.conf import settings
    from django.db import connections

    data_dir = str(settings.DATA_DIR)
    if os.path.basename(data_dir).startswith("kartoteka-bench-"):
        connections.close_all()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
