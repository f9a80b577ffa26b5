"""Installations made once per test run and copied: ``kartoteka init`` (and ``demo``) take
seconds of a loaded machine each, and several process-level tests (the browser tests' server,
the killed import, the racing workers) only need one as their starting point, not as what they
check. The first worker that asks builds the template under a lock; every test gets its own copy:
a copied data directory (the SQLite file with it) and, on PostgreSQL, a database made with
``CREATE DATABASE … TEMPLATE``. The templates' databases are dropped when the run ends
(:func:`drop_templates`, from ``tests/conftest.py``).

Tests of ``init`` itself (``tests/test_cli_contract.py``, ``tests/backups``) still run it."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

#: Names this run's templates, shared by the xdist workers (set by the controller first).
RUN_TAG = "KARTOTEKA_TEST_RUN_TAG"
#: What a template runs, by its name.
RECIPES: dict[str, tuple[tuple[str, ...], ...]] = {
    "init": (("init",),),
    "demo": (("init",), ("demo", "--counterparties", "80")),
}


def run_tag() -> str:
    return os.environ.setdefault(RUN_TAG, uuid.uuid4().hex[:10])


def _pg_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgres") else ""


def _admin_connection(url: str):
    import psycopg

    base, _sep, _db = url.rpartition("/")
    return psycopg.connect(f"{base}/postgres", autocommit=True)


def _template_db(kind: str) -> str:
    return f"kt_tpl_{run_tag()}_{kind}"


def _base_env(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "KARTOTEKA_DATA_DIR": str(data_dir)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DATABASE_URL", None)
    return env


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def cli(env: dict[str, str], *args: str) -> str:
    """``kartoteka ARGS`` in the installation of ``env``; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "kartoteka.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def template(tmp_path_factory: pytest.TempPathFactory, kind: str) -> Path:
    """The data directory of the ``kind`` template (see :data:`RECIPES`), built on first use."""
    # Under xdist each worker's base temp is a folder of the run's shared one.
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    root = root / f"kt-templates-{run_tag()}"
    root.mkdir(exist_ok=True)
    data_dir = root / kind
    with _locked(root / f"{kind}.lock"):
        if (root / f"{kind}.ready").exists():
            return data_dir
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir()
        env = _base_env(data_dir)
        url = _pg_url()
        if url:
            name = _template_db(kind)
            with _admin_connection(url) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}"')
            env["DATABASE_URL"] = f"{url.rpartition('/')[0]}/{name}"
        for args in RECIPES[kind]:
            cli(env, *args)
        (root / f"{kind}.ready").touch()
    return data_dir


def copy_of(
    tmp_path_factory: pytest.TempPathFactory, kind: str, data_dir: Path, db_name: str
) -> dict[str, str]:
    """The environment of a fresh copy of the ``kind`` template: its files in ``data_dir``
    and, on PostgreSQL, a database ``db_name`` (dropped first if a run before left it)."""
    source = template(tmp_path_factory, kind)
    shutil.copytree(source, data_dir, dirs_exist_ok=True)
    env = _base_env(data_dir)
    url = _pg_url()
    if url:
        with _admin_connection(url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{db_name}" TEMPLATE "{_template_db(kind)}"')
        env["DATABASE_URL"] = f"{url.rpartition('/')[0]}/{db_name}"
    return env


def drop_templates() -> None:
    """Drop this run's template databases (the controller calls it once the workers are done)."""
    url = _pg_url()
    tag = os.environ.get(RUN_TAG)
    if not url or not tag:
        return
    with _admin_connection(url) as conn:
        names = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"kt_tpl_{tag}_%",)
        ).fetchall()
        for (name,) in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
