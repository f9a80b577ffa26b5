"""Rules of the built-in CRM tables (SPEC §4), registered in ``table_rules``.

This module holds the work-log basics every path relies on: «Статус до» is filled from the
counterparty's current status and is never typed by a person, and the counterparty's status is
the resulting status of its latest *done* work row (by date, then id), recomputed whenever rows
are added, edited, completed, archived, deleted or restored.
"""

from __future__ import annotations

from typing import Any

from kartoteka.core.actor import Actor
from kartoteka.records.rules import RowChange, RuleContext, TableRules, table_rules
from kartoteka.tables.modelfactory import STATE_ACTIVE
from kartoteka.tables.models import Table


def _counterparties() -> Table:
    return Table.objects.get(key="counterparties")


class ClientWorkRules(TableRules):
    table_key = "client_work"

    def prepare(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        from kartoteka.tables.modelfactory import model_for

        parents = {r.get("counterparty") for r in rows if r.is_create}
        parents.discard(None)
        if not parents:
            return
        model = model_for(_counterparties())
        status = dict(model.objects.filter(pk__in=parents).values_list("pk", "status"))
        for row in rows:
            if row.is_create and row.get("counterparty") in status:
                row.values["status_before"] = status[row.get("counterparty")]

    def after_save(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        parents = {r.get("counterparty") for r in rows}
        parents |= {r.old.get("counterparty") for r in rows if r.old.get("counterparty")}
        recompute_status(ctx.actor, {p for p in parents if p})

    def after_state(self, ctx: RuleContext, records: list[Any], state: str) -> None:
        recompute_status(ctx.actor, {r.counterparty_id for r in records if r.counterparty_id})


def recompute_status(actor: Actor, counterparty_ids: set[int]) -> None:
    """Set each counterparty's status to the result of its latest done work row."""
    from kartoteka.records.services import update_records
    from kartoteka.tables.modelfactory import model_for

    if not counterparty_ids:
        return
    table = _counterparties()
    work = model_for(Table.objects.get(key="client_work"))
    latest: dict[int, str] = {}
    rows = (
        work.objects.filter(
            counterparty_id__in=counterparty_ids,
            done=True,
            record_state=STATE_ACTIVE,
            status__isnull=False,
        )
        .order_by("counterparty_id", "date", "id")
        .values_list("counterparty_id", "status")
    )
    for parent, status in rows:
        latest[parent] = status
    model = model_for(table)
    current = dict(model.objects.filter(pk__in=counterparty_ids).values_list("pk", "status"))
    # A counterparty with no done row keeps the status it was given (e.g. by an import).
    updates = {pk: {"status": s} for pk, s in latest.items() if pk in current and current[pk] != s}
    if updates:
        update_records(actor.via(f"{actor.source}:status"), table, updates)


def register_rules() -> None:
    if "client_work" not in table_rules:
        table_rules.register("client_work", ClientWorkRules())
