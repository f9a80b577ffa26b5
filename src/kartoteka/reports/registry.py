"""The report types the «Отчёты» page lists (``report_types``), filled from ``ready()``.

A report type is a page with a parameters form, a chart, a table and exports; the registry is
what the list page and, later, the API and access rights («who may see which report») iterate.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kartoteka.core.registry import Registry


@dataclass(frozen=True)
class ReportType:
    """One built-in report: its stable key, its name, a line about it and its page's URL name."""

    key: str
    label: str | Promise
    description: str | Promise
    url_name: str


report_types: Registry[ReportType] = Registry("report_types")


def register_reports() -> None:
    for report in (
        ReportType(
            "funnel",
            _("Воронка продаж"),
            _(
                "Сколько контрагентов прошло каждый этап продаж, конверсия между этапами, "
                "отказы и сколько дней занимает этап."
            ),
            "reports:funnel",
        ),
        ReportType(
            "performance",
            _("Производительность"),
            _(
                "По каждому менеджеру: выполненные работы (звонки, письма, встречи), "
                "выполненные задания, выписанные и оплаченные счета."
            ),
            "reports:performance",
        ),
        ReportType(
            "sales",
            _("По продажам"),
            _("Оплаченные счета по менеджерам и месяцам, с бонусом по проценту сотрудника."),
            "reports:sales",
        ),
    ):
        if report.key not in report_types:
            report_types.register(report.key, report)
