"""«По продажам» (SPEC §5): paid invoice sums per manager per month, with the bonus.

- **What counts**: «Счета» marked paid whose payment date («Дата оплаты») falls in the period
  (both days included), attributed to the invoice's «Менеджер» and to the month of the payment
  date. Invoices in the trash do not count; active and archived ones do.
- **Sum**: the invoices' «Сумма» (``total``, VAT included as invoiced).
- **Bonus** = the manager's paid sum for the period × his «Бонус, %» (the «Сотрудники» record whose
  «Учётная запись» is that user) / 100, rounded to kopecks half up; no employee record or no
  percent means no bonus. Each month's bonus is computed the same way from that month's sum.

One ``GROUP BY manager`` query with a conditional sum per month of the period (no per-row date
function, so SQLite needs no Python callback), one query for the bonus percents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from kartoteka.core.actor import Actor
from kartoteka.records.selectors import base_queryset, get_table
from kartoteka.reports.errors import ReportError
from kartoteka.reports.managers import ManagerColumn, manager_columns
from kartoteka.reports.period import Period
from kartoteka.tables.modelfactory import STATE_DELETED

ZERO = Decimal("0.00")
KOPECK = Decimal("0.01")


def bonus_of(amount: Decimal, percent: Decimal | None) -> Decimal:
    """``amount × percent / 100`` rounded to kopecks half up; 0 without a percent."""
    if not percent:
        return ZERO
    return (amount * Decimal(percent) / 100).quantize(KOPECK, rounding=ROUND_HALF_UP)


@dataclass
class SalesRow:
    """One manager: paid sums by month (first day of the month → sum), total, bonus."""

    manager: ManagerColumn
    bonus_percent: Decimal | None = None
    by_month: dict[dt.date, Decimal] = field(default_factory=dict)
    invoices: int = 0

    @property
    def total(self) -> Decimal:
        return sum(self.by_month.values(), ZERO)

    @property
    def bonus(self) -> Decimal:
        return bonus_of(self.total, self.bonus_percent)

    def month_bonus(self, month: dt.date) -> Decimal:
        return bonus_of(self.by_month.get(month, ZERO), self.bonus_percent)


@dataclass
class Sales:
    """Rows per manager, the months of the period and the totals."""

    period: Period
    months: list[dt.date]
    rows: list[SalesRow]

    @property
    def by_month(self) -> dict[dt.date, Decimal]:
        return {m: sum((r.by_month.get(m, ZERO) for r in self.rows), ZERO) for m in self.months}

    @property
    def total(self) -> Decimal:
        return sum((r.total for r in self.rows), ZERO)

    @property
    def bonus(self) -> Decimal:
        return sum((r.bonus for r in self.rows), ZERO)

    @property
    def invoices(self) -> int:
        return sum(r.invoices for r in self.rows)


def compute_sales(
    actor: Actor,
    *,
    date_from: dt.date,
    date_to: dt.date,
    managers: Iterable[int] | None = None,
) -> Sales:
    """The «По продажам» report; ``managers`` keeps only those users (``None``: all).

    Raises:
        ReportError: ``date_from`` after ``date_to``.
    """
    from kartoteka.reports.access import SALES_FIELDS, require_fields

    require_fields(actor, SALES_FIELDS)
    if date_from > date_to:
        raise ReportError(_("Начало периода позже его конца."), code="bad_period")
    period = Period(date_from, date_to)
    chosen = None if managers is None else sorted({int(m) for m in managers})
    months = period.months()
    invoices = (
        base_queryset(actor, get_table(actor, "invoices"), state=None)
        .exclude(record_state=STATE_DELETED)
        .filter(paid=True, paid_date__range=(period.date_from, period.date_to))
        .order_by()
    )
    if chosen is not None:
        invoices = invoices.filter(manager__in=chosen)
    sums = {
        f"m{i}": Sum("total", filter=Q(paid_date__range=_month_days(period, month)))
        for i, month in enumerate(months)
    }
    found: dict[int | None, dict[str, Any]] = {
        row["manager"]: row for row in invoices.values("manager").annotate(n=Count("id"), **sums)
    }
    columns = manager_columns(chosen, found)
    percents = _bonus_percents(actor, [c.id for c in columns if c.id is not None])
    rows = []
    for column in columns:
        row = found.get(column.id, {})
        rows.append(
            SalesRow(
                manager=column,
                bonus_percent=percents.get(column.id),
                by_month={m: _money(row.get(f"m{i}")) for i, m in enumerate(months)},
                invoices=row.get("n", 0),
            )
        )
    return Sales(period=period, months=months, rows=rows)


def _month_days(period: Period, month: dt.date) -> tuple[dt.date, dt.date]:
    """The days of ``month`` inside the period."""
    last = (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return max(month, period.date_from), min(last, period.date_to)


def _bonus_percents(actor: Actor, users: list[int]) -> dict[int | None, Decimal | None]:
    """«Бонус, %» of each user's «Сотрудники» record (the first one, should there be more)."""
    employees = (
        base_queryset(actor, get_table(actor, "employees"), state=None)
        .exclude(record_state=STATE_DELETED)
        .filter(user__in=users)
        .order_by("-id")
        .values_list("user", "bonus_percent")
    )
    return dict(employees)  # ordered by -id: the first record wins


def _money(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value).quantize(KOPECK)
