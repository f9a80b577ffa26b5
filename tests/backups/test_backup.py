"""``kartoteka backup`` and ``kartoteka restore``.

The commands run as an administrator runs them: subprocesses on installations of their own (a
data directory and, under ``DATABASE_URL``, a PostgreSQL database each). The backup is taken while
another process keeps creating records with files through the records service; the restore must
bring back every record committed before the backup began, a consistent set of those committed
during it, and every file they name.
"""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest

from tests.backups.installation import FIXTURES, database_kind, installation, python, run

WRITER = """
import os, sys, time
import django; django.setup()
from django.core.files.uploadedfile import SimpleUploadedFile
from kartoteka.core.actor import Actor
from kartoteka.records.services import create_records
from kartoteka.tables import services

actor = Actor.system("writer")
table = services.create_table(actor, key="contracts", label="Договоры")
services.add_field(actor, table, key="title", label="Название", type="text")
services.add_field(actor, table, key="scan", label="Скан", type="file")
table.refresh_from_db()
stop, n = sys.argv[1], 0
while not os.path.exists(stop):
    n += 1
    scan = SimpleUploadedFile(f"скан-{n}.txt", (f"Скан договора №{n}\\n" * 40).encode())
    record = create_records(actor, table, [{"title": f"Договор {n}", "scan": scan}])[0]
    print(record.pk, n, flush=True)  # after the commit: create_records is one transaction
    time.sleep(0.03)
# a table made after the backup: a restore over this installation must take it away
services.create_table(actor, key="later", label="Позже")
"""

READ = """
import json, os
import django; django.setup()
from django.conf import settings
from django.core.files.storage import default_storage
from kartoteka.core.actor import Actor
from kartoteka.records.selectors import get_history, get_table, list_records, list_tables

actor = Actor.system("check")
table = get_table(actor, "contracts")
rows = []
for record in list_records(actor, table, state=None, ordering=["id"]):
    with default_storage.open(record.scan, "rb") as fh:
        content = fh.read().decode()
    history = [entry.action for entry in get_history(actor, table, record.pk)]
    rows.append([record.pk, record.title, record.scan, content, history])
media = sorted(
    os.path.relpath(os.path.join(folder, name), settings.MEDIA_ROOT)
    for folder, _dirs, names in os.walk(settings.MEDIA_ROOT) for name in names
)
print(json.dumps({"rows": rows, "media": media, "tables": [t.key for t in list_tables(actor)]},
                 ensure_ascii=False))
"""

# after READ: make a table again, printing its SQL table's name on a line of its own
NEW_TABLE = """
from kartoteka.tables import services
print(services.create_table(Actor.system("admin"), key="later", label="Позже").db_table)
"""


def _scan(n: int) -> str:
    return f"Скан договора №{n}\n" * 40


class Writer:
    """The writer process and the (record id, n) pairs it has committed, in order."""

    def __init__(self, env: dict[str, str], stop: Path) -> None:
        self.stop = stop
        self.errors = open(stop.with_suffix(".err"), "w+")  # noqa: SIM115 - closed in finish
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(stop)],
            env={**env, "DJANGO_SETTINGS_MODULE": "kartoteka.config.settings"},
            stdout=subprocess.PIPE,
            stderr=self.errors,
            text=True,
        )
        self.committed: list[tuple[int, int]] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)

    def wait_for(self, count: int, seconds: float = 120) -> list[tuple[int, int]]:
        """Wait until ``count`` records are committed; those committed so far."""
        deadline = time.monotonic() + seconds
        while len(self.committed) < count:
            try:
                pk, n = self._lines.get(timeout=max(0.1, deadline - time.monotonic())).split()
            except queue.Empty:
                self.errors.seek(0)
                raise AssertionError(
                    f"the writer wrote {len(self.committed)}: {self.errors.read()}"
                ) from None
            self.committed.append((int(pk), int(n)))
        return list(self.committed)

    def drain(self) -> list[tuple[int, int]]:
        """The records committed so far (as far as the writer has said)."""
        while not self._lines.empty():
            pk, n = self._lines.get().split()
            self.committed.append((int(pk), int(n)))
        return list(self.committed)

    def finish(self) -> list[tuple[int, int]]:
        self.stop.touch()
        code = self.proc.wait(timeout=120)
        self._reader.join(timeout=60)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        self.errors.seek(0)
        errors = self.errors.read()
        self.errors.close()
        assert (code, errors) == (0, "")
        return self.drain()


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory):
    """An installation (the demo company) backed up while a writer kept creating records with
    files in a table of its own: the archive,
    the records committed before the backup began and those committed before it ended, and
    the installation after the writer went on (and made a table) past the backup.

    The backup command takes a second to start before its snapshot, while the writer commits
    every few milliseconds: the snapshot falls amid the writes."""
    tmp = tmp_path_factory.mktemp("backup")
    with installation(tmp / "source", "source") as env:
        # the demo company with two files: quicker to restore than to make (init, demo)
        run(env, "restore", str(FIXTURES / f"{database_kind()}.tar.gz"))
        run(env, "init")  # brought up to this version's schema, as after an upgrade
        writer = Writer(env, tmp / "stop")
        try:
            before = writer.wait_for(15)
            archive = tmp / "kartoteka.tar.gz"
            done = run(env, "backup", "-o", str(archive), check=False)
            time.sleep(0.5)  # the writer's word on its commits comes through a pipe
            during = writer.drain()
            writer.wait_for(len(writer.committed) + 5)
        finally:
            written = writer.finish()
        assert done.returncode == 0, done.stderr
        yield {
            "env": env,
            "archive": archive,
            "stdout": done.stdout,
            "before": before,
            "during": during,
            "written": written,
        }


