"""The dry run of a big file as a background job, so the wizard's «Проверка» step never waits.

A dry run reads, converts and matches every row — for a million rows that is minutes, far longer
than a web request may take. Files up to :data:`~kartoteka.imports.services.BACKGROUND_ROWS` rows
are checked during the request as before (:func:`kartoteka.imports.services.dry_run`); for bigger
ones :func:`check_for` keeps an :class:`~kartoteka.imports.models.ImportCheck` that the worker
runs (:func:`run_check`, from :mod:`kartoteka.imports.tasks`) with its progress on the row, and
whose stored result :func:`result_of` turns back into the :class:`ImportResult` the page shows.

A check belongs to one user's upload with one set of settings: going back and changing the mapping
makes a new check and removes the old one; starting the import removes them all.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.core import leases
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError
from kartoteka.imports import services
from kartoteka.imports.models import ImportCheck
from kartoteka.imports.options import ImportSettings
from kartoteka.imports.services import ImportResult, RowError, RowPlan
from kartoteka.tables.models import Table

#: Rows a stored check keeps one by one (the totals count every row).
KEPT_PLANS = 500
#: Seconds between progress writes.
PROGRESS_EVERY = 1.0


def check_for(
    actor: Actor, table: Table, path: str, name: str, settings: ImportSettings
) -> ImportCheck | None:
    """The background check of this upload with these settings, started when there is none yet
    and the file has more than ``BACKGROUND_ROWS`` rows; ``None`` for a file small enough to be
    checked now. A check that failed stays, to say why, until the settings change.
    """
    assert actor.user is not None
    wanted = settings.to_json()
    mine = ImportCheck.objects.filter(user=actor.user, table=table, file_path=path)
    for check in mine:
        if check.settings == wanted:
            services.settle([check])
            if check.status != ImportCheck.INTERRUPTED:
                return check
            # Its process died: start it again (below, in place of the old one).
    table_file = services.open_file(default_storage.path(path), name, settings)
    rows = table_file.count_rows()
    if rows <= services.BACKGROUND_ROWS:
        return None
    with transaction.atomic():
        mine.delete()
        check = ImportCheck.objects.create(
            table=table,
            user=actor.user,
            file_name=name,
            file_path=path,
            settings=wanted,
            rows_total=rows,
        )
        from kartoteka.imports.tasks import run_check_task

        transaction.on_commit(lambda: run_check_task.enqueue(check.pk))
    return check


def forget(path: str) -> None:
    """Remove the checks of an upload (its import has started, or the upload is gone)."""
    ImportCheck.objects.filter(file_path=path).delete()


def run_check(check_id: int) -> None:
    """Run a pending check (the background job): the dry run with progress, then its result."""
    claimed = ImportCheck.objects.filter(pk=check_id, status=ImportCheck.PENDING).update(
        status=ImportCheck.RUNNING, started_at=timezone.now(), **leases.lease()
    )
    if not claimed:
        return
    check = ImportCheck.objects.select_related("table", "user").get(pk=check_id)
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY:
            last[0] = now
            leases.beat(ImportCheck, check_id, rows_done=done, rows_total=total)

    try:
        result = services.dry_run(
            Actor.for_user(check.user, source="import-check"),
            check.table,
            default_storage.path(check.file_path),
            check.file_name,
            ImportSettings.from_json(check.settings),
            progress=progress,
            total=check.rows_total,
        )
    except Exception as exc:
        message = (
            exc.message
            if isinstance(exc, KartotekaError)
            else _("Проверка прервана из-за внутренней ошибки: %(e)s") % {"e": exc}
        )
        ImportCheck.objects.filter(pk=check_id).update(
            status=ImportCheck.FAILED, message=message, finished_at=timezone.now(), lease_owner=""
        )
        if not isinstance(exc, KartotekaError):
            raise
        return
    ImportCheck.objects.filter(pk=check_id).update(
        status=ImportCheck.DONE,
        rows_done=result.rows,
        rows_total=result.rows,
        result=_as_json(result),
        finished_at=timezone.now(),
        lease_owner="",
    )


def _as_json(result: ImportResult) -> dict[str, Any]:
    return {
        "rows": result.rows,
        "created": result.created,
        "updated": result.updated,
        "skipped": result.skipped,
        "error_count": result.error_count,
        "created_targets": result.created_targets,
        "plans": [
            {
                "row": p.row,
                "action": p.action,
                "record_id": p.record_id,
                "changes": [list(c) for c in p.changes],
                "reason": p.reason,
                "errors": [e.as_json() for e in p.errors],
            }
            for p in result.plans[:KEPT_PLANS]
        ],
    }


def result_of(check: ImportCheck) -> ImportResult:
    """The stored result of a finished check, as the dry run returned it (first rows only)."""
    data = check.result
    return ImportResult(
        rows=data["rows"],
        created=data["created"],
        updated=data["updated"],
        skipped=data["skipped"],
        error_count=data["error_count"],
        created_targets=data["created_targets"],
        plans=[
            RowPlan(
                row=p["row"],
                action=p["action"],
                record_id=p["record_id"],
                changes=[(c[0], c[1], c[2]) for c in p["changes"]],
                reason=p["reason"],
                errors=[RowError(**e) for e in p["errors"]],
            )
            for p in data["plans"]
        ],
    )
