"""Documents of many records at once: one ZIP of files.

Up to :data:`SYNC_LIMIT` records are made while the user waits; more become a
:class:`~kartoteka.documents.models.DocumentBatch` that ``kartoteka worker`` runs with a progress
bar. Each document is written into the ZIP on disk as it is made, so memory stays flat however
many there are. A record that cannot be made (a template problem, a record the user may no
longer read) is named in the batch's errors — and in ``ОШИБКИ.txt`` inside the ZIP — and the
others still come out. Bulk documents are not kept on the records one by one.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, PermissionDenied
from kartoteka.documents import services
from kartoteka.documents.models import DocumentBatch, DocumentTemplate
from kartoteka.records import selectors as records

SYNC_LIMIT = 20
MAX_RECORDS = 10_000
PROGRESS_EVERY = 10


@dataclass
class ZipResult:
    path: str
    made: int
    errors: list[dict[str, Any]] = field(default_factory=list)


def _check(actor: Actor, template: DocumentTemplate, ids: list[int], fmt: str) -> None:
    if not ids:
        raise KartotekaError(_("Выберите записи."), code="no_records")
    if len(ids) > MAX_RECORDS:
        raise KartotekaError(
            _("Не больше %(n)s записей за раз.") % {"n": MAX_RECORDS}, code="too_many"
        )
    if fmt not in services.formats_of(template):
        raise KartotekaError(_("Этот формат для шаблона недоступен."), code="format_unavailable")
    records.get_table(actor, template.table.key)


def write_zip(
    actor: Actor,
    template: DocumentTemplate,
    ids: Iterable[int],
    fmt: str,
    target: str,
    progress: Any = None,
) -> ZipResult:
    """Make a document per record into the ZIP at ``target``, each also kept on its record;
    failures are listed, not fatal."""
    result = ZipResult(path=target, made=0)
    names: set[str] = set()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, pk in enumerate(ids, start=1):
            try:
                made = services.make_document(actor, template, pk, fmt)
                services.keep_document(actor, template, pk, fmt, made)
            except KartotekaError as exc:
                result.errors.append({"id": pk, "message": exc.message})
            else:
                name = made.filename
                if name in names:
                    name = f"{pk}-{name}"
                names.add(name)
                archive.writestr(name, made.data)
                result.made += 1
            if progress is not None and (index % PROGRESS_EVERY == 0):
                progress(index, result.errors)
        if result.errors:
            lines = [
                _("Запись №%(id)s: %(message)s") % {"id": e["id"], "message": e["message"]}
                for e in result.errors
            ]
            archive.writestr("ОШИБКИ.txt", "\n".join(lines) + "\n")
    return result


def make_zip_now(actor: Actor, template: DocumentTemplate, ids: list[int], fmt: str) -> ZipResult:
    """Up to :data:`SYNC_LIMIT` records, while the caller waits (a temporary file)."""
    _check(actor, template, ids, fmt)
    if len(ids) > SYNC_LIMIT:
        raise KartotekaError(_("Слишком много записей: запустите фоновую задачу."), code="too_many")
    handle, path = tempfile.mkstemp(prefix="kt-docs-", suffix=".zip")
    os.close(handle)
    return write_zip(actor, template, ids, fmt, path)


def start_batch(
    actor: Actor, template: DocumentTemplate, ids: list[int], fmt: str
) -> DocumentBatch:
    """A background batch for the actor; the worker runs it after the commit."""
    from kartoteka.documents.tasks import run_document_batch_task

    if actor.user is None:
        raise PermissionDenied(_("Фоновые документы делаются для пользователя."))
    _check(actor, template, ids, fmt)
    batch = DocumentBatch.objects.create(
        template=template, format=fmt, ids=list(ids), created_by=actor.user
    )
    transaction.on_commit(lambda: run_document_batch_task.enqueue(batch.pk))
    return batch


def run_batch(batch_id: int) -> DocumentBatch:
    """Run a pending batch as the user who started it."""
    batch = DocumentBatch.objects.select_related("template__table", "created_by").get(pk=batch_id)
    if batch.status != "pending":
        return batch
    batch.status = "running"
    batch.save(update_fields=["status"])
    actor = Actor.for_user(batch.created_by, source="document")

    def progress(done: int, errors: list[dict[str, Any]]) -> None:
        DocumentBatch.objects.filter(pk=batch.pk).update(done=done, errors=list(errors))

    handle, path = tempfile.mkstemp(prefix="kt-docs-", suffix=".zip")
    os.close(handle)
    try:
        result = write_zip(actor, batch.template, batch.ids, batch.format, path, progress)
        with open(path, "rb") as fh:
            batch.file = default_storage.save(f"documents/batches/{batch.pk}.zip", File(fh))
        batch.errors = result.errors
        batch.status = "done"
    except Exception as exc:  # a broken disk or storage: the batch says so, the worker goes on
        batch.status = "failed"
        batch.errors = [*batch.errors, {"id": None, "message": str(exc) or type(exc).__name__}]
    finally:
        os.unlink(path)
    batch.done = batch.total
    batch.finished_at = timezone.now()
    batch.save(update_fields=["file", "errors", "status", "done", "finished_at"])
    return batch


def get_batch(actor: Actor, pk: int) -> DocumentBatch:
    """A batch of the actor's own (administrators: any); ``NotFound`` otherwise."""
    from kartoteka.core.exceptions import NotFound

    batch = DocumentBatch.objects.select_related("template__table").filter(pk=pk).first()
    if batch is None or (batch.created_by_id != actor.user_id and not actor.is_admin):
        raise NotFound(_("Задача не найдена."))
    return batch
