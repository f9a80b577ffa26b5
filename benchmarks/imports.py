"""Import benchmark: a Windows-1251 «;» CSV of counterparties keyed by INN, beside a raw baseline.

    .venv/bin/python benchmarks/imports.py --rows 100000            # SQLite
    DATABASE_URL=postgres://… .venv/bin/python benchmarks/imports.py  # PostgreSQL

1. A fresh load of N rows × 8 columns into «Контрагенты» through the import (conversion, the
   records service's checks, rules, history, search index), then an update of every row from a
   second file with «Приоритет заполненных перед пустыми» (a third of its cells are empty).
2. The raw baseline, measured in the same run on the same files: plain ``csv`` +
   ``sqlite3.executemany`` into a bare table with the same columns and a unique index on INN
   (``INSERT … ON CONFLICT DO UPDATE`` for the update), or on PostgreSQL psycopg ``COPY`` into
   a temporary table + ``INSERT … ON CONFLICT``.
3. On SQLite also the raw baseline plus the bookkeeping the import may not skip (a history row
   per record, the FTS5 trigram search index), in set-based SQL: what that bookkeeping costs by
   itself.
4. Optionally (``--xlsx N``) an XLSX of N rows: the import vs python-calamine's own read time.

Prints rows/s, the import/raw time ratios and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from _env import drop_database, setup_django

HEADER = ["Название", "ИНН", "КПП", "Телефон", "E-mail", "Город", "Адрес", "Комментарий"]
CITIES = ["Москва", "Казань", "Тверь", "Самара", "Пермь", "Омск", "Сочи", "Уфа"]
COLUMNS = ["name", "inn", "kpp", "phone", "email", "city", "address", "comment"]


def make_rows(n: int, *, update: bool, start: int = 0) -> list[list[str]] | object:
    from kartoteka.core.validators import inn_control_digits

    for i in range(start, start + n):
        inn = inn_control_digits(f"{500000000 + i:09d}")
        city = CITIES[(i + (3 if update else 0)) % len(CITIES)]
        empty = update and i % 3 == 0
        yield [
            f'ООО "Компания {i}"' + (" (обн.)" if update else ""),
            inn,
            "" if empty else f"77{i % 10000:04d}001",
            "" if empty else f"8 (9{i % 100:02d}) {i % 1000:03d}-{(i // 7) % 100:02d}-{i % 97:02d}",
            "" if empty else f"info{i}@firma{i % 1000}.ru",
            city,
            "" if empty else f"г. {city}, ул. Ленина, д. {i % 200 + 1}",
            "" if empty else f"Клиент с {2000 + i % 25} года, звонить до обеда",
        ]


def write_file(path: Path, n: int, *, update: bool, start: int = 0) -> None:
    with open(path, "w", encoding="cp1251", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        writer.writerows(make_rows(n, update=update, start=start))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- raw baselines --------------------------------------------------------------------------------


def raw_sqlite(directory: Path, files: list[Path]) -> list[float]:
    import sqlite3

    db = sqlite3.connect(directory / "raw.sqlite3")
    db.execute("PRAGMA journal_mode=WAL")
    columns = ", ".join(f"{c} TEXT" for c in COLUMNS)
    db.execute(f"CREATE TABLE firms (id INTEGER PRIMARY KEY, {columns})")
    db.execute("CREATE UNIQUE INDEX firms_inn ON firms (inn)")
    times = []
    names = ", ".join(COLUMNS)
    marks = ", ".join("?" for _ in COLUMNS)
    updates = ", ".join(f"{c} = COALESCE(NULLIF(excluded.{c}, ''), {c})" for c in COLUMNS)
    for path in files:
        start = time.perf_counter()
        with open(path, encoding="cp1251", newline="") as handle:
            reader = csv.reader(handle, delimiter=";")
            next(reader)
            db.executemany(
                f"INSERT INTO firms ({names}) VALUES ({marks}) "
                f"ON CONFLICT (inn) DO UPDATE SET {updates}",
                reader,
            )
        db.commit()
        times.append(time.perf_counter() - start)
    db.close()
    return times


def raw_sqlite_kept(directory: Path, files: list[Path]) -> list[float]:
    """The raw baseline plus the bookkeeping the import may not skip, in plain SQL: a history
    row per record (its values as JSON) and the FTS5 trigram index of its text kept by triggers,
    as the search app keeps ``search_fts``. Set-based (a staging table, then ``INSERT … SELECT``
    / ``UPDATE … FROM``): the least any import with history and substring search does."""
    import sqlite3

    db = sqlite3.connect(directory / "raw-kept.sqlite3")
    db.execute("PRAGMA journal_mode=WAL")
    columns = ", ".join(f"{c} TEXT" for c in COLUMNS)
    db.execute(f"CREATE TABLE firms (id INTEGER PRIMARY KEY, {columns})")
    db.execute("CREATE UNIQUE INDEX firms_inn ON firms (inn)")
    db.execute("CREATE TABLE history (id INTEGER PRIMARY KEY, record_id INT, changes TEXT)")
    db.execute("CREATE INDEX history_record ON history (record_id)")
    db.execute("CREATE TABLE entry (id INTEGER PRIMARY KEY, record_id INT UNIQUE, text TEXT)")
    db.execute(
        "CREATE VIRTUAL TABLE entry_fts USING fts5(text, content='entry', content_rowid='id', "
        "tokenize='trigram', columnsize=0)"
    )
    db.execute(
        "CREATE TRIGGER entry_ai AFTER INSERT ON entry BEGIN "
        "INSERT INTO entry_fts(rowid, text) VALUES (new.id, new.text); END"
    )
    db.execute(
        "CREATE TRIGGER entry_au AFTER UPDATE ON entry BEGIN "
        "INSERT INTO entry_fts(entry_fts, rowid, text) VALUES ('delete', old.id, old.text); "
        "INSERT INTO entry_fts(rowid, text) VALUES (new.id, new.text); END"
    )
    names = ", ".join(COLUMNS)
    marks = ", ".join("?" for _ in COLUMNS)
    kept = ", ".join(f"{c} = COALESCE(NULLIF(load.{c}, ''), firms.{c})" for c in COLUMNS)
    as_json = "json_object(" + ", ".join(f"'{c}', f.{c}" for c in COLUMNS) + ")"
    text = "lower(" + " || ' ' || ".join(f"coalesce(f.{c}, '')" for c in COLUMNS) + ")"
    times = []
    for path in files:
        start = time.perf_counter()
        db.execute(f"CREATE TEMP TABLE load ({columns})")
        with open(path, encoding="cp1251", newline="") as handle:
            reader = csv.reader(handle, delimiter=";")
            next(reader)
            db.executemany(f"INSERT INTO load ({names}) VALUES ({marks})", reader)
        db.execute(f"UPDATE firms SET {kept} FROM load WHERE firms.inn = load.inn")
        db.execute(
            f"INSERT INTO firms ({names}) SELECT {names} FROM load "
            "WHERE NOT EXISTS (SELECT 1 FROM firms WHERE firms.inn = load.inn)"
        )
        touched = "SELECT f.* FROM firms f JOIN load ON f.inn = load.inn"
        db.execute(
            f"INSERT INTO history (record_id, changes) SELECT f.id, {as_json} FROM ({touched}) f"
        )
        db.execute(
            f"UPDATE entry SET text = {text} FROM ({touched}) f WHERE entry.record_id = f.id"
        )
        db.execute(
            f"INSERT INTO entry (record_id, text) SELECT f.id, {text} FROM ({touched}) f "
            "WHERE NOT EXISTS (SELECT 1 FROM entry WHERE entry.record_id = f.id)"
        )
        db.execute("DROP TABLE load")
        db.commit()
        times.append(time.perf_counter() - start)
    db.close()
    return times


def raw_postgres(files: list[Path]) -> list[float]:
    import psycopg

    url = os.environ["DATABASE_URL"]
    times = []
    names = ", ".join(COLUMNS)
    updates = ", ".join(f"{c} = COALESCE(NULLIF(excluded.{c}, ''), raw_firms.{c})" for c in COLUMNS)
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS raw_firms")
        conn.execute(
            "CREATE TABLE raw_firms (id BIGSERIAL PRIMARY KEY, "
            + ", ".join(f"{c} TEXT" for c in COLUMNS)
            + ")"
        )
        conn.execute("CREATE UNIQUE INDEX raw_firms_inn ON raw_firms (inn)")
        conn.commit()
        for path in files:
            start = time.perf_counter()
            with conn.transaction():
                conn.execute(
                    "CREATE TEMP TABLE raw_load (" + ", ".join(f"{c} TEXT" for c in COLUMNS) + ") "
                    "ON COMMIT DROP"
                )
                with (
                    conn.cursor().copy(
                        f"COPY raw_load ({names}) FROM STDIN WITH (FORMAT csv, DELIMITER ';', "
                        "HEADER true, ENCODING 'WIN1251')"
                    ) as copy,
                    open(path, "rb") as handle,
                ):
                    while data := handle.read(1 << 20):
                        copy.write(data)
                conn.execute(
                    f"INSERT INTO raw_firms ({names}) SELECT {names} FROM raw_load "
                    f"ON CONFLICT (inn) DO UPDATE SET {updates}"
                )
            times.append(time.perf_counter() - start)
        conn.execute("DROP TABLE raw_firms")
        conn.commit()
    return times


# -- the benchmark --------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--xlsx", type=int, default=0, help="also an XLSX of this many rows")
    args = parser.parse_args()
    created_db = setup_django()
    from django.db import connection

    from kartoteka.core.actor import Actor
    from kartoteka.crm.setup import init
    from kartoteka.imports.options import ImportSettings
    from kartoteka.imports.services import run_import
    from kartoteka.records.models import RecordChange
    from kartoteka.tables.modelfactory import model_for
    from kartoteka.tables.models import Table

    directory = Path(tempfile.mkdtemp(prefix="kartoteka-import-bench-"))
    try:
        init(verbosity=0)
        table = Table.objects.get(key="counterparties")
        n = args.rows
        fresh, update = directory / "fresh.csv", directory / "update.csv"
        write_file(fresh, n, update=False)
        write_file(update, n, update=True)
        size_mb = fresh.stat().st_size / 2**20
        print(f"database: {connection.vendor}; rows: {n:,}; file: {size_mb:.0f} MB, cp1251, «;»")
        actor = Actor.system("benchmark", source="bench")
        times = []
        for path in (fresh, update):
            start = time.perf_counter()
            result = run_import(actor, table, str(path), path.name, ImportSettings())
            times.append(time.perf_counter() - start)
            assert result.error_count == 0, result.errors[:3]
            assert result.created + result.updated == n, (result.created, result.updated)
        model = model_for(table)
        assert model.objects.count() == n
        assert RecordChange.objects.filter(table=table).count() == 2 * n
        if connection.vendor == "postgresql":
            raw = raw_postgres([fresh, update])
            raw_name = "psycopg COPY + INSERT … ON CONFLICT"
        else:
            raw = raw_sqlite(directory, [fresh, update])
            raw_name = "csv + sqlite3.executemany (ON CONFLICT)"
            kept = raw_sqlite_kept(directory, [fresh, update])
        for label, took, base in zip(("fresh load", "update all"), times, raw, strict=True):
            print(
                f"{label}: import {n / took:,.0f} rows/s ({took:.1f} s) | {raw_name} "
                f"{n / base:,.0f} rows/s ({base:.1f} s) | import/raw {took / base:.1f}x"
            )
        if connection.vendor == "sqlite":
            for label, took, base in zip(("fresh load", "update all"), times, kept, strict=True):
                print(
                    f"{label}: raw + history + trigram index {n / base:,.0f} rows/s "
                    f"({base:.1f} s) | import/that {took / base:.1f}x"
                )
        print(f"peak RSS (CSV runs): {peak_rss_mb():.0f} MB")
        if args.xlsx:
            bench_xlsx(directory, args.xlsx, actor)
            # python-calamine parses a whole sheet at once (about 0.9 KB a row of 8 cells).
            print(f"peak RSS (with the XLSX run): {peak_rss_mb():.0f} MB")
    finally:
        drop_database(created_db)
        for path in directory.iterdir():
            path.unlink()
        directory.rmdir()
    return 0


def bench_xlsx(directory: Path, n: int, actor) -> None:
    """An XLSX of ``n`` new counterparties against python-calamine's own read of it plus the
    CSV import of the same rows (new ones too): the target is 2× that sum."""
    import python_calamine
    import xlsxwriter

    from kartoteka.imports.options import ImportSettings
    from kartoteka.imports.services import run_import
    from kartoteka.tables.models import Table

    table = Table.objects.get(key="counterparties")
    # Rows not in the table yet: one set for the CSV, another for the XLSX.
    csv_path = directory / "firms-x.csv"
    write_file(csv_path, n, update=False, start=10_000_000)
    path = directory / "firms.xlsx"
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("Клиенты")
    sheet.write_row(0, 0, HEADER)
    for r, row in enumerate(make_rows(n, update=False, start=20_000_000), start=1):
        sheet.write_row(r, 0, row)
    book.close()
    start = time.perf_counter()
    with open(path, "rb") as handle:
        workbook = python_calamine.CalamineWorkbook.from_filelike(handle)
        for _row in workbook.get_sheet_by_index(0).iter_rows():
            pass
    calamine_s = time.perf_counter() - start
    start = time.perf_counter()
    result = run_import(actor, table, str(csv_path), csv_path.name, ImportSettings())
    csv_s = time.perf_counter() - start
    assert result.created == n, result.created
    start = time.perf_counter()
    result = run_import(actor, table, str(path), path.name, ImportSettings())
    took = time.perf_counter() - start
    assert result.created == n, result.created
    print(
        f"xlsx {n:,} new rows: import {took:.1f} s | calamine read {calamine_s:.1f} s + csv "
        f"import of as many new rows {csv_s:.1f} s | xlsx/(calamine + csv) "
        f"{took / (calamine_s + csv_s):.2f}x"
    )


if __name__ == "__main__":
    sys.exit(main())
