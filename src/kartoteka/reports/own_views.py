"""Pages of own reports: the builder («Новый отчёт»), a saved report, its files, save and delete.

Thin like every view: the definition comes from the query string (:mod:`.own`), is run by
:func:`~kartoteka.reports.builder.run_report` with the viewer's rights and rendered; problems of a
definition are shown on the page (a saved report whose field was deleted still opens and says
which field is gone).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, NotFound
from kartoteka.grids import selectors as grid_selectors
from kartoteka.records.selectors import list_tables
from kartoteka.reports import builder, own, selectors, services, tables
from kartoteka.reports.builder import Definition, ReportDefinitionError, run_report
from kartoteka.reports.models import FREQUENCIES, SavedReport
from kartoteka.tables.fieldtypes.base import OPERATOR_LABELS

FILTER_ROWS = 3


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, source="report")


def _result(actor: Actor, definition: Definition) -> dict[str, Any]:
    """Run a definition for the page: the result, its chart, or the problems."""
    try:
        result = run_report(actor, definition)
    except ReportDefinitionError as exc:
        return {"problems": exc.problems, "gone": exc.code == "unknown_field"}
    return {"result": result, "chart": own.report_chart(result), **own.page_context(result)}


def _download(actor: Actor, definition: Definition, fmt: str, name: str) -> HttpResponse:
    if fmt not in tables.FORMATS:
        raise Http404
    try:
        result = run_report(actor, definition, drill=False)
    except ReportDefinitionError:
        raise Http404 from None
    data = tables.export_table(own.report_table(result, name), fmt)
    response = HttpResponse(data, content_type=tables.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="report.{fmt}"'
    return response


def _form_context(actor: Actor, definition: Definition) -> dict[str, Any]:
    """The builder's choices for the chosen table (none until a table is chosen)."""
    tables_list = list_tables(actor)
    table = next((t for t in tables_list if t.key == definition.table), None)
    context: dict[str, Any] = {
        "tables": tables_list,
        "table": table,
        "functions": builder.FUNCTIONS.items(),
        "charts": builder.CHARTS.items(),
        "operators": OPERATOR_LABELS.items(),
        "definition": definition,
        "groups": Group.objects.order_by("name"),
    }
    if table is None:
        return context
    offered = builder.fields_for_builder(actor, table)
    groupings: list[tuple[str, str]] = []
    for key, label in offered["groupings"]:
        if builder.is_date(table, key):
            groupings += [
                (f"{key}:{by}", f"{label} — {name}") for by, name in builder.PERIODS.items()
            ]
        else:
            groupings.append((key, label))
    conditions = list(definition.conditions)
    conditions += [None] * max(FILTER_ROWS - len(conditions), 0)
    context.update(
        {
            "groupings": groupings,
            "fields": offered["all"],
            "numbers": offered["numbers"],
            "views": [v.view for v in grid_selectors.list_views(actor, table, with_counts=False)],
            "row_values": [_code(g) for g in definition.rows] + ["", ""],
            "column_value": _code(definition.column) if definition.column else "",
            "measure_values": [
                f"{m.fn}:{m.field}" if m.field else m.fn for m in definition.measures
            ]
            + ["", ""],
            "filter_rows": [_filter_row(c) for c in conditions],
        }
    )
    return context


def _code(grouping: builder.Grouping) -> str:
    return f"{grouping.field}:{grouping.by}" if grouping.by else grouping.field


def _filter_row(cond: Any) -> dict[str, str]:
    if cond is None:
        return {"field": "", "op": "", "value": "", "value2": ""}
    value, value2 = cond.value, ""
    if cond.op == "between" and isinstance(value, list | tuple):
        value, value2 = value
    elif isinstance(value, list | tuple):
        value = ",".join(str(v) for v in value)
    return {"field": cond.field, "op": cond.op, "value": value or "", "value2": value2}


