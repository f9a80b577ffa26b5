"""«Производительность» and «По продажам»: exact figures over hand-made data.

Invoices get their totals from their lines (the invoice rules compute them); paying an invoice
adds a done «Получение оплаты» work row dated with the payment (the payment rule) — that row is
work done by the invoice's manager, so it counts in «Работ выполнено».
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kartoteka.core.actor import Actor
from kartoteka.records.services import create_records
from kartoteka.reports.errors import ReportError
from kartoteka.reports.performance import PerformanceFigures, compute_performance
from kartoteka.reports.sales import bonus_of, compute_sales
from kartoteka.tables.modelfactory import model_for

from .conftest import day, invoice, local

SYSTEM = Actor.system("tests")
MARCH = {"date_from": dt.date(2026, 3, 1), "date_to": dt.date(2026, 3, 31)}


def test_performance_figures(table, clients):
    # given: work rows (two outside March, one only planned)
    i, p, k1, k2 = clients["I"], clients["P"], clients["K1"], clients["K2"]
    rows = [
        ("2026-02-28", k1, "call", True, i),
        ("2026-03-02", k1, "call", True, i),
        ("2026-03-03", k1, "call", True, i),
        ("2026-03-04", k1, "letter", True, i),
        ("2026-03-05", k1, "meeting", True, i),
        ("2026-03-06", k1, "call", False, i),
        ("2026-04-01", k1, "meeting", True, i),
        ("2026-03-10", k2, "letter", True, p),
        ("2026-03-31", k2, "meeting", True, p),
    ]
    for date, parent, kind, done, manager in rows:
        create_records(
            SYSTEM,
            table("client_work"),
            [
                {
                    "counterparty": parent,
                    "date": day(date),
                    "work_type": kind,
                    "done": done,
                    "manager": manager,
                }
            ],
        )
    # invoices: issued in February and paid on 01.03; issued and paid in March; issued in March
    # and never paid; issued in March and paid on 02.04
    invoice(table, k1, i, "1", "2026-02-25", "500.00", paid="2026-03-01")
    invoice(table, k1, i, "2", "2026-03-05", "2000.00", paid="2026-03-20")
    invoice(table, k2, p, "3", "2026-03-15", "999.99")
    invoice(table, k2, p, "4", "2026-03-28", "1500.00", paid="2026-04-02")
    # tasks: done in March (one at 00:05 on 01.03), done at 00:10 on 01.04, still in progress
    tasks = table("tasks")
    created = create_records(
        SYSTEM,
        tasks,
        [
            {"title": "Позвонить", "assignee": i, "state": "done"},
            {"title": "Отправить КП", "assignee": i, "state": "done"},
            {"title": "Договор", "assignee": p, "state": "in_progress"},
            {"title": "Встреча", "assignee": p, "state": "done"},
        ],
    )
    changed = ["2026-03-10 12:00", "2026-04-01 00:10", "2026-03-11 12:00", "2026-03-01 00:05"]
    for record, when in zip(created, changed, strict=True):
        # Test set-up of a system column: the last change of the task.
        model_for(tasks).objects.filter(pk=record.pk).update(updated_at=local(when))
    # when
    report = compute_performance(SYSTEM, **MARCH)
    # then
    assert [(r.manager.label, r.figures) for r in report.rows] == [
        (
            "Иванов Иван",
            PerformanceFigures(
                work_done=6,  # 2 calls, a letter, a meeting and 2 payment rows (01.03, 20.03)
                calls=2,
                letters=1,
                meetings=1,
                tasks_done=1,
                invoices_issued=1,
                issued_sum=Decimal("2000.00"),
                invoices_paid=2,
                paid_sum=Decimal("2500.00"),
            ),
        ),
        (
            "Петрова Анна",
            PerformanceFigures(
                work_done=2,
                calls=0,
                letters=1,
                meetings=1,
                tasks_done=1,
                invoices_issued=2,
                issued_sum=Decimal("2499.99"),
                invoices_paid=0,
                paid_sum=Decimal("0.00"),
            ),
        ),
    ]
    assert report.total == PerformanceFigures(
        work_done=8,
        calls=2,
        letters=2,
        meetings=2,
        tasks_done=2,
        invoices_issued=3,
        issued_sum=Decimal("4499.99"),
        invoices_paid=2,
        paid_sum=Decimal("2500.00"),
    )
    # and one manager alone
    only = compute_performance(SYSTEM, **MARCH, managers=[p])
    assert [r.manager.id for r in only.rows] == [p]
    assert only.total.work_done == 2


def test_sales_figures(sales_history):
    # when: February and March
    report = compute_sales(SYSTEM, date_from=day("2026-02-01"), date_to=day("2026-03-31"))
    # then
    feb, mar = day("2026-02-01"), day("2026-03-01")
    assert report.months == [feb, mar]
    assert [
        (r.manager.label, r.by_month, r.total, r.invoices, r.bonus_percent, r.bonus)
        for r in report.rows
    ] == [
        (
            "Иванов Иван",
            {feb: Decimal("1000.00"), mar: Decimal("2333.30")},
            Decimal("3333.30"),
            3,
            Decimal("5"),
            Decimal("166.67"),  # 166.665 rounded half up
        ),
        (
            "Петрова Анна",
            {feb: Decimal("0.00"), mar: Decimal("1500.00")},
            Decimal("1500.00"),
            1,
            Decimal("10"),
            Decimal("150.00"),
        ),
    ]
    assert report.by_month == {feb: Decimal("1000.00"), mar: Decimal("3833.30")}
    assert (report.total, report.invoices, report.bonus) == (
        Decimal("4833.30"),
        4,
        Decimal("316.67"),
    )


def test_sales_month_cut_by_the_period(sales_history):
    # when: from 15.02 to 20.03 — the February payment on 10.02 and the one on 31.03 drop out
    report = compute_sales(SYSTEM, date_from=day("2026-02-15"), date_to=day("2026-03-20"))
    # then
    assert [(r.total, r.invoices) for r in report.rows] == [
        (Decimal("2000.00"), 1),
        (Decimal("1500.00"), 1),
    ]


def test_bonus_rounding():
    assert bonus_of(Decimal("3333.30"), Decimal("5")) == Decimal("166.67")
    assert bonus_of(Decimal("100.00"), None) == Decimal("0.00")
    assert bonus_of(Decimal("1234.56"), Decimal("7.5")) == Decimal("92.59")


def test_reports_refuse_a_reversed_period(crm):
    with pytest.raises(ReportError):
        compute_sales(SYSTEM, date_from=day("2026-03-02"), date_to=day("2026-03-01"))
    with pytest.raises(ReportError):
        compute_performance(SYSTEM, date_from=day("2026-03-02"), date_to=day("2026-03-01"))
