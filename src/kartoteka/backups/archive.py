"""The backup archive: a gzip'd tar with a manifest first and checksums last.

Members, in this order::

    manifest.json                 what made the archive (see ``Manifest``)
    database.sqlite3 | database.pgdump
    data/media/…                  uploaded files (the data directory's ``media``)
    data/secret_key               the installation's generated key (sessions stay valid)
    data/admin-credentials.txt    the first administrator's generated log-in, when kept
    SHA256SUMS                    sha256 of every member above, ``sha256sum -c`` format

Reading is one pass over a stream (``r|gz``) that writes each member to a staging directory under
a name this module builds itself — ``tarfile``'s own extraction is never used — so a hostile
member name cannot reach outside the staging directory, and a damaged archive is known before
anything outside it changes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.utils.translation import gettext as _

from kartoteka.core.exceptions import KartotekaError

FORMAT = "kartoteka-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHECKSUMS = "SHA256SUMS"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
DATA_PREFIX = "data"
# What of the data directory a backup carries: the uploaded files and the generated secrets.
# The SQLite database is the database member; ``static`` is rebuilt by the application.
DATA_FILES = ("secret_key", "admin-credentials.txt")
MEDIA = "media"
CHUNK = 1024 * 1024


class BackupError(KartotekaError):
    """A backup could not be made or an archive cannot be restored; nothing was changed."""

    code = "backup"


@dataclass
class Manifest:
    """What an archive holds: written first, read before anything else is unpacked."""

    database: str
    created_at: str
    kartoteka_version: str
    server_version: str
    migrations: dict[str, list[str]]
    counts: dict[str, Any]
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    @property
    def database_member(self) -> str:
        return DATABASE_MEMBERS[self.database]

    def to_json(self) -> bytes:
        data = {
            "format": self.format,
            "format_version": self.format_version,
            "kartoteka_version": self.kartoteka_version,
            "database": self.database,
            "server_version": self.server_version,
            "created_at": self.created_at,
            "migrations": self.migrations,
            "counts": self.counts,
        }
        return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False).encode()

    @classmethod
    def from_json(cls, raw: bytes, archive: str) -> Manifest:
        try:
            data = json.loads(raw.decode())
        except (UnicodeDecodeError, ValueError):
            # ours by its name, first in the archive, but garbled
            raise _damaged(archive, _("Он обрезан или испорчен.")) from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise _foreign(archive)
        if data.get("format_version") != FORMAT_VERSION:
            raise BackupError(
                _(
                    "Архив «%(archive)s» записан в формате версии %(version)s, а эта версия "
                    "Картотеки читает только версию %(supported)s."
                )
                % {
                    "archive": archive,
                    "version": data.get("format_version"),
                    "supported": FORMAT_VERSION,
                },
                code="backup_format",
            )
        try:
            manifest = cls(
                database=str(data["database"]),
                created_at=str(data["created_at"]),
                kartoteka_version=str(data["kartoteka_version"]),
                server_version=str(data.get("server_version", "")),
                migrations={str(k): [str(n) for n in v] for k, v in data["migrations"].items()},
                counts=dict(data["counts"]),
            )
        except (KeyError, TypeError, AttributeError):
            raise _damaged(archive) from None
        if manifest.database not in DATABASE_MEMBERS:
            raise _damaged(archive)
        return manifest


def _foreign(archive: str) -> BackupError:
    return BackupError(
        _("Файл «%(archive)s» — не резервная копия Картотеки.") % {"archive": archive},
        code="backup_foreign",
    )


def _damaged(archive: str, detail: str = "") -> BackupError:
    message = _("Архив «%(archive)s» повреждён: восстановить из него нельзя.") % {
        "archive": archive
    }
    if detail:
        message += " " + detail
    return BackupError(message, code="backup_damaged")


class _Hashing:
    """A read-only stream over ``source`` that hashes what is read through it."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.hash.update(data)
        return data


