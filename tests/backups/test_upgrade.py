"""Upgrades: an installation of an earlier release comes through ``kartoteka init`` whole.

There is no release tag to check out, so the earlier release is a fixture made by today's code
(``scripts/make_upgrade_fixture.py``: ``init``, the demo company, two uploaded files) and kept as
it was: ``tests/fixtures/upgrade/<database>.tar.gz`` are ``kartoteka backup`` archives of that
installation on SQLite and on PostgreSQL, and ``installation.json`` describes what it holds.

Why backups and not one portable dump for both databases: what an upgrade starts from is the
database as the earlier release's code left it — its applied migrations *and* the runtime tables
(``kt_*``, ``t_*``) its schema editor built. A portable dump (``dumpdata``, rows as JSON) carries
rows, not tables: loading it means building the tables again with the code under test, which is
exactly what must not be assumed. Each archive holds its own database's DDL as written back then,
and restoring it is what an administrator upgrading from a backup does too. The description is
one for both: the demo is the same on both databases, and the script refuses to write fixtures
that differ.
"""

from __future__ import annotations

import json

from tests.backups.installation import FIXTURES, database_kind, describe, installation, run


def _as_expected(found: dict, expected: dict) -> dict:
    """``found`` cut to what the fixture describes: an upgrade may add fields and history
    entries, but every record, value, history entry and file of the fixture must be there."""
    tables = {}
    for key, records in expected["tables"].items():
        now = found["tables"].get(key, {})
        tables[key] = {
            pk: {
                "state": now[pk]["state"],
                "values": {k: now[pk]["values"].get(k, "—missing—") for k in record["values"]},
                "history": now[pk]["history"][: len(record["history"])],
            }
            for pk, record in records.items()
            if pk in now
        } | {pk: "—missing—" for pk in now.keys() - records.keys()}
    files = {name: found["files"].get(name, "—missing—") for name in expected["files"]}
    return {"tables": tables, "files": files}


def test_init_upgrades_the_earlier_release_keeping_every_record_history_row_and_file(tmp_path):
    # given: the earlier release's installation restored into a fresh one
    expected = json.loads((FIXTURES / "installation.json").read_text())
    with installation(tmp_path / "data", "upgrade") as env:
        restored = run(env, "restore", str(FIXTURES / f"{database_kind()}.tar.gz"))
        # when
        upgraded = run(env, "init")
        # then
        found = describe(env)
        again = run(env, "init")
    assert "записей: 87, записей истории: 127, файлов: 2." in restored.stdout
    assert upgraded.stdout.startswith("База данных готова.")
    assert again.stdout == "База данных готова.\n"
    assert _as_expected(found, expected) == expected
