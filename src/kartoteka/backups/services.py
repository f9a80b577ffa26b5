"""Making a backup of an installation and restoring one: the two operations of the CLI.

Both take the installation explicitly (its data directory and Django database configuration)
rather than reading settings, so a test can point them at any installation.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from django.db import connections
from django.utils import timezone
from django.utils.translation import gettext as _

from .archive import (
    DATA_FILES,
    DATA_PREFIX,
    MANIFEST,
    MEDIA,
    ArchiveWriter,
    BackupError,
    Manifest,
    media_files,
    unpack,
)
from .databases import database_for


@dataclass
class BackupReport:
    """What ``make_backup`` wrote."""

    path: Path
    manifest: Manifest
    media_files: int
    size: int


@dataclass
class RestoreReport:
    """What ``restore_backup`` put back; ``upgrade_needed`` when the archive's database lacks
    migrations this version has (``kartoteka init`` brings it up to date)."""

    manifest: Manifest
    media_files: int
    upgrade_needed: bool


def kartoteka_version() -> str:
    try:
        return version("kartoteka")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "unknown"


def make_backup(output: Path, *, data_dir: Path, database: dict[str, Any]) -> BackupReport:
    """Write a backup of the installation to ``output`` while it keeps working.

    The database is copied first, then the files (see the package's docstring for why that
    order keeps every file a copied row names). ``output`` appears only once it is complete.

    Raises:
        BackupError: the database is not created yet, its client programs are missing, or the
            output cannot be written; no ``output`` is left behind.
    """
    db = database_for(database)
    output = Path(output).absolute()
    if not output.parent.is_dir():
        raise BackupError(
            _("Папки «%(folder)s» нет: архив записать некуда.") % {"folder": output.parent},
            code="backup_no_folder",
        )
    try:
        work = Path(tempfile.mkdtemp(prefix=".kartoteka-backup-", dir=output.parent))
    except OSError as exc:
        raise _unwritable(output, exc) from None
    try:
        created_at = timezone.now().isoformat(timespec="seconds")
        staged = work / ("database.sqlite3" if db.kind == "sqlite" else "database.pgdump")
        migrations, counts = db.snapshot(staged)
        manifest = Manifest(
            database=db.kind,
            created_at=created_at,
            kartoteka_version=kartoteka_version(),
            server_version=db.server_version(),
            migrations=migrations,
            counts=counts,
        )
        files = 0
        with ArchiveWriter(output) as writer:
            writer.add_bytes(MANIFEST, manifest.to_json())
            writer.add_file(manifest.database_member, staged)
            for name, path in media_files(Path(data_dir) / MEDIA):
                files += writer.add_file(name, path)
            for name in DATA_FILES:
                if (Path(data_dir) / name).is_file():
                    writer.add_file(f"{DATA_PREFIX}/{name}", Path(data_dir) / name)
    except OSError as exc:
        raise _unwritable(output, exc) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BackupReport(output, manifest, files, output.stat().st_size)


def _unwritable(output: Path, exc: OSError) -> BackupError:
    return BackupError(
        _("Не удалось записать архив «%(path)s»: %(error)s")
        % {"path": output, "error": exc.strerror or exc},
        code="backup_unwritable",
    )


def restore_backup(
    archive: Path, *, data_dir: Path, database: dict[str, Any], force: bool = False
) -> RestoreReport:
    """Replace the installation's database and files with those of a backup.

    The archive is unpacked into a staging directory and verified whole (checksums, member
    names, the database readable) before the database is replaced; the media directory is then
    swapped in by a rename. Stop the web server and workers first.

    Args:
        archive: a file made by :func:`make_backup`.
        data_dir: the installation's data directory (``KARTOTEKA_DATA_DIR``).
        database: the installation's Django database configuration.
        force: replace a database that has tables or a media directory that has files.

    Raises:
        BackupError: the installation is not empty (without ``force``), the archive is foreign,
            damaged, newer than this version or of another kind of database; nothing changed.
    """
    db = database_for(database)
    archive = Path(archive)
    data_dir = Path(data_dir)
    if not archive.is_file():
        raise BackupError(_("Файла «%(path)s» нет.") % {"path": archive}, code="backup_no_archive")
    if not force:
        if not db.is_empty():
            raise BackupError(
                _(
                    "В базе данных установки уже есть таблицы: восстановление заменит их. "
                    "Если так и нужно, повторите с --force."
                ),
                code="backup_not_empty",
            )
        if next(media_files(data_dir / MEDIA), None) is not None:
            raise BackupError(
                _(
                    "В папке данных «%(folder)s» уже есть загруженные файлы: восстановление "
                    "заменит их. Если так и нужно, повторите с --force."
                )
                % {"folder": data_dir / MEDIA},
                code="backup_not_empty",
            )
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=data_dir))
    try:
        unpacked = unpack(archive, staging, expect=db.kind)
        upgrade_needed = _check_migrations(unpacked.manifest, str(archive))
        db.check(unpacked.database, str(archive))
        connections.close_all()
        db.restore(unpacked.database)
        _swap_data(unpacked.data, data_dir, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RestoreReport(unpacked.manifest, unpacked.media_files, upgrade_needed)


def _check_migrations(manifest: Manifest, archive: str) -> bool:
    """Refuse an archive whose database has migrations this version does not know (made by a
    newer version); True when this version has migrations the archive's database lacks."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    for key, migration in loader.disk_migrations.items():
        if migration.replaces:
            known.update((key[0], name) for _app, name in migration.replaces)
    apps = {app for app, _name in known}
    applied = {(app, name) for app, names in manifest.migrations.items() for name in names}
    newer = sorted(
        f"{app}.{name}" for app, name in applied if app in apps and (app, name) not in known
    )
    if newer:
        raise BackupError(
            _(
                "Архив «%(archive)s» сделан более новой версией Картотеки (%(version)s): в его "
                "базе есть изменения схемы, которых эта версия не знает (%(names)s). "
                "Обновите Картотеку и восстановите снова."
            )
            % {
                "archive": archive,
                "version": manifest.kartoteka_version,
                "names": ", ".join(newer[:5]),
            },
            code="backup_newer",
        )
    return bool({key for key in loader.disk_migrations if key[0] in apps} - applied)


def _swap_data(staged: Path, data_dir: Path, staging: Path) -> None:
    """Put the staged media directory and secrets in place; the old media go with staging."""
    media = data_dir / MEDIA
    if media.exists():
        os.replace(media, staging / "old-media")
    os.replace(staged / MEDIA, media)
    for name in DATA_FILES:
        if (staged / name).is_file():
            os.replace(staged / name, data_dir / name)
