"""Own reports as the page, the files and the mail show them: the definition in a query string,
the chart drawn from the figures, the table for CSV/XLSX.

The builder's form travels in the URL like the grid's state (``t`` table, ``g`` row groupings as
``field`` or ``field:step``, ``c`` the column grouping, ``ms`` measures as ``fn:field``, ``chart``,
``view``, ``match``, ``q`` and the grid's own ``ff``/``fo``/``fv``/``fv2`` conditions), so a report
being built can be reloaded, bookmarked and shared before it is saved.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from kartoteka.reports import charts, tables
from kartoteka.reports.builder import Definition, Grouping, Measure, ReportResult
from kartoteka.web.gridstate import parse_state


def _grouping(text: str) -> Grouping | None:
    text = text.strip()
    if not text:
        return None
    key, _colon, by = text.partition(":")
    return Grouping(key, by)


def definition_from_query(get: QueryDict) -> Definition:
    state = parse_state(get)
    measures = []
    for text in get.getlist("ms"):
        fn, _colon, key = text.partition(":")
        if fn:
            measures.append(Measure(fn, key))
    view = get.get("view", "")
    return Definition(
        table=get.get("t", ""),
        rows=[g for g in (_grouping(t) for t in get.getlist("g")) if g is not None],
        column=_grouping(get.get("c", "")),
        measures=measures or [Measure()],
        conditions=state.conditions,
        match="any" if get.get("match") == "any" else "all",
        search=get.get("q", "").strip(),
        view=int(view) if view.isdigit() else None,
        chart=get.get("chart", "bar") or "bar",
        totals=get.get("totals", "1") != "0",
    )


def definition_query(definition: Definition) -> str:
    params: list[tuple[str, str]] = [("t", definition.table)]
    params += [("g", f"{g.field}:{g.by}" if g.by else g.field) for g in definition.rows]
    if definition.column:
        c = definition.column
        params.append(("c", f"{c.field}:{c.by}" if c.by else c.field))
    params += [("ms", f"{m.fn}:{m.field}" if m.field else m.fn) for m in definition.measures]
    params.append(("chart", definition.chart))
    if definition.view:
        params.append(("view", str(definition.view)))
    if definition.match == "any":
        params.append(("match", "any"))
    if definition.search:
        params.append(("q", definition.search))
    for cond in definition.conditions:
        value, value2 = cond.value, ""
        if cond.op == "between" and isinstance(value, list | tuple):
            value, value2 = value
        elif isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        params += [("ff", cond.field), ("fo", cond.op)]
        params += [("fv", "" if value is None else str(value)), ("fv2", str(value2))]
    return urlencode(params)


def _float(value: Any) -> float:
    return float(value) if value is not None else 0.0


def chart_data(result: ReportResult) -> charts.ChartData:
    """The first measure as categories × series: a pivot's columns are the series; with two
    row groupings the second one is."""
    show = result.show
    total = charts.Point(
        _float(result.total.values[0]), show(0, result.total.values[0]), result.total.url
    )
    if result.pivot:
        categories = [" / ".join(k.label for k in r.keys) for r in result.rows]
        series = [c.label for c in result.columns]
        points = [
            [
                charts.Point(
                    _float(r.cells[i].values[0]), show(0, r.cells[i].values[0]), r.cells[i].url
                )
                for r in result.rows
            ]
            for i in range(len(result.columns))
        ]
        return charts.ChartData(categories, series, points, total)
    if len(result.plan.rows) == 2:
        categories, series = [], []
        cells: dict[tuple[str, str], Any] = {}
        for r in result.rows:
            first, second = r.keys[0].label, r.keys[1].label
            if first not in categories:
                categories.append(first)
            if second not in series:
                series.append(second)
            cells[(first, second)] = r.total
        empty = charts.Point(0.0, show(0, 0))
        points = [
            [
                charts.Point(
                    _float(cells[(c, s)].values[0]),
                    show(0, cells[(c, s)].values[0]),
                    cells[(c, s)].url,
                )
                if (c, s) in cells
                else empty
                for c in categories
            ]
            for s in series
        ]
        return charts.ChartData(categories, series, points, total)
    categories = [" / ".join(k.label for k in r.keys) for r in result.rows]
    points = [
        [
            charts.Point(_float(r.total.values[0]), show(0, r.total.values[0]), r.total.url)
            for r in result.rows
        ]
    ]
    return charts.ChartData(categories, [result.plan.measure_label(0)], points, total)


def report_chart(
    result: ReportResult, *, title: str = "", testid: str = "report-chart"
) -> SafeString | None:
    """The report's chart as inline SVG (``None`` for «Только таблица»)."""
    kind = result.plan.definition.chart
    title = title or result.plan.measure_label(0)
    data = chart_data(result)
    if kind == "table":
        return None
    if kind == "number" or not data.categories:
        return charts.number_chart(
            data.total, result.plan.measure_label(0), title=title, testid=testid
        )
    if kind in ("bar", "stacked"):
        return charts.column_chart(data, stacked=kind == "stacked", title=title, testid=testid)
    if kind == "line":
        return charts.line_chart(data, title=title, testid=testid)
    totals = [
        (
            label,
            charts.Point(
                sum(s[i].value for s in data.points),
                _sum_text(result, data, i),
                _row_url(result, data, i),
            ),
        )
        for i, label in enumerate(data.categories)
    ]
    if kind == "funnel":
        return charts.steps_chart(totals, title=title, testid=testid)
    return charts.pie_chart(totals, donut=kind == "donut", title=title, testid=testid)


