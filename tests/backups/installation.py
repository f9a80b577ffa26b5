"""Fresh installations for backup and upgrade tests, and a description of what one holds.

An installation is an environment: its own data directory and, when ``DATABASE_URL`` points at
PostgreSQL, its own database. The ``kartoteka`` command and Python snippets run in it as
subprocesses, as an administrator would run them. ``scripts/make_upgrade_fixture.py`` uses the
same helpers (and :data:`DESCRIBE`) to make the committed fixtures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.e2e.conftest import _postgres_database

KARTOTEKA = [sys.executable, "-m", "kartoteka.cli"]
# Backups of a demo installation of an earlier release (scripts/make_upgrade_fixture.py).
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "upgrade"


def database_kind() -> str:
    """The database the suite runs on: ``postgresql`` under ``DATABASE_URL``, else ``sqlite``."""
    return "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"


@contextmanager
def installation(data_dir: Path, name: str, pg_url: str | None = None) -> Iterator[dict[str, str]]:
    """The environment of a fresh installation; its PostgreSQL database is dropped after."""
    env = {**os.environ, "KARTOTEKA_DATA_DIR": str(data_dir)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    pg_url = os.environ.get("DATABASE_URL", "") if pg_url is None else pg_url
    db_name = f"kartoteka_backup_{name}_{os.getpid()}"
    if pg_url.startswith("postgres"):
        env["DATABASE_URL"] = _postgres_database(pg_url, db_name)
    else:
        env.pop("DATABASE_URL", None)
    try:
        yield env
    finally:
        if pg_url.startswith("postgres"):
            _postgres_database(pg_url, db_name, drop_only=True)


def run(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """``kartoteka ARGS`` in the installation."""
    done = subprocess.run([*KARTOTEKA, *args], env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def python(env: dict[str, str], code: str, *args: str) -> str:
    """Run a Python snippet with Django set up for the installation; its standard output."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**env, "DJANGO_SETTINGS_MODULE": "kartoteka.config.settings"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# Every table's records (every state) with their values, each record's history (oldest first)
# and the content digest of every file a record names — read through the selectors only.
DESCRIBE = """
import hashlib, json
import django; django.setup()
from django.core.files.storage import default_storage
from kartoteka.core.actor import Actor
from kartoteka.records.selectors import get_history, list_records, list_tables
from kartoteka.records.services import current_values
from kartoteka.tables.modelfactory import fields_of

actor = Actor.system("upgrade check")
tables, files = {}, {}
for table in list_tables(actor):
    fields = fields_of(table)
    records = {}
    for record in list_records(actor, table, state=None, ordering=["id"]):
        values = current_values(record, fields)
        for field in fields:
            value = values[field.key]
            if field.type == "file" and value:
                with default_storage.open(value, "rb") as fh:
                    files[value] = hashlib.sha256(fh.read()).hexdigest()
            values[field.key] = None if value is None else field.field_type.to_json(field, value)
        history = [
            [entry.action, entry.source, sorted(entry.changes or {})]
            for entry in reversed(get_history(actor, table, record.pk))
        ]
        records[str(record.pk)] = {"state": record.record_state, "values": values,
                                   "history": history}
    tables[table.key] = records
print(json.dumps({"tables": tables, "files": files}, ensure_ascii=False, default=str,
                 sort_keys=True))
"""


def describe(env: dict[str, str]) -> dict[str, Any]:
    return json.loads(python(env, DESCRIBE))
