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

from django.core.files.storage import default_storage
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from kartoteka.core.actor import Actor
from kartoteka.imports import checks
from kartoteka.imports.options import ImportSettings
from kartoteka.imports.readers import ImportFileError
from kartoteka.imports.services import _Plan, max_upload_bytes, open_file
from kartoteka.tables.models import Table

SESSION_KEY = "import_wizard"
#: Uploads the session keeps (the oldest are forgotten and their files removed).
MAX_UPLOADS = 5


class UploadGone(Http404):
    """The upload named in the URL is not in this session (any more)."""


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
    if size > max_upload_bytes():
        raise too_big()


def too_big() -> ImportFileError:
    return ImportFileError(
        _(
            "Файл больше %(max)s МБ — такой файл загрузить нельзя. Разделите его на части или "
            "загрузите командой «kartoteka import»."
        )
        % {"max": max_upload_bytes() // 2**20}
    )


class CappedUploadHandler(FileUploadHandler):
    """Stops reading an upload as soon as it is known to be over :func:`max_upload_bytes`
    (by the request's declared length, or by the bytes received): the rest of the body is
    read and thrown away, nothing of the file is kept, and :attr:`too_big` tells the view."""

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.limit = max_upload_bytes()
        self.declared = 0
        self.received = 0
        self.too_big = False

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: Any = None
    ) -> None:
        self.declared = content_length or 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        # the form's other fields and the multipart framing take a few kilobytes at most
        if self.declared > self.limit + 64 * 1024 or self.received > self.limit:
            self.too_big = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


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
        oldest = uploads.pop(next(iter(uploads)))["path"]
        checks.forget(oldest)
        default_storage.delete(oldest)
    uploads[token] = asdict(upload)
    request.session[SESSION_KEY] = uploads
    return upload


def get(request: HttpRequest, table: Table, token: str) -> Upload:
    data = request.session.get(SESSION_KEY, {}).get(token)
    if not data or data["table"] != table.key or not default_storage.exists(data["path"]):
        raise UploadGone(_("Загруженный файл не найден: загрузите его ещё раз."))
    return Upload(**data)


def save(request: HttpRequest, upload: Upload) -> None:
    uploads = request.session.get(SESSION_KEY, {})
    uploads[upload.token] = asdict(upload)
    request.session[SESSION_KEY] = uploads


def discard(request: HttpRequest, upload: Upload) -> None:
    uploads = request.session.get(SESSION_KEY, {})
    uploads.pop(upload.token, None)
    request.session[SESSION_KEY] = uploads
    checks.forget(upload.path)
    default_storage.delete(upload.path)


def check_settings(
    actor: Actor, table: Table, headers: list[str], settings: ImportSettings
) -> None:
    """Raise :class:`ImportFileError` when the mapping, key or defaults do not fit the table
    (the same checks the import makes before it writes anything)."""
    _Plan(actor, table, headers, settings)
