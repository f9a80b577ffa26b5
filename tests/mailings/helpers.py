"""Builders for the campaign tests: clients with addresses, a campaign, its job run inline."""

from __future__ import annotations

import email
from email import policy
from typing import Any

from kartoteka.core.actor import Actor
from kartoteka.mailings import sending
from kartoteka.mailings.services import create_campaign, start_campaign
from kartoteka.records.services import create_records
from kartoteka.tables.models import Table

SYSTEM = Actor.system("test")


def counterparties() -> Table:
    return Table.objects.get(key="counterparties")


def clients(rows: list[dict[str, Any]], manager: Any = None) -> list[Any]:
    extra = {"manager": manager.pk} if manager is not None else {}
    return create_records(SYSTEM, counterparties(), [{**extra, **row} for row in rows])


def campaign(actor: Actor, ids: list[int] | None = None, **values: Any) -> Any:
    data = {
        "name": "Прайс",
        "channel": "email",
        "subject": "Прайс для {{ record.name }}",
        "body": "<p>Здравствуйте, {{ record.name }}!</p><p>Город: {{ record.city }}</p>",
        "record_ids": ids or [],
        **values,
    }
    return create_campaign(actor, counterparties(), data)


def send_all(actor: Actor, pk: int, **kwargs: Any) -> str:
    start_campaign(actor, pk)
    return sending.run(pk, **kwargs)


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)
