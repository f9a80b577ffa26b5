"""What a restore refuses — damaged, foreign, hostile or newer archives, another database, an
installation with data — and that a refusal leaves everything as it was.

The services run in this process against an installation of their own: a fresh data directory
and a fresh SQLite file or PostgreSQL database (no Django connection is involved). The archives
are the committed upgrade fixtures (real ``kartoteka backup`` archives of both databases),
damaged here member by member.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from collections.abc import Callable
from pathlib import Path

import dj_database_url
import pytest

from kartoteka.backups.archive import BackupError
from kartoteka.backups.databases import database_for
from kartoteka.backups.services import make_backup, restore_backup
from tests.e2e.conftest import _postgres_database

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "upgrade"
PG_URL = os.environ.get("DATABASE_URL", "")
ON_PG = PG_URL.startswith("postgres")
KIND, OTHER = ("postgresql", "sqlite") if ON_PG else ("sqlite", "postgresql")
ARCHIVE = FIXTURES / f"{KIND}.tar.gz"
Members = list[tuple[tarfile.TarInfo, bytes | None]]


@pytest.fixture
def target(tmp_path):
    """A fresh installation: (data directory, database configuration)."""
    data = tmp_path / "data"
    data.mkdir()
    if ON_PG:
        name = f"kartoteka_backup_target_{os.getpid()}"
        database = dj_database_url.parse(_postgres_database(PG_URL, name))
        yield data, database
        _postgres_database(PG_URL, name, drop_only=True)
    else:
        yield (
            data,
            {"ENGINE": "django.db.backends.sqlite3", "NAME": str(data / "kartoteka.sqlite3")},
        )


def _members(archive: Path) -> Members:
    with tarfile.open(archive, "r:gz") as tar:
        return [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]


def _pack(members: Members, path: Path) -> Path:
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, None if data is None else io.BytesIO(data))
    return path


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def _with_sums(members: Members) -> Members:
    """The members with SHA256SUMS written again for them (a consistent, hostile archive)."""
    kept = [(i, d) for i, d in members if i.name != "SHA256SUMS"]
    sums = "".join(f"{hashlib.sha256(d).hexdigest()}  {i.name}\n" for i, d in kept if d is not None)
    return [*kept, _file("SHA256SUMS", sums.encode())]


def _replace(name: str, change: Callable[[bytes], bytes]) -> Callable[[Members], Members]:
    return lambda members: [(i, change(d) if i.name == name else d) for i, d in members]


def _newer_manifest(data: bytes) -> bytes:
    manifest = json.loads(data)
    manifest["migrations"]["crm"].append("9999_from_a_later_release")
    return json.dumps(manifest).encode()


def _flip(data: bytes) -> bytes:
    return data[:100] + bytes([data[100] ^ 1]) + data[101:]


STAMP = "data/media/companies/stamp/печать.png"
DAMAGED = "Архив «{archive}» повреждён: восстановить из него нельзя."
BAD_MEMBER = (
    "Архив «{archive}» содержит недопустимый элемент «{name}»: восстановить из него нельзя."
)
FOREIGN = "Файл «{archive}» — не резервная копия Картотеки."

CASES = {
    "a file changed": (
        _replace(STAMP, _flip),
        DAMAGED + " Не совпадают контрольные суммы: " + STAMP + ".",
    ),
    "the checksums missing": (
        lambda members: [(i, d) for i, d in members if i.name != "SHA256SUMS"],
        DAMAGED + " Нет списка контрольных сумм: архив, видимо, обрезан.",
    ),
    "a file added": (
        lambda members: [*members[:-1], _file("data/media/x.txt", b"x"), members[-1]],
        DAMAGED + " Не совпадают контрольные суммы: data/media/x.txt.",
    ),
    "a path out of the directory": (
        lambda m: _with_sums([*m[:2], _file("data/media/../../../../escape.txt", b"x"), *m[2:]]),
        BAD_MEMBER.replace("{name}", "data/media/../../../../escape.txt"),
    ),
    "an absolute path": (
        lambda m: _with_sums([*m[:2], _file("/tmp/kartoteka-escape.txt", b"x"), *m[2:]]),
        BAD_MEMBER.replace("{name}", "/tmp/kartoteka-escape.txt"),
    ),
    "a path outside the data files": (
        lambda m: _with_sums([*m[:2], _file("data/kartoteka.sqlite3", b"x"), *m[2:]]),
        BAD_MEMBER.replace("{name}", "data/kartoteka.sqlite3"),
    ),
    "a symbolic link": (
        lambda members: [
            *members[:2],
            (tarfile.TarInfo("data/media/link"), None),
            *members[2:],
        ],
        BAD_MEMBER.replace("{name}", "data/media/link"),
    ),
    "a foreign archive": (
        lambda members: [_file("notes.txt", b"hello"), *members[1:]],
        FOREIGN,
    ),
    "a newer release's archive": (
        lambda m: _with_sums(_replace("manifest.json", _newer_manifest)(m)),
        "Архив «{archive}» сделан более новой версией Картотеки (0.1.0): в его базе есть "
        "изменения схемы, которых эта версия не знает (crm.9999_from_a_later_release). "
        "Обновите Картотеку и восстановите снова.",
    ),
}


def _symlinks(members: Members) -> Members:
    for info, _data in members:
        if info.name == "data/media/link":
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    return members


def _nothing_changed(tmp_path: Path, data: Path, database: dict, archives: Path) -> None:
    assert [p for p in tmp_path.rglob("*") if archives not in (p, *p.parents)] == [data]
    assert not Path("/tmp/kartoteka-escape.txt").exists()
    assert database_for(database).is_empty()


@pytest.mark.parametrize("case", CASES)
def test_restore_refuses_a_damaged_foreign_or_hostile_archive_and_changes_nothing(
    case, target, tmp_path
):
    # given
    data, database = target
    archives = tmp_path / "archives"
    archives.mkdir()
    change, message = CASES[case]
    archive = _pack(_symlinks(change(_members(ARCHIVE))), archives / "broken.tar.gz")
    # when
    with pytest.raises(BackupError) as refused:
        restore_backup(archive, data_dir=data, database=database)
    # then
    assert refused.value.message == message.format(archive=archive)
    _nothing_changed(tmp_path, data, database, archives)


@pytest.mark.parametrize(
    "damage",
    [lambda raw: raw[: len(raw) // 2], lambda raw: raw[:500] + bytes(2000) + raw[2500:]],
    ids=["cut short", "overwritten inside"],
)
def test_restore_refuses_a_cut_or_overwritten_archive_and_changes_nothing(damage, target, tmp_path):
    # given
    data, database = target
    archives = tmp_path / "archives"
    archives.mkdir()
    archive = archives / "broken.tar.gz"
    archive.write_bytes(damage(ARCHIVE.read_bytes()))
    # when
    with pytest.raises(BackupError) as refused:
        restore_backup(archive, data_dir=data, database=database)
    # then
    assert refused.value.message == DAMAGED.format(archive=archive) + " Он обрезан или испорчен."
    _nothing_changed(tmp_path, data, database, archives)


def test_restore_refuses_a_file_that_is_not_an_archive(target, tmp_path):
    # given
    data, database = target
    archives = tmp_path / "archives"
    archives.mkdir()
    archive = archives / "clients.csv"
    archive.write_text("ИНН;Название\n7707083893;ПАО Сбербанк\n", encoding="cp1251")
    # when
    with pytest.raises(BackupError) as refused:
        restore_backup(archive, data_dir=data, database=database)
    # then
    assert refused.value.message == FOREIGN.format(archive=archive)
    _nothing_changed(tmp_path, data, database, archives)


def test_restore_refuses_an_archive_of_the_other_database(target, tmp_path):
    # given
    data, database = target
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    archive = FIXTURES / f"{OTHER}.tar.gz"
    # when
    with pytest.raises(BackupError) as refused:
        restore_backup(archive, data_dir=data, database=database)
    # then
    assert refused.value.message == (
        f"Архив «{archive}» сделан с базой {names[OTHER]}, а эта установка работает на "
        f"{names[KIND]}: перенести данные между разными базами резервной копией нельзя."
    )
    assert [p for p in tmp_path.rglob("*")] == [data]
    assert database_for(database).is_empty()


def test_restore_refuses_a_database_member_its_database_cannot_read(target, tmp_path):
    # given: checksums that match a database member that is not a database
    data, database = target
    archives = tmp_path / "archives"
    archives.mkdir()
    member = f"database.{'pgdump' if ON_PG else 'sqlite3'}"
    junk = b"PGDMP" + bytes(5000) if ON_PG else b"SQLite format 3\x00" + bytes(5000)
    change = _replace(member, lambda _data: junk)
    archive = _pack(_with_sums(change(_members(ARCHIVE))), archives / "broken.tar.gz")
    # when
    with pytest.raises(BackupError) as refused:
        restore_backup(archive, data_dir=data, database=database)
    # then
    assert refused.value.message.startswith(f"База данных в архиве «{archive}» повреждена: ")
    assert refused.value.code == "backup_damaged"
    _nothing_changed(tmp_path, data, database, archives)


def test_restore_refuses_a_data_directory_with_files_unless_forced(target, tmp_path):
    # given: a fresh database but an uploaded file in the data directory
    data, database = target
    (data / "media" / "docs").mkdir(parents=True)
    (data / "media" / "docs" / "договор.pdf").write_bytes(b"%PDF-1.4 old")
    # when
    with pytest.raises(BackupError) as refused:
        restore_backup(ARCHIVE, data_dir=data, database=database)
    # then
    assert refused.value.message == (
        f"В папке данных «{data / 'media'}» уже есть загруженные файлы: восстановление заменит "
        "их. Если так и нужно, повторите с --force."
    )
    assert sorted(p.relative_to(data).as_posix() for p in data.rglob("*")) == [
        "media",
        "media/docs",
        "media/docs/договор.pdf",
    ]
    assert database_for(database).is_empty()
    # when
    report = restore_backup(ARCHIVE, data_dir=data, database=database, force=True)
    # then: the archive's files only
    assert sorted(p.relative_to(data).as_posix() for p in (data / "media").rglob("*.*")) == [
        "media/companies/signature/подпись.png",
        "media/companies/stamp/печать.png",
    ]
    assert (report.media_files, report.manifest.counts["history"]) == (2, 127)
    assert not database_for(database).is_empty()


def test_restore_of_an_older_release_says_init_must_upgrade_it(target, tmp_path):
    # given: an archive whose database lacks this version's latest «crm» migration
    data, database = target
    archives = tmp_path / "archives"
    archives.mkdir()

    def older(raw: bytes) -> bytes:
        manifest = json.loads(raw)
        manifest["migrations"]["crm"].pop()
        return json.dumps(manifest).encode()

    change = _replace("manifest.json", older)
    archive = _pack(_with_sums(change(_members(ARCHIVE))), archives / "older.tar.gz")
    # when
    report = restore_backup(archive, data_dir=data, database=database)
    # then
    assert report.upgrade_needed is True
    assert (report.media_files, report.manifest.counts["history"]) == (2, 127)


def test_backup_of_an_installation_without_a_database_is_refused_and_writes_nothing(
    target, tmp_path
):
    # given
    data, database = target
    output = tmp_path / "backup.tar.gz"
    # when
    with pytest.raises(BackupError) as refused:
        make_backup(output, data_dir=data, database=database)
    # then
    assert refused.value.message == (
        "База данных ещё не создана: сначала выполните «kartoteka init»."
    )
    assert sorted(tmp_path.iterdir()) == [data]


def test_backup_into_a_missing_folder_is_refused(target, tmp_path):
    # given
    data, database = target
    output = tmp_path / "no-such-folder" / "backup.tar.gz"
    # when
    with pytest.raises(BackupError) as refused:
        make_backup(output, data_dir=data, database=database)
    # then
    assert refused.value.message == f"Папки «{output.parent}» нет: архив записать некуда."
    assert sorted(tmp_path.iterdir()) == [data]


@pytest.mark.skipif(not ON_PG, reason="pg_dump is PostgreSQL's: the run on PostgreSQL checks it")
def test_backup_without_pg_dump_says_what_to_install_and_writes_nothing(target, tmp_path, settings):
    # given: KARTOTEKA_PG_BIN names a folder without the PostgreSQL client
    data, database = target
    settings.KARTOTEKA_PG_BIN = str(tmp_path / "bin")
    output = tmp_path / "backup.tar.gz"
    # when
    with pytest.raises(BackupError) as refused:
        make_backup(output, data_dir=data, database=database)
    # then
    assert refused.value.message == (
        f"Не найдена программа pg_dump (искали: {tmp_path / 'bin'}). Установите клиент "
        "PostgreSQL 15 (в Debian — пакет postgresql-client-15) или укажите папку с его "
        "программами в KARTOTEKA_PG_BIN."
    )
    assert sorted(tmp_path.iterdir()) == [data]
