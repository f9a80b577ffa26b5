"""Own-report benchmark: paid invoice sums by manager × month over a year of invoices.

    .venv/bin/python benchmarks/reports.py [--rows 1000000] [--managers 10]
    DATABASE_URL=postgres://… .venv/bin/python benchmarks/reports.py

It generates ``--rows`` invoices of 2025 with bulk SQL (COPY on PostgreSQL, executemany on
SQLite) — dates spread over the year, two in three paid some days later, totals of 1 000 to
500 000 ₽ — and times :func:`kartoteka.reports.builder.run_report` in-process for «Сумма
оплаченных счетов по менеджерам по месяцам» (rows: manager, columns: payment date by month, filter
«Оплачен», with every figure's drill-down URL), for the administrator and for one manager (his
rows only), beside the raw ``GROUP BY`` of the same figures asked in the same run: p50 and p95
(:func:`grid.timed`). Target (issue 15): p95 ≤ 1 s on PostgreSQL, ≤ 3 s on SQLite at a million
invoices, within 2× the raw query.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections.abc import Iterator

from _env import create_managers, drop_database, setup_django
from grid import bulk_insert, raw, timed

YEAR = dt.date(2025, 1, 1)


def generate(rows: int, managers: list[int], seed: int, vendor: str) -> int:
    from kartoteka.tables.models import Table

    stamp = "2025-01-01 00:00:00" + ("+00:00" if vendor == "postgresql" else "")
    clients = Table.objects.get(key="counterparties")
    bulk_insert(
        clients.db_table,
        ["created_at", "updated_at", "record_state", "name", "manager_id", "kind"],
        ((stamp, stamp, "active", f"ООО «Клиент-{i}»", m, "legal") for i, m in enumerate(managers)),
    )
    from kartoteka.tables.modelfactory import model_for

    client_ids = list(model_for(clients).objects.values_list("pk", flat=True))
    rnd = random.Random(seed)

    def invoices() -> Iterator[tuple]:
        for i in range(rows):
            day = YEAR + dt.timedelta(days=(i * 365) // rows)
            paid = rnd.random() < 0.66
            paid_day = day + dt.timedelta(days=rnd.randint(0, 20)) if paid else None
            total = rnd.randint(1_000, 500_000)
            k = i % len(managers)
            yield (
                stamp,
                stamp,
                "active",
                f"{i:07}",
                day.isoformat(),
                client_ids[k],
                managers[k],
                total,
                0,
                paid,
                paid_day.isoformat() if paid_day else None,
            )

    table = Table.objects.get(key="invoices")
    return bulk_insert(
        table.db_table,
        [
            "created_at",
            "updated_at",
            "record_state",
            "number",
            "date",
            "counterparty_id",
            "manager_id",
            "total",
            "vat",
            "paid",
            "paid_date",
        ],
        invoices(),
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--managers", type=int, default=10)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    created_db = setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from kartoteka.core.actor import Actor
    from kartoteka.crm.setup import init
    from kartoteka.records.selectors import Condition
    from kartoteka.reports.builder import Definition, Grouping, Measure, run_report
    from kartoteka.tables.models import Table

    try:
        init(verbosity=0)
        managers = create_managers(args.managers)
        start = time.perf_counter()
        n = generate(args.rows, managers, args.seed, connection.vendor)
        generated = time.perf_counter() - start
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(
            f"database: {connection.vendor}; invoices: {n:,}; managers: {len(managers)}; "
            f"generated in {generated:.0f} s"
        )
        definition = Definition(
            table="invoices",
            rows=[Grouping("manager")],
            column=Grouping("paid_date", "month"),
            measures=[Measure("sum", "total")],
            conditions=[
                Condition("paid", "eq", "1"),
                Condition("paid_date", "between", ["2025-01-01", "2025-12-31"]),
            ],
            chart="stacked",
        )
        admin = Actor.system("benchmark", source="bench")
        manager = Actor.for_user(get_user_model().objects.get(pk=managers[0]))
        table = Table.objects.get(key="invoices").db_table
        month = (
            "date_trunc('month', paid_date)"
            if connection.vendor == "postgresql"
            else "strftime('%Y-%m', paid_date)"
        )
        raw_sql = (
            f"SELECT manager_id, {month}, SUM(total) FROM {table} "
            "WHERE record_state = 'active' AND paid AND paid_date BETWEEN %s AND %s "
            "GROUP BY manager_id, 2"
        )

        result = run_report(admin, definition)
        assert len(result.rows) == len(managers), len(result.rows)
        cases = [
            ("raw GROUP BY (baseline)", raw(raw_sql, ["2025-01-01", "2025-12-31"])),
            ("report, administrator (with drill-down URLs)", lambda: run_report(admin, definition)),
            ("report, one manager (his rows)", lambda: run_report(manager, definition)),
        ]
        baseline = None
        for name, fn in cases:
            p50, p95 = timed(fn)
            baseline = baseline or p95
            print(f"{name:48} p50 {p50:8.1f} ms  p95 {p95:8.1f} ms  ×{p95 / baseline:.2f}")
    finally:
        drop_database(created_db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
