"""Reports as plain tables — the same rows on the page, in CSV and in XLSX.

Each report's result is turned into a :class:`ReportTable` (header columns and rows of values);
the page shows it and :func:`export_table` writes it with the exporters' own writers
(:mod:`kartoteka.exports.writers`): CSV for Russian Excel (Windows-1251, «;») and XLSX with real
numbers. Names of stages and managers are user data, so they are ``text`` columns and get the
writers' formula neutralisation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _

from kartoteka.exports.columns import NUMBER, TEXT, Column
from kartoteka.exports.writers import write_csv, write_xlsx
from kartoteka.reports.errors import ReportError
from kartoteka.reports.funnel import Funnel
from kartoteka.reports.performance import Performance
from kartoteka.reports.sales import Sales
from kartoteka.tables.fieldtypes.numbers import format_decimal

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=windows-1251",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass
class ReportTable:
    """A report as a table: ``columns`` (headers and kinds) and ``rows`` of values."""

    title: str
    columns: list[Column]
    rows: list[list[Any]]


def text(label: str, index: int) -> Column:
    return Column(f"c{index}", label, TEXT, itemgetter(index), str)


def number(label: str, index: int, places: int = 0, unit: str = "") -> Column:
    def read(row: list[Any]) -> Any:
        value = row[index]
        # A float such as 66.7 is 66.7000000000000028… in binary: as a Decimal of its shortest
        # text it stays 66.7 in a spreadsheet instead of turning into text there.
        return Decimal(str(value)) if isinstance(value, float) else value

    return Column(
        f"c{index}",
        label,
        NUMBER,
        read,
        lambda value: format_decimal(Decimal(value), places),
        places,
        unit,
    )


def month_label(month: dt.date) -> str:
    """«Март 2026»."""
    return formats.date_format(month, "F Y")


def funnel_table(funnel: Funnel) -> ReportTable:
    labels = [_("Этап"), *(m.label for m in funnel.managers), _("Всего")]
    labels += [
        _("Конверсия из предыдущего, %"),
        _("Конверсия из первого, %"),
        _("Отказы"),
        _("Медиана дней до следующего этапа"),
    ]
    columns = [text(labels[0], 0)]
    columns += [number(label, i) for i, label in enumerate(labels[1:-4], start=1)]
    n = len(labels)
    columns += [
        number(labels[n - 4], n - 4, 1),
        number(labels[n - 3], n - 3, 1),
        number(labels[n - 2], n - 2),
        number(labels[n - 1], n - 1, 1),
    ]
    rows = [
        [
            row.stage.label,
            *(row.by_manager.get(m.id, 0) for m in funnel.managers),
            row.count,
            row.conversion_prev,
            row.conversion_first,
            row.refused,
            row.median_days,
        ]
        for row in funnel.rows
    ]
    return ReportTable(_("Воронка продаж"), columns, rows)


PERFORMANCE_COLUMNS = (
    ("work_done", 0, ""),
    ("calls", 0, ""),
    ("letters", 0, ""),
    ("meetings", 0, ""),
    ("tasks_done", 0, ""),
    ("invoices_issued", 0, ""),
    ("issued_sum", 2, "₽"),
    ("invoices_paid", 0, ""),
    ("paid_sum", 2, "₽"),
)


def performance_labels() -> list[str]:
    return [
        _("Работ выполнено"),
        _("Звонки"),
        _("Письма"),
        _("Встречи"),
        _("Заданий выполнено"),
        _("Счетов выписано"),
        _("Сумма выписанных"),
        _("Счетов оплачено"),
        _("Сумма оплаченных"),
    ]


def performance_table(report: Performance) -> ReportTable:
    columns = [text(_("Менеджер"), 0)]
    for i, ((_key, places, unit), label) in enumerate(
        zip(PERFORMANCE_COLUMNS, performance_labels(), strict=True), start=1
    ):
        columns.append(number(label, i, places, unit))
    rows = [
        [row.manager.label, *(getattr(row.figures, key) for key, _p, _u in PERFORMANCE_COLUMNS)]
        for row in report.rows
    ]
    rows.append([_("Итого"), *(getattr(report.total, key) for key, _p, _u in PERFORMANCE_COLUMNS)])
    return ReportTable(_("Производительность"), columns, rows)


def sales_table(report: Sales) -> ReportTable:
    labels = [month_label(m) for m in report.months]
    columns = [text(_("Менеджер"), 0)]
    columns += [number(label, i, 2, "₽") for i, label in enumerate(labels, start=1)]
    n = len(columns)
    columns += [
        number(_("Итого"), n, 2, "₽"),
        number(_("Счетов"), n + 1),
        number(_("Бонус, %"), n + 2, 2),
        number(_("Бонус"), n + 3, 2, "₽"),
    ]
    rows = [
        [
            row.manager.label,
            *(row.by_month.get(m) for m in report.months),
            row.total,
            row.invoices,
            row.bonus_percent,
            row.bonus,
        ]
        for row in report.rows
    ]
    by_month = report.by_month
    rows.append(
        [
            _("Итого"),
            *(by_month[m] for m in report.months),
            report.total,
            report.invoices,
            None,
            report.bonus,
        ]
    )
    return ReportTable(_("По продажам"), columns, rows)


def export_table(table: ReportTable, fmt: str) -> bytes:
    """The table as a CSV file for Russian Excel (Windows-1251, «;») or as an XLSX workbook."""
    if fmt == "csv":
        chunks = write_csv(table.columns, table.rows, encoding="cp1251", delimiter=";")
    elif fmt == "xlsx":
        chunks = write_xlsx(table.columns, table.rows, sheet_name=table.title)
    else:
        raise ReportError(
            _("Неизвестный формат «%(fmt)s»: допустимо csv или xlsx.") % {"fmt": fmt},
            code="bad_format",
        )
    return b"".join(chunks)
