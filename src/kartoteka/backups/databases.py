"""The two databases a backup knows: a consistent copy out, a whole replacement in.

Both read the facts for the manifest (migrations applied, counts) from the very snapshot they
copy, with the same SQL, through a plain DB-API cursor — not Django's connection, which would
read the live database a moment later.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from kartoteka.records.models import RecordChange
from kartoteka.tables.models import Table

from .archive import BackupError

Facts = tuple[dict[str, list[str]], dict[str, Any]]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_facts(cursor: Any) -> Facts:
    """The migrations applied and the counts of a database, through a DB-API cursor.

    Returns:
        ``({app: [migration, …]}, {"users": n, "history": n, "tables": n,
        "records": {table key: n}})`` — records of every state (active, archived, deleted).
    """
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    migrations: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        migrations.setdefault(app, []).append(name)
    cursor.execute(f"SELECT key, db_table FROM {_quote(Table._meta.db_table)} ORDER BY key")
    records: dict[str, int] = {}
    for key, db_table in cursor.fetchall():
        cursor.execute(f"SELECT count(*) FROM {_quote(db_table)}")
        records[key] = cursor.fetchone()[0]
    counts: dict[str, Any] = {}
    for name, model in (("users", get_user_model()), ("history", RecordChange)):
        cursor.execute(f"SELECT count(*) FROM {_quote(model._meta.db_table)}")
        counts[name] = cursor.fetchone()[0]
    counts["tables"] = len(records)
    counts["records"] = records
    return migrations, counts


def _not_initialised() -> BackupError:
    return BackupError(
        _("База данных ещё не создана: сначала выполните «kartoteka init»."),
        code="backup_empty_database",
    )


class SqliteDatabase:
    """The embedded SQLite database file of an installation."""

    kind = "sqlite"

    def __init__(self, config: dict[str, Any]) -> None:
        self.path = Path(config["NAME"])
        self.timeout = float(config.get("OPTIONS", {}).get("timeout", 20))

    def server_version(self) -> str:
        return sqlite3.sqlite_version

    def snapshot(self, target: Path) -> Facts:
        """Copy the database to ``target`` with the online backup API, in one step."""
        if not self.path.is_file():
            raise _not_initialised()
        with (
            closing(sqlite3.connect(self.path, timeout=self.timeout)) as source,
            closing(sqlite3.connect(target)) as copy,
        ):
            # pages=-1: one step, one read transaction — a copy as of one commit, while
            # writers go on in WAL mode (a stepped copy would restart on every write).
            source.backup(copy, pages=-1)
        with closing(sqlite3.connect(target)) as copy:
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file in the archive
            try:
                return read_facts(copy.cursor())
            except sqlite3.DatabaseError:
                raise _not_initialised() from None

    def is_empty(self) -> bool:
        if not self.path.exists():
            return True
        with closing(sqlite3.connect(self.path, timeout=self.timeout)) as conn:
            found = conn.execute("SELECT count(*) FROM sqlite_master WHERE type='table'")
            return int(found.fetchone()[0]) == 0

    def check(self, staged: Path, archive: str) -> None:
        """Refuse a staged copy SQLite does not read as a sound database of ours."""
        try:
            with closing(sqlite3.connect(staged)) as conn:
                result = conn.execute("PRAGMA integrity_check").fetchall()
                conn.execute("SELECT count(*) FROM django_migrations").fetchone()
        except sqlite3.DatabaseError as exc:
            raise _unreadable(archive, str(exc)) from None
        if result != [("ok",)]:
            raise _unreadable(archive, "; ".join(str(r[0]) for r in result[:3]))

    def restore(self, staged: Path) -> None:
        """Replace the database with the staged copy: the backup API writes it into the live
        file in one transaction (it waits for, and then blocks, other connections' writes)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with (
            closing(sqlite3.connect(staged)) as source,
            closing(sqlite3.connect(self.path, timeout=self.timeout)) as target,
        ):
            source.backup(target, pages=-1)
            target.execute("PRAGMA journal_mode=WAL")


def _unreadable(archive: str, detail: str) -> BackupError:
    return BackupError(
        _("База данных в архиве «%(archive)s» повреждена: %(detail)s")
        % {"archive": archive, "detail": detail},
        code="backup_damaged",
    )


