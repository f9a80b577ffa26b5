"""The import wizard's state between its steps: the uploaded file and the settings chosen so far.

An upload is kept in the default storage (``<data dir>/media/imports/wizard/<token>/``) and
described in the user's session under a random token, so the steps are plain pages whose URL
names the token. Nothing is written to the database until the import starts; then
:func:`kartoteka.imports.services.start_import` keeps its own copy of the file for the batch and
the wizard's copy is removed.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings as conf
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from kartoteka.core.actor import Actor
from kartoteka.imports.options import ImportSettings
from kartoteka.imports.readers import ImportFileError
from kartoteka.imports.services import _Plan, open_file
from kartoteka.tables.models import Table

SESSION_KEY = "import_wizard"
#: Uploads the session keeps (the oldest are forgotten and their files removed).
MAX_UPLOADS = 5
#: The largest file the wizard accepts, in bytes (``IMPORT_MAX_UPLOAD_BYTES`` in settings).
DEFAULT_MAX_UPLOAD_BYTES = 300 * 1024 * 1024


def max_upload_bytes() -> int:
    return int(getattr(conf, "IMPORT_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


@dataclass
class Upload:
    """One file on its way through the wizard."""

    token: str
    table: str
    name: str
    path: str
    settings: dict[str, Any] = field(default_factory=dict)
    #: The template the settings came from (its name), if any.
    template: str = ""

    @property
    def import_settings(self) -> ImportSettings:
        return ImportSettings.from_json(self.settings)

    @property
    def full_path(self) -> str:
        return default_storage.path(self.path)

    def open(self, *, lenient: bool = False) -> Any:
        return open_file(self.full_path, self.name, self.import_settings, lenient=lenient)


def _safe_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return re.sub(r"[^\w.\- ]+", "_", base).strip(" .") or "file"


def check_size(size: int) -> None:
    limit = max_upload_bytes()
    if size > limit:
        raise ImportFileError(
            _(
                "Файл слишком большой: %(size)s МБ, а можно не больше %(max)s МБ. Разделите его "
                "на части или загрузите командой «kartoteka import»."
            )
            % {"size": _megabytes(size), "max": _megabytes(limit)}
        )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",").replace(",0", "")


def store(request: HttpRequest, table: Table, uploaded: Any, settings: ImportSettings) -> Upload:
    """Keep an uploaded file for the wizard; :class:`ImportFileError` (and nothing kept) when it
    is too big or cannot be read as a table."""
    check_size(uploaded.size)
    token = secrets.token_hex(12)
    name = _safe_name(uploaded.name or "")
    path = default_storage.save(f"imports/wizard/{token}/{name}", uploaded)
    upload = Upload(token=token, table=table.key, name=name, path=path, settings=settings.to_json())
    try:
        upload.open(lenient=True)
    except ImportFileError:
        default_storage.delete(path)
        raise
    uploads = request.session.get(SESSION_KEY, {})
    while len(uploads) >= MAX_UPLOADS:
        oldest = next(iter(uploads))
        default_storage.delete(uploads.pop(oldest)["path"])
    uploads[token] = asdict(upload)
    request.session[SESSION_KEY] = uploads
    return upload


def get(request: HttpRequest, table: Table, token: str) -> Upload:
    data = request.session.get(SESSION_KEY, {}).get(token)
    if not data or data["table"] != table.key or not default_storage.exists(data["path"]):
        raise Http404(_("Загруженный файл не найден: загрузите его ещё раз."))
    return Upload(**data)


def save(request: HttpRequest, upload: Upload) -> None:
    uploads = request.session.get(SESSION_KEY, {})
    uploads[upload.token] = asdict(upload)
    request.session[SESSION_KEY] = uploads


def discard(request: HttpRequest, upload: Upload) -> None:
    uploads = request.session.get(SESSION_KEY, {})
    uploads.pop(upload.token, None)
    request.session[SESSION_KEY] = uploads
    default_storage.delete(upload.path)


def check_settings(
    actor: Actor, table: Table, headers: list[str], settings: ImportSettings
) -> None:
    """Raise :class:`ImportFileError` when the mapping, key or defaults do not fit the table
    (the same checks the import makes before it writes anything)."""
    _Plan(actor, table, headers, settings)