class ArchiveWriter:
    """Writes an archive to ``path`` through a temporary file renamed into place at the end,
    so a failed or interrupted backup never leaves a file that looks like a backup."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(f".{path.name}.partial")
        self.sums: dict[str, str] = {}
        self._tar: tarfile.TarFile | None = None
        self._file: Any = None

    def __enter__(self) -> ArchiveWriter:
        # Readable by the owner only: the archive holds everything, password hashes and the
        # secret key included.
        fd = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._file = os.fdopen(fd, "wb")
        self._tar = tarfile.open(
            fileobj=self._file, mode="w:gz", compresslevel=6, format=tarfile.PAX_FORMAT
        )
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        assert self._tar is not None
        if exc_type is None:
            lines = "".join(f"{digest}  {name}\n" for name, digest in self.sums.items())
            self._add_bytes(CHECKSUMS, lines.encode(), hashed=False)
            self._tar.close()
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self.partial, self.path)
        else:
            self._tar.close()
            self._file.close()
            self.partial.unlink(missing_ok=True)

    def add_bytes(self, name: str, data: bytes) -> None:
        self._add_bytes(name, data, hashed=True)

    def _add_bytes(self, name: str, data: bytes, *, hashed: bool) -> None:
        assert self._tar is not None
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mtime = int(time.time())
        info.mode = 0o600
        self._tar.addfile(info, io.BytesIO(data))
        if hashed:
            self.sums[name] = hashlib.sha256(data).hexdigest()

    def add_file(self, name: str, source: Path) -> bool:
        """Add a file; False when it vanished since it was listed (a file deleted meanwhile)."""
        assert self._tar is not None
        try:
            fh = open(source, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            return False
        with fh:
            stat = os.fstat(fh.fileno())
            info = tarfile.TarInfo(name)
            info.size = stat.st_size
            info.mtime = int(stat.st_mtime)
            info.mode = 0o644 if name.startswith(f"{DATA_PREFIX}/{MEDIA}/") else 0o600
            stream = _Hashing(fh)
            self._tar.addfile(info, stream)  # type: ignore[arg-type]  # only read() is used
        self.sums[name] = stream.hash.hexdigest()
        return True


def media_files(media_root: Path) -> Iterator[tuple[str, Path]]:
    """Regular files under the media directory as (archive member name, path), in a stable
    order; symbolic links are not followed (they could point anywhere)."""
    if not media_root.is_dir():
        return
    for folder, dirs, files in os.walk(media_root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                continue
            rel = path.relative_to(media_root).as_posix()
            yield f"{DATA_PREFIX}/{MEDIA}/{rel}", path


@dataclass
class Unpacked:
    """An archive unpacked and verified in a staging directory."""

    manifest: Manifest
    database: Path
    data: Path  # the staged copy of the data directory's files (``media``, secrets)
    media_files: int


def _data_path(name: str, archive: str) -> PurePosixPath:
    """The path under ``data/`` a member may take, or a refusal naming it."""
    path = PurePosixPath(name)
    parts = path.parts
    bad = (
        not name
        or "\\" in name
        or "\x00" in name
        or path.is_absolute()
        or any(part in ("", ".", "..") for part in name.split("/"))
    )
    if bad or len(parts) < 2 or parts[0] != DATA_PREFIX:
        raise _bad_member(archive, name)
    rel = PurePosixPath(*parts[1:])
    if rel.parts[0] == MEDIA or (len(rel.parts) == 1 and rel.name in DATA_FILES):
        return rel
    raise _bad_member(archive, name)


def _bad_member(archive: str, name: str) -> BackupError:
    return BackupError(
        _(
            "Архив «%(archive)s» содержит недопустимый элемент «%(name)s»: восстановить из него "
            "нельзя."
        )
        % {"archive": archive, "name": name[:200]},
        code="backup_bad_member",
    )


def _copy(source: IO[bytes], target: Path, mode: int) -> str:
    digest = hashlib.sha256()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def unpack(path: Path, staging: Path, *, expect: str | None = None) -> Unpacked:
    """Unpack the archive at ``path`` into ``staging`` (an empty directory) and verify it.

    Args:
        path: the archive.
        staging: where to unpack; the caller removes it.
        expect: the kind of database the archive must hold (``sqlite``/``postgresql``), checked
            as soon as the manifest is read.

    Raises:
        BackupError: the file is not our archive, is damaged, holds a member that is not ours,
            or holds another kind of database.
    """
    archive = str(path)
    manifest: Manifest | None = None
    sums: dict[str, str] = {}
    listed: dict[str, str] | None = None
    seen: set[str] = set()
    data = staging / DATA_PREFIX
    data.mkdir()
    (data / MEDIA).mkdir()
    media = 0
    try:
        with tarfile.open(path, "r|gz") as tar:
            for member in tar:
                name = member.name
                if listed is not None:
                    raise _damaged(archive, _("После списка контрольных сумм есть ещё данные."))
                if name in seen:
                    raise _bad_member(archive, name)
                seen.add(name)
                if manifest is None:
                    if name != MANIFEST or not member.isfile() or member.size > CHUNK:
                        raise _foreign_or_damaged(tar, archive)
                    raw = _read(tar, member)
                    manifest = Manifest.from_json(raw, archive)
                    if expect is not None and manifest.database != expect:
                        raise _wrong_database(archive, manifest.database, expect)
                    sums[name] = hashlib.sha256(raw).hexdigest()
                    continue
                if name == CHECKSUMS and member.isfile():
                    listed = _parse_sums(_read(tar, member), archive)
                    continue
                if name == manifest.database_member and member.isfile():
                    sums[name] = _copy(_extract(tar, member), staging / name, 0o600)
                    continue
                rel = _data_path(name, archive)
                target = data.joinpath(*rel.parts)
                if not os.path.realpath(target).startswith(os.path.realpath(data) + os.sep):
                    raise _bad_member(archive, name)
                if member.isdir() and rel.parts[0] == MEDIA:
                    target.mkdir(parents=True, exist_ok=True)
                elif member.isfile():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    mode = 0o600 if rel.parts[0] != MEDIA else 0o644
                    sums[name] = _copy(_extract(tar, member), target, mode)
                    media += rel.parts[0] == MEDIA
                else:
                    raise _bad_member(archive, name)
    except BackupError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError):
        if manifest is None and not _gzip(path):
            raise _foreign(archive) from None
        raise _damaged(archive, _("Он обрезан или испорчен.")) from None
    if manifest is None:
        raise _foreign(archive)
    if listed is None:
        raise _damaged(archive, _("Нет списка контрольных сумм: архив, видимо, обрезан."))
    if listed != sums:
        wrong = sorted(set(listed) ^ set(sums) | {n for n in sums if listed.get(n) != sums[n]})
        raise _damaged(
            archive, _("Не совпадают контрольные суммы: %(names)s.") % {"names": ", ".join(wrong)}
        )
    database = staging / manifest.database_member
    if not database.is_file():
        raise _damaged(archive, _("В нём нет базы данных."))
    return Unpacked(manifest=manifest, database=database, data=data, media_files=media)


def _foreign_or_damaged(tar: tarfile.TarFile, archive: str) -> BackupError:
    """The first member is not our manifest: a foreign archive if the rest reads well, a
    damaged one (a manifest garbled in the stream) if it does not."""
    try:
        for _member in tar:
            pass
    except (tarfile.TarError, EOFError, zlib.error, OSError):
        return _damaged(archive, _("Он обрезан или испорчен."))
    return _foreign(archive)


def _gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _wrong_database(archive: str, found: str, expect: str) -> BackupError:
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    return BackupError(
        _(
            "Архив «%(archive)s» сделан с базой %(found)s, а эта установка работает на "
            "%(expect)s: перенести данные между разными базами резервной копией нельзя."
        )
        % {"archive": archive, "found": names[found], "expect": names[expect]},
        code="backup_wrong_database",
    )


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    stream = tar.extractfile(member)
    assert stream is not None  # a regular file always has a stream
    return stream


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    return _extract(tar, member).read()


def _parse_sums(raw: bytes, archive: str) -> dict[str, str]:
    sums: dict[str, str] = {}
    try:
        for line in raw.decode().splitlines():
            digest, sep, name = line.partition("  ")
            if not sep or len(digest) != 64 or name in sums:
                raise ValueError(line)
            sums[name] = digest
    except (UnicodeDecodeError, ValueError):
        raise _damaged(archive, _("Список контрольных сумм не читается.")) from None
    return sums