@login_required
def new_report(request: HttpRequest) -> HttpResponse:
    """«Новый отчёт»: the builder. A saved report opens here for changes (``?report=N``)."""
    actor = _actor(request)
    definition = own.definition_from_query(request.GET)
    report = None
    report_param = request.GET.get("report", "")
    if report_param.isdigit():
        try:
            report = selectors.get_report(actor, int(report_param))
        except NotFound:
            raise Http404 from None
    fmt = request.GET.get("format")
    if fmt and definition.table:
        return _download(actor, definition, fmt, _("Отчёт"))
    context = _form_context(actor, definition)
    query = own.definition_query(definition)
    context.update(
        {"report": report, "query": query, "export_url": reverse("reports:new") + "?" + query}
    )
    if context["table"] is not None and (definition.rows or definition.chart == "number"):
        context.update(_result(actor, definition))
    return render(request, "reports/builder.html", context)


@login_required
@require_POST
def save_report(request: HttpRequest) -> HttpResponse:
    """Save the definition in the posted query (``query``) under a name, shared with groups."""
    from django.http import QueryDict

    actor = _actor(request)
    definition = own.definition_from_query(QueryDict(request.POST.get("query", "")))
    report = None
    if request.POST.get("report", "").isdigit():
        try:
            report = selectors.get_report(actor, int(request.POST["report"]))
        except NotFound:
            raise Http404 from None
    groups = list(
        Group.objects.filter(pk__in=[g for g in request.POST.getlist("groups") if g.isdigit()])
    )
    try:
        saved = services.save_report(
            actor, definition, name=request.POST.get("name", ""), groups=groups, report=report
        )
    except KartotekaError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("reports:new") + "?" + own.definition_query(definition))
    messages.success(request, _("Отчёт «%(name)s» сохранён.") % {"name": saved.name})
    return redirect("reports:saved", pk=saved.pk)


def _saved(request: HttpRequest, pk: int) -> SavedReport:
    try:
        return selectors.get_report(_actor(request), pk)
    except NotFound:
        raise Http404 from None


def saved_definition(report: SavedReport) -> Definition:
    try:
        return Definition.from_json(report.definition)
    except ReportDefinitionError:
        return Definition(table="")


@login_required
def saved_report(request: HttpRequest, pk: int) -> HttpResponse:
    """A saved report with the viewer's figures; a report that cannot run still opens and says
    why (a deleted field is named)."""
    report = _saved(request, pk)
    actor = _actor(request)
    definition = saved_definition(report)
    fmt = request.GET.get("format")
    if fmt:
        return _download(actor, definition, fmt, report.name)
    context: dict[str, Any] = {
        "report": report,
        "query": own.definition_query(definition),
        "may_change": report.owner_id == request.user.pk or actor.is_admin,
        "shared_with": list(report.groups.all()),
        "export_url": reverse("reports:saved", args=[report.pk]),
        "schedules": list(report.schedules.select_related("author")),
        "frequencies": FREQUENCIES,
    }
    context.update(_result(actor, definition))
    return render(request, "reports/saved.html", context)


@login_required
@require_POST
def delete_report(request: HttpRequest, pk: int) -> HttpResponse:
    report = _saved(request, pk)
    try:
        services.delete_report(_actor(request), report)
    except KartotekaError as exc:
        messages.error(request, exc.message)
        return redirect("reports:saved", pk=pk)
    messages.success(request, _("Отчёт «%(name)s» удалён.") % {"name": report.name})
    return redirect("reports:index")


def own_reports(actor: Actor) -> list[SavedReport]:
    return list(selectors.list_reports(actor))


@login_required
@require_POST
def schedule(request: HttpRequest, pk: int) -> HttpResponse:
    """Add an e-mail schedule to a saved report, or (``delete=N``) remove one."""
    from kartoteka.reports import schedule as schedules
    from kartoteka.reports.models import ReportSchedule

    report = _saved(request, pk)
    actor = _actor(request)
    try:
        if request.POST.get("delete", "").isdigit():
            found = ReportSchedule.objects.filter(report=report, pk=request.POST["delete"]).first()
            if found is None:
                raise Http404
            schedules.delete_schedule(actor, found)
            messages.success(request, _("Рассылка отменена."))
        else:
            schedules.schedule_report(
                actor,
                report,
                frequency=request.POST.get("frequency", ""),
                recipients=request.POST.get("recipients", ""),
            )
            messages.success(request, _("Рассылка настроена."))
    except KartotekaError as exc:
        messages.error(request, exc.message)
    return redirect("reports:saved", pk=pk)
