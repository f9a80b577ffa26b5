"""Shared set-up of the benchmarks: a throwaway data directory or PostgreSQL database, Django."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

#: The data directory a benchmark made for itself (removed by :func:`drop_database`).
_made_dir: list[str] = []


def setup_django() -> str | None:
    """Point Kartoteka at a fresh database; returns the PostgreSQL database to drop, if any."""
    if "KARTOTEKA_DATA_DIR" not in os.environ:
        _made_dir.append(tempfile.mkdtemp(prefix="kartoteka-bench-"))
        os.environ["KARTOTEKA_DATA_DIR"] = _made_dir[0]
    created = None
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres") and os.environ.get("KARTOTEKA_BENCH_KEEP_DB"):
        # Reuse (or leave behind) this database: repeated measurements of one data set.
        kept = os.environ["KARTOTEKA_BENCH_KEEP_DB"]
        base = url.rsplit("/", 1)[0]
        import psycopg

        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [kept]).fetchone()
            if not found:
                conn.execute(f'CREATE DATABASE "{kept}"')
        os.environ["DATABASE_URL"] = f"{base}/{kept}"
    elif url.startswith("postgres"):
        import psycopg

        base = url.rsplit("/", 1)[0]
        created = f"kartoteka_bench_{os.getpid()}"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{created}"')
        os.environ["KARTOTEKA_BENCH_ORIGINAL_URL"] = url
        os.environ["DATABASE_URL"] = f"{base}/{created}"
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kartoteka.config.settings")
    import django

    django.setup()
    return created


def drop_database(name: str | None) -> None:
    """Drop the benchmark's PostgreSQL database and remove the data directory it made (the SQLite
    database of a million-row run is gigabytes)."""
    if _made_dir:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(_made_dir.pop(), ignore_errors=True)
    if not name:
        return
    import psycopg
    from django.db import connections

    connections.close_all()
    base = os.environ["KARTOTEKA_BENCH_ORIGINAL_URL"].rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def create_managers(count: int) -> list[int]:
    """``count`` users of «Менеджеры» (``m0``, ``m1``, …) made through the accounts service;
    their ids."""
    from kartoteka.accounts.services import create_user
    from kartoteka.core.actor import MANAGERS_GROUP, Actor

    system = Actor.system("benchmark", source="bench")
    return [
        create_user(
            system,
            username=f"m{i}",
            password="x",
            group=MANAGERS_GROUP,
            full_name=f"Менеджер {i}",
            check_password=False,
        ).pk
        for i in range(count)
    ]
