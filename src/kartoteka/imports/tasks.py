"""The background job of an import (run by ``kartoteka worker``, django-tasks' database backend)."""

from __future__ import annotations

from django_tasks import task


@task()
def run_import_task(batch_id: int) -> None:
    """Run a pending import batch; progress and the report are kept on the batch."""
    from kartoteka.imports.services import run_batch, settle_all

    settle_all()
    run_batch(batch_id)


@task()
def run_check_task(check_id: int) -> None:
    """Run the dry run of a big file for the wizard; progress and result are kept on the check."""
    from kartoteka.imports.checks import run_check
    from kartoteka.imports.services import settle_all

    settle_all()
    run_check(check_id)


@task()
def undo_import_task(batch_id: int, user_id: int | None) -> None:
    """Undo a big import for the user who asked; progress and the report are kept on the batch."""
    from kartoteka.imports.services import run_undo, settle_all

    settle_all()
    run_undo(batch_id, user_id)
