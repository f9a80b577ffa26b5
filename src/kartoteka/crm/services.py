"""Commands of the sales process that are not plain record edits.

Each takes the actor first, runs in one transaction and writes only through the records service,
so the rules of :mod:`kartoteka.crm.rules` and the history hold for them as for a form.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, NotFound
from kartoteka.core.i18n import stored_text
from kartoteka.crm.rules import CLIENT, stages, table
from kartoteka.records import selectors
from kartoteka.records.actions import require_action
from kartoteka.records.services import create_records, update_records
from kartoteka.tables.modelfactory import STATE_ACTIVE, model_for
from kartoteka.tables.models import Sequence

INVOICE_STAGE = "invoice"
_NUMBER = re.compile(r"^(\d{4})-(\d+)$")


class SalesError(KartotekaError):
    code = "sales"


def default_company() -> Any:
    """Our legal entity for new invoices: the one marked «Основная», else the first one."""
    model = model_for(table("companies"))
    active = model.objects.filter(record_state=STATE_ACTIVE)
    company = active.filter(is_default=True).order_by("id").first() or active.order_by("id").first()
    if company is None:
        raise SalesError(
            _("Заполните «Моя компания»: без неё счёт выписать нельзя."), code="no_company"
        )
    return company


def next_invoice_number(company_id: int, year: int) -> str:
    """The next number of the company's invoices for the year, ``2026-0001`` style.

    The counter row is locked for the rest of the caller's transaction (``SELECT … FOR UPDATE`` on
    PostgreSQL; SQLite has one writer at a time), so two invoices issued at once never share a
    number. A new counter starts after the highest number already used that year (invoices
    imported or created before the counter existed)."""
    key = f"invoice:{company_id}:{year}"
    with transaction.atomic():
        seq, created = Sequence.objects.get_or_create(key=key)
        seq = Sequence.objects.select_for_update().get(pk=seq.pk)
        if created or seq.value == 0:
            seq.value = max(seq.value, _highest_number(company_id, year))
        seq.value += 1
        seq.save(update_fields=["value"])
        return f"{year}-{seq.value:04d}"


def _highest_number(company_id: int, year: int) -> int:
    model = model_for(table("invoices"))
    highest = 0
    numbers = model.objects.filter(company_id=company_id, number__startswith=f"{year}-")
    for number in numbers.values_list("number", flat=True).iterator():
        match = _NUMBER.match(number or "")
        if match:
            highest = max(highest, int(match.group(2)))
    return highest


def issue_invoice(actor: Actor, counterparty_id: int, *, due_days: int = 5) -> Any:
    """«Выписать счёт»: a new invoice of the counterparty and the done work row
    «Выставление счёта» → «Выписан счёт». Returns the invoice (opened next to add its items)."""
    counterparties = table("counterparties")
    require_action(actor, counterparties, "issue_invoice")
    try:
        counterparty = selectors.get_record(actor, counterparties, counterparty_id)
    except NotFound:
        raise
    if counterparty.record_state != STATE_ACTIVE:
        raise SalesError(
            _("Контрагент в архиве или удалён: сначала восстановите его."), code="not_active"
        )
    acting = actor if actor.source.startswith("action:") else actor.via("action:issue_invoice")
    today = timezone.localdate()
    with transaction.atomic():
        company = default_company()
        number = next_invoice_number(company.pk, today.year)
        manager = counterparty.manager_id or actor.user_id
        invoice = create_records(
            acting,
            table("invoices"),
            [
                {
                    "number": number,
                    "date": today,
                    "company": company.pk,
                    "counterparty": counterparty.pk,
                    "manager": manager,
                    "due_date": today + dt.timedelta(days=due_days),
                }
            ],
        )[0]
        order = stages()
        status = counterparty.status
        carries = counterparty.type != CLIENT and (
            status not in order
            or INVOICE_STAGE not in order
            or order.index(status) <= order.index(INVOICE_STAGE)
        )
        create_records(
            acting,
            table("client_work"),
            [
                {
                    "counterparty": counterparty.pk,
                    "date": today,
                    "work_type": "invoice",
                    "description": stored_text(
                        gettext_noop("Выписан счёт №%(number)s"), number=number
                    ),
                    "done": True,
                    "status": INVOICE_STAGE if carries else None,
                    "manager": manager,
                }
            ],
        )
    return invoice


def mark_invoices_paid(
    actor: Actor, invoice_ids: list[int], *, paid_date: dt.date | None = None
) -> int:
    """«Счёт оплачен» on one or more invoices; already paid ones are left as they are.

    The payment rule (:class:`kartoteka.crm.rules.InvoicePaymentRules`) adds the work rows and
    makes the counterparties clients. Returns how many invoices became paid."""
    invoices = table("invoices")
    require_action(actor, invoices, "mark_paid")
    acting = actor if actor.source.startswith("action:") else actor.via("action:mark_paid")
    qs = selectors.base_queryset(actor, invoices, state=None).filter(pk__in=invoice_ids)
    found = {pk: paid for pk, paid in qs.values_list("pk", "paid")}
    missing = set(invoice_ids) - set(found)
    if missing:
        raise NotFound(_("Счёт №%(pk)s не найден.") % {"pk": min(missing)})
    unpaid = [pk for pk, paid in found.items() if not paid]
    if not unpaid:
        return 0
    day = paid_date or timezone.localdate()
    with transaction.atomic():
        update_records(acting, invoices, {pk: {"paid": True, "paid_date": day} for pk in unpaid})
    return len(unpaid)
