"""The sales process's table actions: buttons on the card and the grid, operations of the API."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError
from kartoteka.crm import services
from kartoteka.records.actions import ActionResult, TableAction, register_action
from kartoteka.tables.fieldtypes.date import parse_date
from kartoteka.tables.models import Table


class IssueInvoiceAction(TableAction):
    table_key = "counterparties"
    key = "issue_invoice"
    label = gettext_lazy("Выписать счёт")
    style = "success"

    def run(
        self, actor: Actor, table: Table, ids: list[int], params: dict[str, Any]
    ) -> ActionResult:
        invoice = services.issue_invoice(actor, ids[0])
        return ActionResult(
            message=_("Выписан счёт №%(number)s. Добавьте позиции счёта.")
            % {"number": invoice.number},
            redirect_to=reverse("record", args=["invoices", invoice.pk]),
            data={"invoice_id": invoice.pk},
        )


class MarkPaidAction(TableAction):
    table_key = "invoices"
    key = "mark_paid"
    label = gettext_lazy("Счёт оплачен")
    many = True
    style = "success"

    def run(
        self, actor: Actor, table: Table, ids: list[int], params: dict[str, Any]
    ) -> ActionResult:
        paid_date = None
        if params.get("paid_date"):
            try:
                paid_date = parse_date(str(params["paid_date"]))
            except ValidationError as exc:
                raise KartotekaError(" ".join(exc.messages), code="bad_date") from None
        changed = services.mark_invoices_paid(actor, ids, paid_date=paid_date)
        if not changed:
            return ActionResult(message=_("Счёт уже отмечен как оплаченный."), data={"paid": 0})
        return ActionResult(
            message=ngettext(
                "%(n)s счёт отмечен оплаченным.", "%(n)s счетов отмечено оплаченными.", changed
            )
            % {"n": changed},
            data={"paid": changed},
        )


def register_actions() -> None:
    register_action(IssueInvoiceAction())
    register_action(MarkPaidAction())
