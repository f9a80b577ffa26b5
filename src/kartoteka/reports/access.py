"""Reports aggregate fields: a report over a field hidden from the actor is refused whole
(a sum or a count by a hidden value would reveal it). Rows are the selectors' business."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.utils.translation import gettext as _

from kartoteka.access import rights
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import PermissionDenied
from kartoteka.records.selectors import get_table

FUNNEL_FIELDS = {
    "counterparties": ("manager", "status", "type"),
    "client_work": ("counterparty", "date", "done", "status", "status_before"),
}
PERFORMANCE_FIELDS = {
    "client_work": ("manager", "date", "done", "work_type"),
    "invoices": ("manager", "date", "total", "paid"),
}
SALES_FIELDS = {"invoices": ("manager", "date", "total", "paid", "paid_date")}


def require_fields(actor: Actor, needed: Mapping[str, Sequence[str]]) -> None:
    """``NotFound`` for a table the actor may not view, ``PermissionDenied`` for a hidden field."""
    for key, fields in needed.items():
        table = get_table(actor, key)
        hidden = rights.hidden_keys(actor, table).intersection(fields)
        if hidden:
            raise PermissionDenied(
                _("Отчёт использует поля, скрытые для вашей группы (таблица «%(table)s»).")
                % {"table": table.label}
            )
