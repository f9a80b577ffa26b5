"""kill -9 in the middle of an import, for real: ``kartoteka import`` runs in its own process
against a database of its own (a PostgreSQL database when ``DATABASE_URL`` points at
PostgreSQL, else an SQLite file) and is killed with SIGKILL at a random moment after its first
committed chunk. The batch must then say «прервано» with exactly the rows written; undo must
remove them, and «продолжить» must import the rest with no row twice."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import _postgres_database
from tests.imports.files import write_csv
from tests.installs import cli, copy_of

ROWS = 20_000
CHUNK = 500

STATE = """
import json, sys
import django; django.setup()
from kartoteka.imports import services
from kartoteka.imports.models import ImportBatch
from kartoteka.records.models import RecordChange
from kartoteka.tables.modelfactory import model_for
from kartoteka.tables.models import Table
batch = ImportBatch.objects.order_by("-id").first()
services.settle([batch])  # as any page that reads it does
table = Table.objects.get(key="counterparties")
print(json.dumps({
    "batch": batch.pk, "status": batch.status, "message": batch.message,
    "rows_done": batch.rows_done, "created": batch.created, "next_row": batch.next_row,
    "names": list(model_for(table).objects.order_by("id").values_list("name", flat=True)),
    "history": RecordChange.objects.filter(source=batch.source, action="create").count(),
}, ensure_ascii=False))
"""


@pytest.fixture
def database(tmp_path, tmp_path_factory):
    pg_url = os.environ.get("DATABASE_URL", "")
    name = f"kt_imports_crash_{os.getpid()}"
    # a fresh ``kartoteka init`` (copied from the run's template: see tests/installs.py)
    env = copy_of(tmp_path_factory, "init", tmp_path / "data", name)
    env["DJANGO_SETTINGS_MODULE"] = "kartoteka.config.settings"
    env["KARTOTEKA_IMPORT_CHUNK"] = str(CHUNK)
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    yield env
    if pg_url.startswith("postgres"):
        _postgres_database(pg_url, name, drop_only=True)


def _state(env) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", STATE], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _rows_done(env, after: int) -> int:
    """The committed rows of the batch after batch ``after``, read straight from the database."""
    query = f"SELECT rows_done FROM imports_importbatch WHERE id > {int(after)} ORDER BY id LIMIT 1"
    url = env.get("DATABASE_URL", "")
    try:
        if url.startswith("postgres"):
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                row = conn.execute(query).fetchone()
        else:
            path = Path(env["KARTOTEKA_DATA_DIR"]) / "kartoteka.sqlite3"
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=20) as conn:
                row = conn.execute(query).fetchone()
    except (sqlite3.Error, Exception):
        return 0
    return int(row[0]) if row else 0


def _import_and_kill(env, path: Path, after: int = 0) -> None:
    """Start the import, wait for its first committed chunk, kill -9 it a random moment
    later (while it still runs)."""
    child = subprocess.Popen(
        [sys.executable, "-m", "kartoteka.cli", "import", str(path), "--table", "counterparties"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while _rows_done(env, after) == 0:
        assert child.poll() is None, "the import ended before its first chunk was seen"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(random.uniform(0, 1.5))
    assert child.poll() is None, "the import finished before it was killed; use a bigger file"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL


def _assert_interrupted(state: dict, expected: list[str]) -> None:
    done = state["rows_done"]
    assert state["status"] == "interrupted"
    assert 0 < done < ROWS and done % CHUNK == 0
    # exactly the rows reported, each once, and nothing of the chunk that was under way
    assert state["created"] == done == state["history"]
    assert state["names"] == expected[:done]
    assert state["next_row"] == done + 2
    assert f"продолжить со строки {done + 2}." in state["message"]


def test_a_killed_import_is_shown_undone_and_resumed(database, tmp_path):
    env = database
    expected = [f"Фирма {i}" for i in range(1, ROWS + 1)]
    path = write_csv(tmp_path / "firms.csv", [["Название"]] + [[n] for n in expected])
    # when: an import is killed mid-way
    _import_and_kill(env, path)
    # then: «прервано», with exactly what was written
    state = _state(env)
    _assert_interrupted(state, expected)
    # when: it is undone
    report = json.loads(cli(env, "import-undo", str(state["batch"]), "--json"))
    # then: nothing of it is left
    assert report["deleted"] == state["created"]
    assert _state(env)["names"] == []
    # when: another import is killed, then resumed
    _import_and_kill(env, path, after=state["batch"])
    state = _state(env)
    _assert_interrupted(state, expected)
    resumed = json.loads(cli(env, "import-resume", str(state["batch"]), "--json"))
    # then: the rest is imported, no row twice
    assert resumed == {
        "batch": state["batch"],
        "from_row": state["next_row"],
        "created": ROWS,
        "updated": 0,
        "skipped": 0,
        "errors": 0,
    }
    final = _state(env)
    assert final["status"] == "done"
    assert final["names"] == expected
    assert final["history"] == ROWS
