"""Background tasks of webhooks, run by ``kartoteka worker`` (django-tasks, database backend)."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_webhook(delivery_id: int) -> str:
    """One attempt at one delivery (see :func:`kartoteka.webhooks.services.deliver`)."""
    from kartoteka.webhooks.services import deliver

    return deliver(delivery_id)
