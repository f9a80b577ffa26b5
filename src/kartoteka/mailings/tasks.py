"""The campaign's background job (django-tasks, database backend; ``kartoteka worker``)."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from kartoteka.mailings import sending


def enqueue(campaign_id: int, when: dt.datetime | None = None) -> None:
    if when is None:
        send_campaign.enqueue(campaign_id)
    else:
        send_campaign.using(run_after=when).enqueue(campaign_id)


@task()
def send_campaign(campaign_id: int) -> str:
    """Send a campaign's due recipients; enqueues itself again for retries or the SMS window."""
    return sending.run(campaign_id, schedule=enqueue)
