"""«Производительность» (SPEC §5): what each manager did in a period, by SQL aggregation.

Per manager, for the days ``date_from``…``date_to`` (both included, local time zone):

- **work done** — rows of «Работа с клиентом» marked done and dated in the period whose
  «Менеджер» is that user (the person who did the work, not the counterparty's manager), every
  work type included — the system rows «Выставление счёта» and «Получение оплаты» too; then
  **calls**, **letters** and **meetings**: the same rows by work type;
- **tasks done** — «Задания» in state «Выполнено» whose «Исполнитель» is that user and whose last
  change falls in the period. The tasks table keeps no completion date yet, so the last change
  (``updated_at``) stands for it: a done task edited later moves to the later period;
- **invoices issued** — «Счета» dated in the period with that «Менеджер»: how many and their
  total;
- **invoices paid** — invoices marked paid whose payment date falls in the period: how many and
  their total.

Records in the trash do not count; active and archived ones do (archiving hides a record from
daily work, it does not undo the work). Rows come from
:func:`~kartoteka.records.selectors.base_queryset`; each figure is one ``GROUP BY manager``
query — four queries in all, whatever the amount of data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from kartoteka.core.actor import Actor
from kartoteka.records.selectors import base_queryset, get_table
from kartoteka.reports.errors import ReportError
from kartoteka.reports.managers import ManagerColumn, manager_columns
from kartoteka.reports.period import Period
from kartoteka.tables.modelfactory import STATE_DELETED

ZERO = Decimal("0.00")


@dataclass
class PerformanceFigures:
    """The figures of one manager (or of everyone: the total row)."""

    work_done: int = 0
    calls: int = 0
    letters: int = 0
    meetings: int = 0
    tasks_done: int = 0
    invoices_issued: int = 0
    issued_sum: Decimal = ZERO
    invoices_paid: int = 0
    paid_sum: Decimal = ZERO

    def add(self, other: PerformanceFigures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass
class PerformanceRow:
    manager: ManagerColumn
    figures: PerformanceFigures = field(default_factory=PerformanceFigures)


@dataclass
class Performance:
    """Rows per manager (by name, «Без менеджера» last) and the total."""

    period: Period
    rows: list[PerformanceRow]
    total: PerformanceFigures


def _live(actor: Actor, key: str) -> QuerySet:
    """Active and archived records of a table (not those in the trash), through the selector."""
    return (
        base_queryset(actor, get_table(actor, key), state=None)
        .exclude(record_state=STATE_DELETED)
        .order_by()
    )


def compute_performance(
    actor: Actor,
    *,
    date_from: dt.date,
    date_to: dt.date,
    managers: Iterable[int] | None = None,
) -> Performance:
    """The «Производительность» report; ``managers`` keeps only those users (``None``: all).

    Raises:
        ReportError: ``date_from`` after ``date_to``.
    """
    from kartoteka.reports.access import PERFORMANCE_FIELDS, require_fields

    require_fields(actor, PERFORMANCE_FIELDS)
    if date_from > date_to:
        raise ReportError(_("Начало периода позже его конца."), code="bad_period")
    period = Period(date_from, date_to)
    chosen = None if managers is None else sorted({int(m) for m in managers})
    by_manager: dict[int | None, PerformanceFigures] = {}

    def figures(manager: int | None) -> PerformanceFigures:
        return by_manager.setdefault(manager, PerformanceFigures())

    def only_chosen(qs: QuerySet, key: str) -> QuerySet:
        return qs if chosen is None else qs.filter(**{f"{key}__in": chosen})

    days = (period.date_from, period.date_to)
    work = only_chosen(_live(actor, "client_work").filter(done=True, date__range=days), "manager")
    for row in work.values("manager").annotate(
        n=Count("id"),
        calls=Count("id", filter=Q(work_type="call")),
        letters=Count("id", filter=Q(work_type="letter")),
        meetings=Count("id", filter=Q(work_type="meeting")),
    ):
        target = figures(row["manager"])
        target.work_done, target.calls = row["n"], row["calls"]
        target.letters, target.meetings = row["letters"], row["meetings"]

    tasks = only_chosen(
        _live(actor, "tasks").filter(
            state="done", updated_at__gte=period.start, updated_at__lt=period.end
        ),
        "assignee",
    )
    for row in tasks.values("assignee").annotate(n=Count("id")):
        figures(row["assignee"]).tasks_done = row["n"]

    invoices = only_chosen(_live(actor, "invoices"), "manager")
    for row in (
        invoices.filter(date__range=days).values("manager").annotate(n=Count("id"), s=Sum("total"))
    ):
        target = figures(row["manager"])
        target.invoices_issued, target.issued_sum = row["n"], _money(row["s"])
    paid = invoices.filter(paid=True, paid_date__range=days)
    for row in paid.values("manager").annotate(n=Count("id"), s=Sum("total")):
        target = figures(row["manager"])
        target.invoices_paid, target.paid_sum = row["n"], _money(row["s"])

    seen = {m for m, f in by_manager.items() if f != PerformanceFigures()}
    rows = [
        PerformanceRow(column, by_manager.get(column.id, PerformanceFigures()))
        for column in manager_columns(chosen, seen)
    ]
    total = PerformanceFigures()
    for row in rows:
        total.add(row.figures)
    return Performance(period=period, rows=rows, total=total)


def _money(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value).quantize(ZERO)