class PostgresDatabase:
    """A PostgreSQL database, dumped and restored with the client programs of its version.

    The programs are looked up in ``KARTOTEKA_PG_BIN`` when set (and only there), else in
    Debian's ``/usr/lib/postgresql/<server major>/bin``, else on ``PATH``. ``pg_dump`` older
    than the server cannot dump it and is refused up front with the reason.
    """

    kind = "postgresql"

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    # -- connections ------------------------------------------------------------------------

    def _params(self) -> dict[str, str]:
        c = self.config
        params = {
            "dbname": c.get("NAME") or "",
            "user": c.get("USER") or "",
            "password": c.get("PASSWORD") or "",
            "host": c.get("HOST") or "",
            "port": str(c.get("PORT") or ""),
        }
        params.update({k: str(v) for k, v in c.get("OPTIONS", {}).items() if k == "sslmode"})
        return {k: v for k, v in params.items() if v}

    def _env(self) -> dict[str, str]:
        names = {
            "dbname": "PGDATABASE",
            "user": "PGUSER",
            "password": "PGPASSWORD",
            "host": "PGHOST",
            "port": "PGPORT",
            "sslmode": "PGSSLMODE",
        }
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update({names[k]: v for k, v in self._params().items()})
        return env

    def _connect(self) -> Any:
        import psycopg

        try:
            return psycopg.connect(**self._params(), connect_timeout=10)  # type: ignore[arg-type]
        except psycopg.Error as exc:
            raise BackupError(
                _("Не удалось подключиться к базе «%(name)s»: %(error)s")
                % {"name": self.config.get("NAME"), "error": str(exc).strip()},
                code="backup_connection",
            ) from None

    def server_version(self) -> str:
        with closing(self._connect()) as conn:
            return _version_text(conn.info.server_version)

    # -- programs ---------------------------------------------------------------------------

    def program(self, name: str, server_major: int) -> str:
        """The path of ``pg_dump``/``pg_restore``/``psql`` to use with this server."""
        configured = getattr(settings, "KARTOTEKA_PG_BIN", "")
        if configured:
            folders = [Path(configured)]
        else:
            folders = [Path(f"/usr/lib/postgresql/{server_major}/bin")]
        for folder in folders:
            if (folder / name).is_file() and os.access(folder / name, os.X_OK):
                return str(folder / name)
        found = None if configured else shutil.which(name)
        if found is None:
            where = configured or f"/usr/lib/postgresql/{server_major}/bin, PATH"
            raise BackupError(
                _(
                    "Не найдена программа %(name)s (искали: %(where)s). Установите клиент "
                    "PostgreSQL %(major)s (в Debian — пакет postgresql-client-%(major)s) или "
                    "укажите папку с его программами в KARTOTEKA_PG_BIN."
                )
                % {"name": name, "where": where, "major": server_major},
                code="backup_no_pg_client",
            )
        return found

    def _checked_program(self, name: str, server_major: int) -> str:
        path = self.program(name, server_major)
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
        match = re.search(r"\)\s+(\d+)", done.stdout)
        major = int(match.group(1)) if match else 0
        if major < server_major:
            raise BackupError(
                _(
                    "%(path)s — версии %(version)s, а сервер PostgreSQL — версии %(server)s: "
                    "нужна программа версии не ниже сервера (пакет postgresql-client-%(server)s "
                    "или KARTOTEKA_PG_BIN)."
                )
                % {
                    "path": path,
                    "version": done.stdout.strip() or "?",
                    "server": server_major,
                },
                code="backup_pg_client_version",
            )
        return path

    # -- backup -----------------------------------------------------------------------------

    def snapshot(self, target: Path) -> Facts:
        """``pg_dump`` into ``target`` inside a snapshot the facts are read from as well."""
        import psycopg

        with closing(self._connect()) as conn:
            major = conn.info.server_version // 10000
            pg_dump = self._checked_program("pg_dump", major)
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            with conn.cursor() as cursor:
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
                cursor.execute(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
                    "AND tablename = 'django_migrations'"
                )
                if cursor.fetchone()[0] == 0:
                    raise _not_initialised()
                facts = read_facts(cursor)
                done = subprocess.run(
                    [
                        pg_dump,
                        "--format=custom",
                        "--compress=0",  # the archive is gzip'd as a whole
                        f"--snapshot={snapshot}",
                        "--no-owner",
                        "--no-privileges",
                        f"--file={target}",
                    ],
                    env=self._env(),
                    capture_output=True,
                    text=True,
                )
            conn.rollback()
        if done.returncode != 0:
            raise BackupError(
                _("pg_dump завершился с ошибкой: %(error)s") % {"error": done.stderr.strip()},
                code="backup_pg_dump",
            )
        return facts

    # -- restore ----------------------------------------------------------------------------

    def is_empty(self) -> bool:
        with closing(self._connect()) as conn:
            found = conn.execute(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S')"
            ).fetchone()
            return int(found[0]) == 0

    def check(self, staged: Path, archive: str) -> None:
        """Refuse a dump ``pg_restore`` cannot list (damaged, or from a newer ``pg_dump``)."""
        with closing(self._connect()) as conn:
            major = conn.info.server_version // 10000
        pg_restore = self._checked_program("pg_restore", major)
        done = subprocess.run(
            [pg_restore, "--list", str(staged)], capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            raise _unreadable(archive, done.stderr.strip())

    def restore(self, staged: Path) -> None:
        """Replace everything in the database's schema with the dump, in one transaction.

        ``pg_restore`` writes the dump as SQL into ``psql``, after a block that drops every
        table, view and sequence in the schema (``--clean`` would drop only what the dump holds,
        leaving a table created since to collide with a new table of the same id); ``COMMIT``
        is sent only when ``pg_restore`` finished well, so a failure anywhere leaves the
        database as it was.
        """
        with closing(self._connect()) as conn:
            major = conn.info.server_version // 10000
        pg_restore = self._checked_program("pg_restore", major)
        psql = self._checked_program("psql", major)
        env = self._env()
        # Errors go to files: a pipe nobody reads while the dump streams could fill and stall.
        with tempfile.TemporaryFile() as dump_log, tempfile.TemporaryFile() as client_log:
            with subprocess.Popen(
                [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=client_log,
                env=env,
            ) as client:
                with subprocess.Popen(
                    [pg_restore, "--no-owner", "--no-privileges", "--file=-", str(staged)],
                    stdout=subprocess.PIPE,
                    stderr=dump_log,
                    env=env,
                ) as dump:
                    assert client.stdin is not None and dump.stdout is not None
                    failed = _pump(client.stdin.write, dump.stdout.read, DROP_EVERYTHING)
                    dump_code = dump.wait()
                if not failed and dump_code == 0:
                    failed = _pump(client.stdin.write, lambda _size: b"", b"COMMIT;\n")
                try:
                    client.stdin.close()
                except BrokenPipeError:
                    failed = True
                client_code = client.wait()
            dump_log.seek(0)
            client_log.seek(0)
            dump_error, client_error = dump_log.read(), client_log.read()
        if dump_code != 0 or client_code != 0 or failed:
            detail = (dump_error or client_error).decode(errors="replace").strip()
            raise BackupError(
                _("Восстановить базу не удалось, она осталась как была: %(error)s")
                % {"error": detail},
                code="backup_pg_restore",
            )


DROP_EVERYTHING = b"""
SET client_min_messages = warning;
BEGIN;
DO $$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT c.relkind, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
    ORDER BY c.relkind DESC
  LOOP
    EXECUTE format(
      'DROP %s IF EXISTS %I CASCADE',
      CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                     WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
      r.relname);
  END LOOP;
END $$;
"""


def _pump(write: Callable[[bytes], Any], read: Callable[[int], bytes], first: bytes) -> bool:
    """Write ``first`` then everything ``read`` gives; True when the reader went away."""
    try:
        write(first)
        while chunk := read(1024 * 1024):
            write(chunk)
    except BrokenPipeError:
        return True
    return False


def _version_text(number: int) -> str:
    return f"{number // 10000}.{number % 10000}"


def database_for(config: dict[str, Any]) -> SqliteDatabase | PostgresDatabase:
    """The backup driver of a Django database configuration."""
    engine = config["ENGINE"]
    if engine.endswith("sqlite3"):
        return SqliteDatabase(config)
    if "postgresql" in engine:
        return PostgresDatabase(config)
    raise BackupError(
        _("Резервное копирование базы %(engine)s не поддерживается.") % {"engine": engine},
        code="backup_engine",
    )
