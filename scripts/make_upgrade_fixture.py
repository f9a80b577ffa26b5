"""Make the upgrade test's fixtures: an installation of today's release, as backups.

    .venv/bin/python scripts/make_upgrade_fixture.py [--pg-url postgres://postgres@127.0.0.1:5432/x]

For SQLite, and for PostgreSQL when ``--pg-url`` (or ``DATABASE_URL``) names a server, it makes a
fresh installation — ``kartoteka init``, ``kartoteka demo --counterparties 12`` (seed 2026), a
stamp and a signature uploaded to «Моя компания» — and writes into ``tests/fixtures/upgrade/``:

- ``<database>.tar.gz`` — ``kartoteka backup`` of it: the database as this release's code made it
  (its migrations, its runtime tables) and the uploaded files;
- ``installation.json`` — what the installation holds, read through the selectors
  (``tests/backups/installation.py``: every record's values, its history, every file's digest),
  which ``tests/backups/test_upgrade.py`` expects to find again after ``kartoteka init`` of a
  later release has upgraded the restored backup. The demo is the same on both databases (one
  seed, one day), so one description serves both archives; the script stops if they differ.

Run it again (and commit the result) only when the fixtures should move to a newer release: the
point of them is to stay as this release left them. PostgreSQL's ``pg_dump`` custom format is
read by every later ``pg_restore``.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
)

from tests.backups.installation import describe, installation, python, run  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "upgrade"

ATTACH = """
import sys
import django; django.setup()
from django.core.files.uploadedfile import SimpleUploadedFile
from kartoteka.core.actor import Actor
from kartoteka.records.selectors import get_table, list_records
from kartoteka.records.services import update_records
actor = Actor.system("fixture")
table = get_table(actor, "companies")
company = list_records(actor, table, ordering=["id"]).first()
stamp, signature = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
update_records(actor, table, {company.pk: {
    "stamp": SimpleUploadedFile("печать.png", stamp, content_type="image/png"),
    "signature": SimpleUploadedFile("подпись.png", signature, content_type="image/png"),
}})
"""


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A small valid PNG of one colour (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height, 9))
        + chunk(b"IEND", b"")
    )


def make(kind: str, pg_url: str) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        installation(Path(tmp) / "data", "fixture", pg_url) as env,
    ):
        run(env, "init")
        run(env, "demo", "--counterparties", "12", "--seed", "2026")
        stamp, signature = Path(tmp) / "stamp.png", Path(tmp) / "signature.png"
        stamp.write_bytes(png(40, 40, (180, 20, 40)))
        signature.write_bytes(png(60, 20, (20, 40, 160)))
        python(env, ATTACH, str(stamp), str(signature))
        FIXTURES.mkdir(parents=True, exist_ok=True)
        archive = FIXTURES / f"{kind}.tar.gz"
        print(run(env, "backup", "-o", str(archive)).stdout.strip())
        text = json.dumps(describe(env), ensure_ascii=False, sort_keys=True, indent=1)
        expected = FIXTURES / "installation.json"
        if kind == "sqlite":
            expected.write_text(text + "\n")
        elif expected.read_text() != text + "\n":
            sys.exit(f"The {kind} installation differs from the SQLite one: {expected}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=os.environ.get("DATABASE_URL", ""))
    args = parser.parse_args()
    make("sqlite", "")
    if args.pg_url.startswith("postgres"):
        make("postgresql", args.pg_url)
    else:
        print("PostgreSQL: no --pg-url or DATABASE_URL given, its fixture is left as it was.")


if __name__ == "__main__":
    main()
