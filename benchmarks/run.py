"""Benchmarks of the foundation, each printed beside a raw baseline measured in the same run.

    make bench                 # SQLite in a temporary data directory
    DATABASE_URL=… make bench  # PostgreSQL (uses a throwaway database next to the given one)

1. Creating records through the records service (validation, rules, history) vs a raw
   ``executemany`` INSERT of the same rows into the same table.
2. Reading the last page of the counterparties list through the selector vs a raw
   ``SELECT … ORDER BY id LIMIT … OFFSET …``.

The figures are for people and for later issues to compare against; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import sys
import time

from _env import drop_database, setup_django


def rows(n: int, offset: int = 0) -> list[dict[str, object]]:
    from kartoteka.core.validators import inn_control_digits

    cities = ["Москва", "Казань", "Тверь", "Самара", "Пермь"]
    return [
        {
            "name": f"ООО «Бенчмарк {offset + i}»",
            "inn": inn_control_digits(f"{500000000 + offset + i:09d}"),
            "phone": f"+7 9{(offset + i) % 100:02d} {(offset + i) % 1000:03d}-"
            f"{i % 100:02d}-{i % 97:02d}",
            "city": cities[i % len(cities)],
            "type": "potential",
            "status": "cold",
        }
        for i in range(n)
    ]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    created_db = setup_django()
    from django.db import connection

    from kartoteka.core.actor import Actor
    from kartoteka.crm.setup import init
    from kartoteka.records.selectors import list_records, paginate
    from kartoteka.records.services import create_records
    from kartoteka.tables.fieldtypes.phone import normalize_phone
    from kartoteka.tables.modelfactory import model_for
    from kartoteka.tables.models import Table

    try:
        init(verbosity=0)
        table = Table.objects.get(key="counterparties")
        model = model_for(table)
        actor = Actor.system("benchmark", source="bench")
        n = args.rows
        print(f"database: {connection.vendor}; rows: {n}")

        # 1. service create vs raw insert
        data = rows(n)
        start = time.perf_counter()
        for i in range(0, n, 5000):
            create_records(actor, table, data[i : i + 5000])
        service_s = time.perf_counter() - start

        raw = rows(n, offset=n)
        now = "2026-01-01 00:00:00+00:00"
        params = [
            (
                now,
                now,
                "active",
                r["name"],
                r["inn"],
                normalize_phone(str(r["phone"])),
                r["city"],
                "potential",
                "cold",
            )
            for r in raw
        ]
        sql = (
            f'INSERT INTO "{table.db_table}" (created_at, updated_at, record_state, name, inn, '
            "phone, city, type, status) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
        )
        start = time.perf_counter()
        from django.db import transaction

        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, params)
        raw_s = time.perf_counter() - start
        print(
            f"create: service {n / service_s:,.0f} rows/s ({service_s:.2f} s) | "
            f"raw INSERT {n / raw_s:,.0f} rows/s ({raw_s:.2f} s) | "
            f"service/raw time {service_s / raw_s:.1f}x"
        )

        # 2. last page: selector vs raw
        qs = list_records(actor, table, ordering=["id"])
        per_page = 50
        start = time.perf_counter()
        page = paginate(qs, "last", per_page)
        list(page.object_list)
        selector_s = time.perf_counter() - start
        total = model.objects.count()
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                f'SELECT * FROM "{table.db_table}" WHERE record_state = %s ORDER BY id '
                f"LIMIT {per_page} OFFSET {max(0, total - per_page)}",
                ["active"],
            )
            cursor.fetchall()
        raw_page_s = time.perf_counter() - start
        print(
            f"last page of {total:,} rows: selector {selector_s * 1000:.1f} ms | "
            f"raw SELECT {raw_page_s * 1000:.1f} ms"
        )
    finally:
        drop_database(created_db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
