"""The background job of an import (run by ``kartoteka worker``, django-tasks' database backend)."""

from __future__ import annotations

from django_tasks import task


@task()
def run_import_task(batch_id: int) -> None:
    """Run a pending import batch; progress and the report are kept on the batch."""
    from kartoteka.imports.services import run_batch

    run_batch(batch_id)
