"""Grid benchmark: the counterparties grid over a million rows (and five million work rows).

    .venv/bin/python benchmarks/grid.py [--rows 1000000] [--work 5]
    DATABASE_URL=postgres://… .venv/bin/python benchmarks/grid.py

It generates its own data with bulk SQL (the records service is measured by ``run.py``), indexes
it for search, then times each grid request in-process through Django's test client — server time:
routing, access, selectors, paging, count, rendering — 20 times after two warm-ups, and prints p50
and p95 beside the same question asked of the database in raw SQL in the same run.
Target (issue): p95 under 100 ms for each line, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from _env import create_managers, drop_database, percentile, setup_django

FIRST = [
    "Альфа",
    "Вектор",
    "Гранит",
    "Дельта",
    "Заря",
    "Импульс",
    "Кристалл",
    "Лидер",
    "Меридиан",
    "Нева",
    "Олимп",
    "Прогресс",
    "Радуга",
    "Сибирь",
    "Техно",
    "Уют",
    "Феникс",
    "Цитадель",
]
SECOND = [
    "Строй",
    "Торг",
    "Сервис",
    "Маркет",
    "Логистик",
    "Пром",
    "Инвест",
    "Софт",
    "Агро",
    "Транс",
    "Медиа",
    "Энерго",
    "Групп",
    "Холдинг",
    "Капитал",
    "Снаб",
]
FORMS = ["ООО", "АО", "ИП", "ПАО"]
CITIES = [
    "Москва",
    "Санкт-Петербург",
    "Казань",
    "Екатеринбург",
    "Новосибирск",
    "Самара",
    "Тверь",
    "Пермь",
    "Воронеж",
    "Уфа",
]
STATUSES = ["cold", "interested", "proposal", "negotiation", "invoice", "paid", "refused"]
SAMPLES = 20


def counterparty_rows(n: int, managers: list[int], rnd: random.Random) -> Iterator[tuple]:
    now = "2026-01-01 00:00:00+00:00"
    for i in range(1, n + 1):
        name = f"{rnd.choice(FORMS)} «{rnd.choice(FIRST)}{rnd.choice(SECOND)}-{i}»"
        state = "archived" if i % 50 == 0 else "active"
        phone = f"+79{(i * 7919) % 10**9:09d}"
        yield (
            now,
            now,
            state,
            name,
            f"{7700000000 + i}",
            phone,
            rnd.choice(CITIES),
            rnd.choice(managers),
            "potential",
            rnd.choice(STATUSES),
            "legal",
        )


def work_rows(n: int, per: int, managers: list[int], rnd: random.Random) -> Iterator[tuple]:
    now = "2026-01-01 00:00:00+00:00"
    for i in range(1, n * per + 1):
        day = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}"
        kind = rnd.choice(["call", "letter", "meeting"])
        yield (
            now,
            now,
            "active",
            1 + (i - 1) // per,
            day,
            kind,
            True,
            "cold",
            rnd.choice(STATUSES),
            rnd.choice(managers),
        )


def bulk_insert(table: str, columns: list[str], rows: Iterator[tuple], chunk: int = 50_000) -> int:
    from django.db import connection, transaction

    total = 0
    cols = ", ".join(columns)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor
            with raw.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    total += 1
            return total
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"
        batch: list[tuple] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= chunk:
                cursor.executemany(sql, batch)
                total += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            total += len(batch)
    return total


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    fn()
    fn()
    samples = []
    for _ in range(SAMPLES):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return percentile(samples, 0.5), percentile(samples, 0.95)


def raw(sql: str, params: list[Any]) -> Callable[[], Any]:
    from django.db import connection

    def run() -> Any:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return run


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--work", type=int, default=5, help="work rows per counterparty")
    args = parser.parse_args()
    created_db = setup_django()
    from django.db import connection
    from django.test import Client

    from kartoteka.accounts.services import create_user
    from kartoteka.core.actor import ADMIN_GROUP, Actor
    from kartoteka.crm.setup import init
    from kartoteka.tables.models import Table

    try:
        init(verbosity=0)
        system = Actor.system("benchmark", source="bench")
        admin = create_user(
            system,
            username="bench",
            password="x",
            group=ADMIN_GROUP,
            full_name="Бенч Марк",
            check_password=False,
        )
        managers = create_managers(4)
        rnd = random.Random(7)
        cp = Table.objects.get(key="counterparties")
        work = Table.objects.get(key="client_work")
        start = time.perf_counter()
        n = bulk_insert(
            cp.db_table,
            [
                "created_at",
                "updated_at",
                "record_state",
                "name",
                "inn",
                "phone",
                "city",
                "manager_id",
                "type",
                "status",
                "kind",
            ],
            counterparty_rows(args.rows, managers, rnd),
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
            work_rows(args.rows, args.work, managers, rnd),
        )
        generated = time.perf_counter() - start
        start = time.perf_counter()
        reindexed = reindex(cp)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        prepared = time.perf_counter() - start
        print(
            f"database: {connection.vendor}; counterparties: {n:,}; work rows: {w:,}; "
            f"generated in {generated:.0f} s; search index and statistics in {prepared:.0f} s"
            f"{'' if reindexed else ' (no search index)'}"
        )

        client = Client(HTTP_HOST="localhost")
        client.force_login(admin)
        table = cp.db_table
        manager = managers[1]
        sample = connection.cursor()
        sample.execute(f"SELECT name, phone FROM {table} WHERE id = %s", [args.rows // 2 + 7])
        name, phone = sample.fetchone()
        word = name.split("-")[-1].rstrip("»")  # the row's number: a rare substring of its name
        national = f"8 ({phone[2:5]}) {phone[5:8]}-{phone[8:10]}-{phone[10:12]}"
        active = "record_state = 'active'"
        cases = [
            (
                "first page",
                "/t/counterparties/",
                raw(f"SELECT * FROM {table} WHERE {active} ORDER BY id DESC LIMIT 51", []),
            ),
            (
                "last page",
                "/t/counterparties/?dir=last",
                raw(f"SELECT * FROM {table} WHERE {active} ORDER BY id ASC LIMIT 51", []),
            ),
            (
                "manager + status",
                f"/t/counterparties/?qf_manager={manager}&qf_status=interested",
                raw(
                    f"SELECT * FROM {table} WHERE {active} AND manager_id = %s AND status = %s "
                    "ORDER BY id DESC LIMIT 51",
                    [manager, "interested"],
                ),
            ),
            (
                "sort by name",
                "/t/counterparties/?o=name",
                raw(
                    f"SELECT * FROM {table} WHERE {active} AND name IS NOT NULL "
                    "ORDER BY name, id LIMIT 51",
                    [],
                ),
            ),
            (
                f"search «{word}»",
                f"/t/counterparties/?q={word}",
                raw(
                    f"SELECT * FROM {table} WHERE {active} AND name LIKE %s ORDER BY id DESC "
                    "LIMIT 51",
                    [f"%{word}%"],
                ),
            ),
            (
                f"phone «{national}»",
                f"/t/counterparties/?q={national}",
                raw(
                    f"SELECT * FROM {table} WHERE {active} AND phone = %s ORDER BY id DESC "
                    "LIMIT 51",
                    [phone],
                ),
            ),
        ]
        print(f"{'request':<32} {'grid p50':>9} {'grid p95':>9} {'raw p50':>9} {'raw p95':>9}")
        worst = 0.0
        for label, url, baseline in cases:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            p50, p95 = timed(lambda url=url: client.get(url))
            r50, r95 = timed(baseline)
            worst = max(worst, p95)
            print(f"{label:<32} {p50:>7.1f}ms {p95:>7.1f}ms {r50:>7.1f}ms {r95:>7.1f}ms")
        print(f"worst grid p95: {worst:.1f} ms (target < 100 ms)")
    finally:
        drop_database(created_db)
    return 0


def reindex(table: Any) -> bool:
    """Fill the search index for bulk-inserted rows, when the search app offers it."""
    try:
        from kartoteka.search import services as search_services
    except ImportError:
        return False
    fn = getattr(search_services, "reindex_table", None)
    if fn is None:
        return False
    fn(table)
    return True


if __name__ == "__main__":
    sys.exit(main())
