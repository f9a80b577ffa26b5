"""Rules of the sales process (SPEC §4), registered in ``table_rules`` for the built-in tables.

They hold whichever way a change arrives — card, bulk edit, import, API, web form, action, CLI —
because the records service runs them on every write. A refusal is a
:class:`~kartoteka.core.exceptions.RuleViolation` whose message names the rule, in Russian.

«Работа с клиентом» (``client_work``):

- «Статус до» is filled from the counterparty's current status when a row is added and is never
  typed by a person (the field is read-only).
- The two system work types («Выставление счёта», «Получение оплаты») and the two stages they
  lead to («Выписан счёт», «Получена оплата») are set by the actions and the payment rule only; a
  person picking one is refused, so the funnel's last stages always mean a real invoice and a
  real payment.
- Forward only: a row's resulting status may not be earlier than its «Статус до» in the stage
  order (the order of the status options, «Отказ» outside it). Skipping forward is allowed.
  «Отказ» may be chosen at any stage before «Получена оплата». A refused counterparty stays
  refused; only an administrator may reopen it (his row and the status change are in history).
- A done row may not be dated after today (work is done on a day that has come), so the latest
  done row is also the latest work and the card, the rows' «Статус до» and the funnel agree.
- The counterparty's status is the resulting status of its latest *done* row (by date, then id),
  recomputed when rows are added, edited, completed, archived, deleted or restored. With no done
  row left it returns to the «Статус до» of its earliest row.
- Once the counterparty is a client, new rows carry no status, and rows from the potential
  period (those with a «Статус до») can no longer be edited or deleted.

«Контрагенты»: the status follows the work — a person cannot set it directly on an existing
counterparty (a new one may be given a status, e.g. by an import). Its type changes by the
payment rule; by hand only an administrator changes it.

Both tables keep the sales funnel's stage-entered facts (:mod:`kartoteka.crm.funnel_facts`) in
step: every write above refreshes the facts of the counterparties it touched, in its
transaction.

«Счета»: an invoice that becomes paid — by the «Счёт оплачен» action or any other path — gets a
payment date (today unless given), a done «Получение оплаты» row with status «Получена оплата»,
and its counterparty's type «Потенциальный» becomes «Клиент». Only an administrator may undo a
payment mark.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import RuleViolation
from kartoteka.core.i18n import stored_text
from kartoteka.crm import funnel_facts
from kartoteka.records.rules import RowChange, RuleContext, TableRules, table_rules
from kartoteka.tables.fieldtypes.choice import choices_of
from kartoteka.tables.modelfactory import STATE_ACTIVE, field_of, model_for
from kartoteka.tables.models import Table

REFUSED = "refused"
PAID = "paid"
CLIENT = "client"
POTENTIAL = "potential"
SYSTEM_WORK_TYPES = ("invoice", "payment")
#: The stages only the actions «Выписать счёт» and «Счёт оплачен» reach (SPEC §4.3).
SYSTEM_STAGES = ("invoice", "paid")
#: The reason carried by the actor of writes a rule makes on a person's behalf.
STATUS_REASON = "rule:status_follows_work"
PAYMENT_REASON = "rule:invoice_paid"


def table(key: str) -> Table:
    return Table.objects.get(key=key)


def stages() -> list[str]:
    """Stage keys in order («Отказ» excluded), from the metadata: renamed, added or reordered
    stages are respected."""
    field = field_of(table("counterparties"), "status")
    return [c.key for c in choices_of(field) if c.key != REFUSED]


def stage_label(key: str | None) -> str:
    if key is None:
        return "—"
    field = field_of(table("counterparties"), "status")
    return field.field_type.display(field, key)


def acting_for_rule(actor: Actor, reason: str) -> Actor:
    """The same person and path, marked as a write a rule makes (history keeps who and how)."""
    return replace(actor, reason=reason)


def may_use_system_types(actor: Actor) -> bool:
    return actor.is_system or actor.reason.startswith("rule:") or actor.source.startswith("action:")


class ClientWorkRules(TableRules):
    table_key = "client_work"

    def prepare(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        parents = _parents({r.get("counterparty") for r in rows if r.is_create})
        for row in rows:
            parent = parents.get(row.get("counterparty"))
            if row.is_create and parent is not None:
                status, kind = parent
                row.values["status_before"] = None if kind == CLIENT else status

    def clean(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        order = stages()
        parents = _parents({r.get("counterparty") for r in rows})
        for row in rows:
            work_type = row.values.get("work_type")
            if work_type in SYSTEM_WORK_TYPES and not may_use_system_types(ctx.actor):
                raise RuleViolation(
                    "system_work_type",
                    _(
                        "Правило «системные виды работы»: «%(type)s» ставится только действиями "
                        "«Выписать счёт» и «Счёт оплачен»."
                    )
                    % {"type": _work_type_label(work_type)},
                    field="work_type",
                )
            _status, kind = parents.get(row.get("counterparty"), (None, None))
            if not row.is_create and _locked(row.record, kind) and not ctx.actor.is_system:
                raise RuleViolation(
                    "locked_after_payment",
                    _(
                        "Правило «после оплаты»: строки, сделанные до того, как контрагент стал "
                        "клиентом, нельзя изменять."
                    ),
                )
            if not ctx.actor.is_system:
                _refuse_done_in_future(row)
            new = row.get("status")
            before = row.get("status_before")
            if "status" not in row.values and not row.is_create:
                continue
            if kind == CLIENT and row.get("status_before") is None and new is not None:
                raise RuleViolation(
                    "client_rows_no_status",
                    _(
                        "Правило «после оплаты»: контрагент уже клиент, строки работы больше не "
                        "меняют статус — оставьте «Статус после» пустым."
                    ),
                    field="status",
                )
            if new in SYSTEM_STAGES and not may_use_system_types(ctx.actor):
                raise RuleViolation(
                    "system_stage",
                    _(
                        "Правило «системные статусы»: «%(status)s» ставится только действиями "
                        "«Выписать счёт» и «Счёт оплачен»."
                    )
                    % {"status": stage_label(new)},
                    field="status",
                )
            if new is None or before is None:
                continue
            _check_transition(ctx.actor, before, new, order)

    def unavailable_choices(self, actor: Actor, field_key: str) -> set[str]:
        if may_use_system_types(actor):
            return set()
        return {"work_type": set(SYSTEM_WORK_TYPES), "status": set(SYSTEM_STAGES)}.get(
            field_key, set()
        )

    def locked_rows(self, actor: Actor, records: list[Any]) -> dict[int, str]:
        if actor.is_system:
            return {}
        parents = _parents({r.counterparty_id for r in records})
        reason = _(
            "Правило «после оплаты»: строки, сделанные до того, как контрагент стал клиентом, "
            "нельзя изменять или удалять."
        )
        return {
            r.pk: reason
            for r in records
            if _locked(r, parents.get(r.counterparty_id, (None, None))[1])
        }

    def after_save(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        parents = {r.get("counterparty") for r in rows}
        parents |= {r.old.get("counterparty") for r in rows if r.old.get("counterparty")}
        parents = {p for p in parents if p}
        recompute_status(ctx.actor, parents)
        funnel_facts.refresh(parents)

    def clean_state(self, ctx: RuleContext, records: list[Any], state: str) -> None:
        if ctx.actor.is_system or state == "purged":
            return
        parents = _parents({r.counterparty_id for r in records})
        for record in records:
            _status, kind = parents.get(record.counterparty_id, (None, None))
            if _locked(record, kind):
                raise RuleViolation(
                    "locked_after_payment",
                    _(
                        "Правило «после оплаты»: строки, сделанные до того, как контрагент стал "
                        "клиентом, нельзя удалять или переносить в архив."
                    ),
                )

    def after_state(self, ctx: RuleContext, records: list[Any], state: str) -> None:
        parents = {r.counterparty_id for r in records if r.counterparty_id}
        recompute_status(ctx.actor, parents)
        funnel_facts.refresh(parents)


def _check_transition(actor: Actor, before: str, new: str, order: list[str]) -> None:
    if before == REFUSED:
        if new != REFUSED and not (actor.is_admin or actor.reason == PAYMENT_REASON):
            raise RuleViolation(
                "refused_stays_refused",
                _(
                    "Правило «отказ»: контрагент отказался; вернуть его в работу может только "
                    "администратор."
                ),
                field="status",
            )
        return
    if new == REFUSED:
        if before == PAID:
            raise RuleViolation(
                "no_refusal_after_payment",
                _("Правило «отказ»: после «%(paid)s» отказ поставить нельзя.")
                % {"paid": stage_label(PAID)},
                field="status",
            )
        return
    if before in order and new in order and order.index(new) < order.index(before):
        raise RuleViolation(
            "forward_only",
            _(
                "Правило «только вперёд»: статус «%(new)s» раньше, чем «%(before)s». Этапы можно "
                "пропускать, но не возвращаться назад."
            )
            % {"new": stage_label(new), "before": stage_label(before)},
            field="status",
        )


def _refuse_done_in_future(row: RowChange) -> None:
    """Work is done on a day that has come: a done row dated later would be the latest done row
    for days to come and decide the status while the rows written meanwhile follow another one
    (decision 0008)."""
    if not (row.is_create or "date" in row.values or "done" in row.values):
        return
    date = row.get("date")
    today = timezone.localdate()
    if row.get("done") and date is not None and date > today:
        raise RuleViolation(
            "done_in_future",
            _(
                "Правило «выполненная работа»: работа не может быть выполнена в будущем "
                "(%(date)s). Поставьте дату не позже сегодняшней или снимите отметку "
                "«Выполнено»."
            )
            % {"date": date.strftime("%d.%m.%Y")},
            field="date",
        )


def _locked(record: Any, kind: str | None) -> bool:
    """A row of the potential period of a counterparty that has become a client."""
    return kind == CLIENT and record is not None and record.status_before is not None


def _parents(ids: set[Any]) -> dict[int, tuple[str | None, str | None]]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    model = model_for(table("counterparties"))
    return {
        pk: (status, kind)
        for pk, status, kind in model.objects.filter(pk__in=ids).values_list("pk", "status", "type")
    }


def _work_type_label(key: str) -> str:
    field = field_of(table("client_work"), "work_type")
    return field.field_type.display(field, key)


def recompute_status(actor: Actor, counterparty_ids: set[int]) -> None:
    """Set each counterparty's status to the result of its latest done work row; with no done
    row left, to the «Статус до» of its earliest row (the status before the work began)."""
    from kartoteka.records.services import update_records

    ids = {i for i in counterparty_ids if i}
    if not ids:
        return
    work = model_for(table("client_work"))
    latest: dict[int, str] = {}
    done = (
        work.objects.filter(
            counterparty_id__in=ids, done=True, record_state=STATE_ACTIVE, status__isnull=False
        )
        .order_by("counterparty_id", "date", "id")
        .values_list("counterparty_id", "status")
    )
    for parent, status in done:
        latest[parent] = status
    missing = ids - set(latest)
    if missing:
        first = (
            work.objects.filter(counterparty_id__in=missing, status_before__isnull=False)
            .order_by("counterparty_id", "-date", "-id")
            .values_list("counterparty_id", "status_before")
        )
        for parent, status_before in first:
            latest[parent] = status_before  # the last assignment is the earliest row
    counterparties = table("counterparties")
    current = dict(model_for(counterparties).objects.filter(pk__in=ids).values_list("pk", "status"))
    updates = {pk: {"status": s} for pk, s in latest.items() if pk in current and current[pk] != s}
    if updates:
        acting = replace(acting_for_rule(actor, STATUS_REASON), source=f"{actor.source}:status")
        update_records(acting, counterparties, updates)


class CounterpartyRules(TableRules):
    table_key = "counterparties"

    def clean(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        if ctx.actor.is_system or ctx.actor.reason.startswith("rule:"):
            return
        for row in rows:
            if not row.is_create and "type" in row.values and not ctx.actor.is_admin:
                raise RuleViolation(
                    "type_admin_only",
                    _(
                        "Правило «тип контрагента»: клиентом контрагент становится после "
                        "оплаты счёта; изменить тип вручную может только администратор."
                    ),
                    field="type",
                )
            if not row.is_create and "status" in row.values:
                raise RuleViolation(
                    "status_follows_work",
                    _(
                        "Правило «статус по работе»: статус контрагента меняется строкой в "
                        "«Работа с клиентом», а не вручную."
                    ),
                    field="status",
                )

    def after_save(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        # The funnel's facts repeat the manager and follow the status; a status the work-log
        # rule sets is refreshed by that rule, with the rows that moved it.
        if ctx.operation == "create":
            changed = [r.record.pk for r in rows]
        else:
            watched = {"manager", "status"} if ctx.actor.reason != STATUS_REASON else {"manager"}
            changed = [r.record.pk for r in rows if watched.intersection(r.values)]
        funnel_facts.refresh(changed)

    def after_state(self, ctx: RuleContext, records: list[Any], state: str) -> None:
        # In the trash or gone: no facts; restored: its facts again. Archived ones still count.
        funnel_facts.refresh([r.pk for r in records])


class InvoicePaymentRules(TableRules):
    table_key = "invoices"

    def prepare(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        for row in rows:
            if row.values.get("paid") and not row.get("paid_date"):
                row.values["paid_date"] = timezone.localdate()

    def clean(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        for row in rows:
            undo = not row.is_create and row.old.get("paid") and row.values.get("paid") is False
            if undo and not ctx.actor.is_admin:
                raise RuleViolation(
                    "payment_undo_admin_only",
                    _("Правило «оплата»: снять отметку об оплате может только администратор."),
                    field="paid",
                )

    def after_save(self, ctx: RuleContext, rows: list[RowChange]) -> None:
        newly_paid = [
            r for r in rows if r.values.get("paid") and (r.is_create or not r.old.get("paid"))
        ]
        if newly_paid:
            record_payments(ctx.actor, [r.record for r in newly_paid])


def record_payments(actor: Actor, invoices: list[Any]) -> None:
    """The work rows and client type that follow invoices becoming paid."""
    from kartoteka.records.services import create_records, update_records

    rule_actor = acting_for_rule(actor, PAYMENT_REASON)
    parents = _parents({i.counterparty_id for i in invoices})
    by_parent: dict[int, list[Any]] = defaultdict(list)
    for invoice in invoices:
        by_parent[invoice.counterparty_id].append(invoice)
    rows = []
    for parent, items in by_parent.items():
        _status, kind = parents.get(parent, (None, None))
        for index, invoice in enumerate(sorted(items, key=lambda i: i.pk)):
            carries = kind != CLIENT and index == 0
            rows.append(
                {
                    "counterparty": parent,
                    "date": invoice.paid_date or timezone.localdate(),
                    "work_type": "payment",
                    "description": stored_text(
                        gettext_noop("Получена оплата по счёту №%(number)s"), number=invoice.number
                    ),
                    "done": True,
                    "status": PAID if carries else None,
                    "manager": invoice.manager_id,
                }
            )
    create_records(rule_actor, table("client_work"), rows)
    potential = [p for p, (_s, kind) in parents.items() if kind == POTENTIAL]
    if potential:
        update_records(
            rule_actor, table("counterparties"), {p: {"type": CLIENT} for p in potential}
        )


def register_rules() -> None:
    for rules in (ClientWorkRules(), CounterpartyRules(), InvoicePaymentRules()):
        existing = table_rules.find(rules.table_key)
        parts = getattr(existing, "parts", [existing]) if existing else []
        if not any(type(p) is type(rules) for p in parts):
            table_rules.register(rules.table_key, rules)
    from kartoteka.crm.actions import register_actions

    register_actions()