def _manifest(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as tar:
        return json.load(tar.extractfile("manifest.json"))


def _media(archive: Path) -> list[str]:
    with tarfile.open(archive, "r:gz") as tar:
        names = [m.name for m in tar.getmembers()]
    return sorted(n.removeprefix("data/media/") for n in names if n.startswith("data/media/"))


def test_a_backup_made_while_records_are_written_restores_every_committed_row_and_file(
    backed_up, tmp_path
):
    # given: the backup began after 15 records were committed and ended while more were
    before, written = backed_up["before"], backed_up["written"]
    manifest = _manifest(backed_up["archive"])
    # when: restored into a fresh installation
    with installation(tmp_path / "fresh", "fresh") as env:
        restored = run(env, "restore", str(backed_up["archive"]))
        init = run(env, "init")
        found = json.loads(python(env, READ))
    # then: a consistent prefix of the writes: all committed before the backup began, some
    # committed while it ran (up to its snapshot), none of those committed after
    count = manifest["counts"]["records"]["contracts"]
    ids = [row[0] for row in found["rows"]]
    assert len(before) < count <= len(backed_up["during"]) < len(written)
    assert backed_up["archive"].stat().st_mode & 0o777 == 0o600
    assert ids == [pk for pk, _n in written[:count]]
    assert found["rows"] == [
        [pk, f"Договор {n}", f"contracts/scan/скан-{n}.txt", _scan(n), ["create"]]
        for pk, n in written[:count]
    ]
    assert {row[2] for row in found["rows"]} <= set(found["media"])
    assert manifest["database"] == ("postgresql" if "DATABASE_URL" in env else "sqlite")
    assert manifest["counts"]["history"] >= count
    assert re.fullmatch(
        rf"Резервная копия записана: .*kartoteka\.tar\.gz \((SQLite|PostgreSQL); записей: \d+, "
        rf"записей истории: {manifest['counts']['history']}, файлов: {len(found['media'])}; "
        rf"\d+\.\d МБ\)\.\n",
        backed_up["stdout"],
    )
    assert restored.stdout.startswith(f"Восстановлено из {backed_up['archive']} (копия от ")
    assert restored.stdout.endswith(f"файлов: {len(found['media'])}.\n")
    assert found["media"] == _media(backed_up["archive"])
    assert {"companies/stamp/печать.png", "companies/signature/подпись.png"} <= set(found["media"])
    demo = _manifest(FIXTURES / f"{database_kind()}.tar.gz")["counts"]["records"]
    assert manifest["counts"]["records"] == demo | {"contracts": count}
    assert init.stdout == "База данных готова.\n"
    assert "later" not in found["tables"]


def test_restore_over_a_working_installation_needs_force_and_then_replaces_everything(
    backed_up,
):
    # given: the installation went on past the backup: more records, more files, a new table
    env, archive = backed_up["env"], backed_up["archive"]
    count = _manifest(archive)["counts"]["records"]["contracts"]
    now = json.loads(python(env, READ))
    # when
    refused = run(env, "restore", str(archive), check=False)
    # then: refused, nothing changed
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr == (
        "Ошибка: В базе данных установки уже есть таблицы: восстановление заменит их. "
        "Если так и нужно, повторите с --force.\n"
    )
    assert json.loads(python(env, READ)) == now
    assert len(now["rows"]) == len(backed_up["written"]) > count
    assert "later" in now["tables"]
    # when
    forced = run(env, "restore", "--force", str(archive))
    # then: the installation is the archive's: its records and files only, no later table —
    # and a table made now takes the freed id without colliding with a leftover SQL table
    read, made = python(env, READ + NEW_TABLE).splitlines()
    after = json.loads(read)
    assert forced.stdout.startswith("Восстановлено из ")
    assert [row[0] for row in after["rows"]] == [pk for pk, _n in backed_up["written"][:count]]
    assert after["media"] == _media(archive)
    assert {row[2] for row in after["rows"]} <= set(after["media"])
    assert "later" not in after["tables"]
    assert made.startswith("t_")
