"""Record events: what other apps (webhooks, later notifications) learn about record writes.

The records service calls :func:`emit` once per batch, inside its transaction, right after the
history rows are written — for every path (form, bulk edit, import, API, web form, action, CLI).
A listener gets one :class:`RecordEvent` per batch and decides for itself what to do; one that
talks to the outside world must do so *after the commit* (``transaction.on_commit``) or write an
outbox row in the same transaction, so a rolled-back write never leaks out.

Listeners are registered from ``AppConfig.ready()`` with :func:`register_listener`. They must be
cheap when they have nothing to do (the webhooks listener costs one indexed query per batch when
no webhook is configured). This is an explicit call from the service, not a Django signal: the
service states where events happen, and a listener cannot silently miss a write path.

Events:

- ``created`` — records were created; ``changed`` lists the fields that got a value;
- ``updated`` — fields changed (``changed`` lists them), or the record moved to or from the
  archive (``record_state`` is in ``changed``);
- ``deleted`` — records went to the trash, or were purged without having been trashed first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kartoteka.core.actor import Actor
from kartoteka.tables.models import Table

CREATED = "created"
UPDATED = "updated"
DELETED = "deleted"
EVENTS = (CREATED, UPDATED, DELETED)


@dataclass(frozen=True)
class RecordEvent:
    """One batch of one kind of change to records of one table.

    Attributes:
        event: ``created``, ``updated`` or ``deleted``.
        actor: who changed the records (its ``source`` tells the path).
        table: the table of the records.
        records: the model instances as they are after the change (before a purge).
        changed: per record (same order), the keys of the fields that changed.
    """

    event: str
    actor: Actor
    table: Table
    records: Sequence[Any]
    changed: Sequence[Sequence[str]]


RecordListener = Callable[[RecordEvent], None]
_listeners: list[RecordListener] = []


def register_listener(listener: RecordListener) -> None:
    """Add ``listener`` (once) to the functions every record event is passed to."""
    if listener not in _listeners:
        _listeners.append(listener)


def emit(
    event: str,
    actor: Actor,
    table: Table,
    records: Sequence[Any],
    changed: Sequence[Sequence[str]],
) -> None:
    """Pass one batch event to every listener; nothing happens for an empty batch."""
    if not records or not _listeners:
        return
    record_event = RecordEvent(event, actor, table, list(records), [list(c) for c in changed])
    for listener in list(_listeners):
        listener(record_event)
