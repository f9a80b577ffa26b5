"""The background job of bulk documents (run by ``kartoteka worker``)."""

from __future__ import annotations

from django_tasks import task


@task()
def run_document_batch_task(batch_id: int) -> None:
    """Make the documents of a batch into one ZIP; progress and errors are kept on the batch."""
    from kartoteka.documents.bulk import run_batch

    run_batch(batch_id)