def _sum_text(result: ReportResult, data: charts.ChartData, index: int) -> str:
    if len(data.series) == 1:
        return data.points[0][index].text
    return result.show(0, sum(s[index].value for s in data.points))


def _row_url(result: ReportResult, data: charts.ChartData, index: int) -> str:
    if len(data.series) == 1:
        return data.points[0][index].url
    if result.pivot:
        return result.rows[index].total.url
    return ""


def report_table(result: ReportResult, title: str) -> tables.ReportTable:
    """The report as a plain table: the group labels, then a number per measure (per column of a
    pivot), then the row's total."""
    plan = result.plan
    labels = [a.label for a in plan.rows] or [_("Показатель")]
    columns = [tables.text(label, i) for i, label in enumerate(labels)]
    index = len(columns)
    heads: list[tuple[str, int]] = []
    for col in result.columns if result.pivot else [None]:
        for m in range(len(plan.measures)):
            name = plan.measure_label(m)
            heads.append((f"{col.label} · {name}" if col is not None else name, m))
    if result.pivot:
        heads += [
            (_("Итого · %(m)s") % {"m": plan.measure_label(m)}, m)
            for m in range(len(plan.measures))
        ]
    for label, m in heads:
        columns.append(tables.number(label, index, _places(result, m)))
        index += 1
    rows: list[list[Any]] = []
    for r in result.rows:
        values: list[Any] = [k.label for k in r.keys]
        for cell in [*r.cells, r.total] if result.pivot else [r.total]:
            values += list(cell.values)
        rows.append(values)
    if plan.definition.totals:
        total_row: list[Any] = [_("Итого")] + [""] * (len(labels) - 1)
        for cell in [*result.column_totals, result.total] if result.pivot else [result.total]:
            total_row += list(cell.values)
        rows.append(total_row)
    return tables.ReportTable(title, columns, rows)


def _places(result: ReportResult, index: int) -> int:
    measure, mfield = result.plan.measures[index]
    if mfield is None or measure.fn == "count_distinct":
        return 0
    if measure.fn == "avg":
        return 2
    return int(mfield.options.get("decimal_places", 2)) if mfield.type != "integer" else 0


def page_context(result: ReportResult) -> dict[str, Any]:
    """The table's figures as the page shows them: each cell's text (its measures joined by
    « · ») and its drill-down URL."""

    def shown(cell: Any) -> dict[str, str]:
        text = " · ".join(result.show(i, v) for i, v in enumerate(cell.values))
        return {"text": text, "url": cell.url}

    return {
        "shown_rows": [
            {"keys": r.keys, "cells": [shown(c) for c in r.cells], "total": shown(r.total)}
            for r in result.rows
        ],
        "shown_column_totals": [shown(c) for c in result.column_totals],
        "shown_total": shown(result.total),
        "measure_labels": [result.plan.measure_label(i) for i in range(len(result.plan.measures))],
    }
