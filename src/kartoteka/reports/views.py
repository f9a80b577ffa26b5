"""Report pages: parameters form, chart, table, drill-down and CSV/XLSX export.

Thin like every view: parse the query string, call the report function, render. ``?format=csv``
or ``?format=xlsx`` on a report's URL downloads the same table instead of the page.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from kartoteka.core.actor import Actor
from kartoteka.records.selectors import get_table
from kartoteka.reports import charts, tables
from kartoteka.reports.errors import ReportError
from kartoteka.reports.forms import MODE_LABELS, FunnelParamsForm, ReportParamsForm
from kartoteka.reports.funnel import (
    ALL_MANAGERS,
    Funnel,
    FunnelRow,
    compute_funnel,
    funnel_members,
    funnel_stages,
)
from kartoteka.reports.managers import NO_MANAGER
from kartoteka.reports.performance import compute_performance
from kartoteka.reports.registry import report_types
from kartoteka.reports.sales import compute_sales
from kartoteka.reports.sql import analytic_session
from kartoteka.tables.fieldtypes.user import user_display
from kartoteka.tables.modelfactory import field_of

PAGE_SIZE = 50


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, source="report")


def _download(table: tables.ReportTable, fmt: str, name: str, form: Any) -> HttpResponse:
    try:
        data = tables.export_table(table, fmt)
    except ReportError:
        raise Http404 from None
    response = HttpResponse(data, content_type=tables.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}-{form.period.slug()}.{fmt}"'
    return response


@login_required
def index(request: HttpRequest) -> HttpResponse:
    from kartoteka.reports.own_views import own_reports

    return render(
        request,
        "reports/index.html",
        {"reports": report_types.values(), "own": own_reports(_actor(request))},
    )


@login_required
def funnel(request: HttpRequest) -> HttpResponse:
    form = FunnelParamsForm(request.GET)
    context: dict[str, Any] = {"form": form, "report": report_types.get("funnel")}
    if form.is_valid():
        result = compute_funnel(
            _actor(request),
            date_from=form.period.date_from,
            date_to=form.period.date_to,
            managers=form.chosen_managers,
            mode=form.cleaned_data["mode"],
        )
        fmt = request.GET.get("format")
        if fmt:
            return _download(tables.funnel_table(result), fmt, "funnel", form)
        context.update(_funnel_context(result, form))
    return render(request, "reports/funnel.html", context)


def _funnel_context(result: Funnel, form: FunnelParamsForm) -> dict[str, Any]:
    base = reverse("reports:funnel_list")

    def link(stage: str, manager: str = "", refused: bool = False) -> str:
        flag = "1" if refused else None
        return f"{base}?{form.query(stage=stage, manager=manager or None, refused=flag)}"

    rows = []
    for row in result.rows:
        key = row.stage.key
        rows.append(
            {
                "row": row,
                "cells": [
                    {
                        "count": row.by_manager.get(m.id, 0),
                        "refused": row.refused_by_manager.get(m.id, 0),
                        "link": link(key, m.key),
                        "refused_link": link(key, m.key, refused=True),
                    }
                    for m in result.managers
                ],
                "link": link(key),
                "refused_link": link(key, refused=True),
            }
        )

    def bar_link(row: FunnelRow) -> str:
        return link(row.stage.key)

    return {
        "funnel": result,
        "rows": rows,
        "chart": charts.funnel_chart(result, bar_link),
        "query": form.query(),
        "mode_label": dict(MODE_LABELS)[result.mode],
    }


@login_required
def funnel_list(request: HttpRequest) -> HttpResponse:
    """The counterparties behind one number of the funnel, with links to their cards."""
    form = FunnelParamsForm(request.GET)
    if not form.is_valid():
        raise Http404
    stage = request.GET.get("stage", "")
    manager_param = request.GET.get("manager", "")
    if manager_param == NO_MANAGER:
        manager: Any = None
    elif manager_param.isdigit():
        manager = int(manager_param)
    elif not manager_param:
        manager = ALL_MANAGERS
    else:
        raise Http404
    refused = request.GET.get("refused") == "1"
    actor = _actor(request)
    try:
        members = funnel_members(
            actor,
            date_from=form.period.date_from,
            date_to=form.period.date_to,
            managers=form.chosen_managers,
            mode=form.cleaned_data["mode"],
            stage=stage,
            manager=manager,
            refused=refused,
        )
    except ReportError:
        raise Http404 from None
    with analytic_session():
        page = Paginator(members, PAGE_SIZE).get_page(request.GET.get("page"))
        page.object_list = list(page.object_list)
    status = field_of(get_table(actor, "counterparties"), "status")
    records = [
        {
            "record": c,
            "status": status.field_type.display(status, c.status),
            "manager": user_display(c.manager),
        }
        for c in page
    ]
    stage_label = next(s.label for s in funnel_stages(actor) if s.key == stage)
    if manager is ALL_MANAGERS:
        manager_label = _("все менеджеры")
    elif manager is None:
        manager_label = _("без менеджера")
    else:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(pk=manager).first()
        manager_label = user_display(user) if user else f"#{manager}"
    return render(
        request,
        "reports/funnel_list.html",
        {
            "form": form,
            "page": page,
            "records": records,
            "stage_label": stage_label,
            "manager_label": manager_label,
            "refused": refused,
            "mode_label": dict(MODE_LABELS)[form.cleaned_data["mode"]],
            "query": form.query(),
            "page_query": form.query(
                stage=stage, manager=manager_param or None, refused="1" if refused else None
            ),
        },
    )


@login_required
def performance(request: HttpRequest) -> HttpResponse:
    form = ReportParamsForm(request.GET)
    context: dict[str, Any] = {"form": form, "report": report_types.get("performance")}
    if form.is_valid():
        result = compute_performance(
            _actor(request),
            date_from=form.period.date_from,
            date_to=form.period.date_to,
            managers=form.chosen_managers,
        )
        table = tables.performance_table(result)
        fmt = request.GET.get("format")
        if fmt:
            return _download(table, fmt, "performance", form)
        series = [
            charts.Series(_("Звонки"), "#0d6efd"),
            charts.Series(_("Письма"), "#0dcaf0"),
            charts.Series(_("Встречи"), "#6f42c1"),
            charts.Series(_("Прочие работы"), "#adb5bd"),
        ]
        bars = [
            (
                row.manager.label,
                [
                    row.figures.calls,
                    row.figures.letters,
                    row.figures.meetings,
                    row.figures.work_done
                    - row.figures.calls
                    - row.figures.letters
                    - row.figures.meetings,
                ],
                str(row.figures.work_done),
            )
            for row in result.rows
        ]
        context.update(
            {
                "table": table,
                "cells": _cells(table),
                "query": form.query(),
                "chart": charts.bar_chart(
                    bars, series, title=_("Выполненные работы"), testid="performance-chart"
                ),
            }
        )
    return render(request, "reports/table_report.html", context)


@login_required
def sales(request: HttpRequest) -> HttpResponse:
    form = ReportParamsForm(request.GET)
    context: dict[str, Any] = {"form": form, "report": report_types.get("sales")}
    if form.is_valid():
        result = compute_sales(
            _actor(request),
            date_from=form.period.date_from,
            date_to=form.period.date_to,
            managers=form.chosen_managers,
        )
        table = tables.sales_table(result)
        fmt = request.GET.get("format")
        if fmt:
            return _download(table, fmt, "sales", form)
        money = table.columns[len(result.months) + 1]
        bars = [
            (row.manager.label, [float(row.total)], f"{money.show(row.total)} ₽")
            for row in result.rows
        ]
        context.update(
            {
                "table": table,
                "cells": _cells(table),
                "query": form.query(),
                "chart": charts.bar_chart(
                    bars,
                    [charts.Series(_("Оплачено"), "#198754")],
                    title=_("Оплачено по менеджерам"),
                    testid="sales-chart",
                ),
            }
        )
    return render(request, "reports/table_report.html", context)


def _cells(table: tables.ReportTable) -> list[list[tuple[str, bool]]]:
    """The table's rows as shown on the page: ``(text, is a number)`` per cell."""
    return [
        [
            ("" if value is None else column.show(value), column.kind == tables.NUMBER)
            for column, value in zip(table.columns, row, strict=True)
        ]
        for row in table.rows
    ]
