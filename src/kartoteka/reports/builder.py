"""Own reports («Новый отчёт»): any readable table grouped, measured and charted.

A :class:`Definition` names a table, its filter (conditions in the grid's language, or a saved
view), one or two row groupings, an optional column grouping (a pivot), measures and a chart. It
is checked by one function, :func:`validate`, which refuses an unknown or hidden field, a sum over
a non-number, a date grouping of a non-date — every problem at once, in Russian — and computed by
:func:`run_report` as one ``GROUP BY`` over the queryset of
:func:`kartoteka.records.selectors.list_records`, so the viewer's row and field rights hold for
every figure. Each figure carries the grid URL of exactly its records (:func:`drill_url`).

Groupings: a choice, user, link, boolean or text field; a field of the linked record
(``"counterparty.city"``); a date or date-time by ``day``/``week``/``month``/``quarter``/``year``.
Measures: ``count``, ``count_distinct`` (of any field), ``sum``/``avg``/``min``/``max`` (of
integer, decimal and money fields).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db import connection
from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    F,
    Func,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Trunc
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kartoteka.access import rights
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, NotFound, RecordValidationError
from kartoteka.records.selectors import (
    Condition,
    get_table,
    link_titles,
    list_records,
    readable_targets,
)
from kartoteka.tables.fieldtypes.choice import choices_of
from kartoteka.tables.fieldtypes.user import user_display
from kartoteka.tables.modelfactory import fields_of
from kartoteka.tables.models import Field, Table

GROUPABLE = {"choice", "user", "link", "boolean", "text", "date", "datetime", "email", "phone"}
DATES = {"date", "datetime"}
NUMBERS = {"integer", "decimal", "money"}
PERIODS = {
    "day": gettext_lazy("по дням"),
    "week": gettext_lazy("по неделям"),
    "month": gettext_lazy("по месяцам"),
    "quarter": gettext_lazy("по кварталам"),
    "year": gettext_lazy("по годам"),
}
FUNCTIONS = {
    "count": gettext_lazy("Количество"),
    "count_distinct": gettext_lazy("Количество разных"),
    "sum": gettext_lazy("Сумма"),
    "avg": gettext_lazy("Среднее"),
    "min": gettext_lazy("Минимум"),
    "max": gettext_lazy("Максимум"),
}
CHARTS = {
    "bar": gettext_lazy("Столбцы"),
    "stacked": gettext_lazy("Столбцы с накоплением"),
    "line": gettext_lazy("Линия"),
    "pie": gettext_lazy("Круговая"),
    "donut": gettext_lazy("Кольцевая"),
    "funnel": gettext_lazy("Воронка"),
    "number": gettext_lazy("Одно число"),
    "table": gettext_lazy("Только таблица"),
}
#: At most this many columns of a pivot are shown; the rest are named in a message.
MAX_COLUMNS = 40
#: At most this many rows are shown.
MAX_ROWS = 500
MAX_MEASURES = 4
#: A drill-down into a field of linked records lists those records' ids; above this it is not
#: offered (the URL would be too long to be useful).
MAX_DRILL_IDS = 300
EMPTY = "__empty__"


class ReportDefinitionError(KartotekaError):
    """A definition that cannot run; ``problems`` lists every reason in Russian.

    Codes: ``invalid_report`` (the definition), ``unknown_field`` when the only problems are
    fields that are gone (a saved report whose field was deleted), ``unknown_table`` for a table
    the actor may not read (or that is gone)."""

    code = "invalid_report"

    def __init__(self, problems: list[str], *, code: str | None = None) -> None:
        super().__init__(" ".join(problems), code=code)
        self.problems = problems


@dataclass(frozen=True)
class Grouping:
    field: str
    by: str = ""

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "by": self.by} if self.by else {"field": self.field}


@dataclass(frozen=True)
class Measure:
    fn: str = "count"
    field: str = ""

    def as_json(self) -> dict[str, str]:
        return {"fn": self.fn, "field": self.field} if self.field else {"fn": self.fn}


@dataclass
class Definition:
    table: str
    rows: list[Grouping] = field(default_factory=list)
    column: Grouping | None = None
    measures: list[Measure] = field(default_factory=lambda: [Measure()])
    conditions: list[Condition] = field(default_factory=list)
    match: str = "all"
    search: str = ""
    view: int | None = None
    chart: str = "bar"
    totals: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "rows": [g.as_json() for g in self.rows],
            "column": self.column.as_json() if self.column else None,
            "measures": [m.as_json() for m in self.measures],
            "filters": [[c.field, c.op, c.value] for c in self.conditions],
            "match": self.match,
            "search": self.search,
            "view": self.view,
            "chart": self.chart,
            "totals": self.totals,
        }

    @classmethod
    def from_json(cls, data: Any) -> Definition:
        """A definition from its JSON form (the API, a saved report); shape errors are
        ``ReportDefinitionError``, field checks are :func:`validate`'s."""
        if not isinstance(data, dict) or not isinstance(data.get("table"), str):
            raise ReportDefinitionError([_("Укажите таблицу отчёта.")])
        try:
            rows = [_grouping(g) for g in data.get("rows") or []]
            column = _grouping(data["column"]) if data.get("column") else None
            measures = [
                Measure(str(m.get("fn", "count")), str(m.get("field") or ""))
                for m in data.get("measures") or [{"fn": "count"}]
            ]
            conditions = [
                Condition(str(f[0]), str(f[1]), f[2] if len(f) > 2 else None)
                for f in data.get("filters") or []
            ]
            view = data.get("view")
            return cls(
                table=data["table"],
                rows=rows,
                column=column,
                measures=measures,
                conditions=conditions,
                match="any" if data.get("match") == "any" else "all",
                search=str(data.get("search") or ""),
                view=int(view) if view not in (None, "") else None,
                chart=str(data.get("chart") or "bar"),
                totals=bool(data.get("totals", True)),
            )
        except (AttributeError, KeyError, TypeError, ValueError, IndexError):
            raise ReportDefinitionError([_("Описание отчёта не разобрано.")]) from None


def _grouping(data: Any) -> Grouping:
    if isinstance(data, str):
        return Grouping(data)
    return Grouping(str(data["field"]), str(data.get("by") or ""))


# -- validation ----------------------------------------------------------------------------------


@dataclass
class Axis:
    """A checked grouping: the field (and the linked record's field for ``link.sub``)."""

    grouping: Grouping
    field: Field
    sub: Field | None = None

    @property
    def shown(self) -> Field:
        return self.sub or self.field

    @property
    def label(self) -> str:
        text = self.field.label if self.sub is None else f"{self.field.label} → {self.sub.label}"
        return f"{text} ({PERIODS[self.grouping.by]})" if self.grouping.by else text


@dataclass
class Plan:
    """A validated definition: the table, its checked axes and measures, the filter."""

    definition: Definition
    table: Table
    rows: list[Axis]
    column: Axis | None
    measures: list[tuple[Measure, Field | None]]
    conditions: list[Condition]
    match: str
    search: str

    def measure_label(self, index: int) -> str:
        measure, mfield = self.measures[index]
        name = str(FUNCTIONS[measure.fn])
        return f"{name}: {mfield.label}" if mfield is not None else name


def validate(actor: Actor, definition: Definition) -> Plan:
    """Check a definition for the actor; every problem is collected and raised at once as
    :class:`ReportDefinitionError`. A hidden field gets the same answer as a missing one: its
    grouping, filter or sum would reveal its values."""
    try:
        table = get_table(actor, definition.table)
    except NotFound:
        raise ReportDefinitionError(
            [_("Таблица «%(key)s» не найдена.") % {"key": definition.table}], code="unknown_table"
        ) from None
    visible = {f.key: f for f in rights.visible_fields(actor, table)}
    problems: list[str] = []
    gone: list[str] = []

    def known(key: str, where: Table, fields: dict[str, Field]) -> Field | None:
        found = fields.get(key)
        if found is None:
            gone.append(key)
            problems.append(
                _("Поля «%(key)s» нет в таблице «%(table)s» (или оно вам недоступно).")
                % {"key": key, "table": where.label}
            )
        return found

    def axis(grouping: Grouping) -> Axis | None:
        key, _dot, sub_key = grouping.field.partition(".")
        base = known(key, table, visible)
        if base is None:
            return None
        sub = None
        if sub_key:
            if base.type != "link" or base.link_table is None:
                problems.append(
                    _("Поле «%(field)s» — не связь: у него нет полей связанной записи.")
                    % {"field": base.label}
                )
                return None
            target = base.link_table
            if not rights.can(actor, target, "view"):
                problems.append(_("Таблица «%(table)s» вам недоступна.") % {"table": target.label})
                return None
            sub = known(sub_key, target, {f.key: f for f in rights.visible_fields(actor, target)})
            if sub is None:
                return None
            if sub.type == "link":
                problems.append(_("Группировать можно только по полю связанной записи, не глубже."))
                return None
        shown = sub or base
        if shown.type not in GROUPABLE:
            problems.append(
                _("По полю «%(field)s» нельзя группировать (тип «%(type)s»).")
                % {"field": shown.label, "type": shown.field_type.label}
            )
            return None
        if shown.type in DATES:
            if grouping.by not in PERIODS:
                problems.append(
                    _("Для даты «%(field)s» выберите шаг: день, неделя, месяц, квартал или год.")
                    % {"field": shown.label}
                )
                return None
        elif grouping.by:
            problems.append(
                _("Поле «%(field)s» — не дата: группировать его по периодам нельзя.")
                % {"field": shown.label}
            )
            return None
        return Axis(grouping, base, sub)

    if not definition.rows and definition.chart != "number":
        problems.append(_("Выберите поле, по которому группировать строки."))
    if len(definition.rows) > 2:
        problems.append(_("Строки группируются не больше чем по двум полям."))
    rows = [a for a in (axis(g) for g in definition.rows[:2]) if a is not None]
    column = axis(definition.column) if definition.column else None
    if definition.column and len(definition.rows) > 1:
        problems.append(_("Со столбцами строки группируются только по одному полю."))

    if not definition.measures:
        problems.append(_("Выберите, что считать."))
    if len(definition.measures) > MAX_MEASURES:
        problems.append(_("Не больше %(n)s показателей.") % {"n": MAX_MEASURES})
    measures: list[tuple[Measure, Field | None]] = []
    for measure in definition.measures[:MAX_MEASURES]:
        if measure.fn not in FUNCTIONS:
            problems.append(_("Неизвестный показатель «%(fn)s».") % {"fn": measure.fn})
            continue
        if measure.fn == "count":
            measures.append((measure, None))
            continue
        if not measure.field:
            problems.append(
                _("Для показателя «%(fn)s» выберите поле.") % {"fn": FUNCTIONS[measure.fn]}
            )
            continue
        mfield = known(measure.field, table, visible)
        if mfield is None:
            continue
        if measure.fn != "count_distinct" and mfield.type not in NUMBERS:
            problems.append(
                _("«%(fn)s» считается только по числам и деньгам, а «%(field)s» — %(type)s.")
                % {
                    "fn": FUNCTIONS[measure.fn],
                    "field": mfield.label,
                    "type": str(mfield.field_type.label).lower(),
                }
            )
            continue
        measures.append((measure, mfield))
    if definition.chart not in CHARTS:
        problems.append(_("Неизвестный вид диаграммы «%(chart)s».") % {"chart": definition.chart})

    conditions, match, search = list(definition.conditions), definition.match, definition.search
    if definition.view is not None:
        from kartoteka.grids import selectors as grid_selectors
        from kartoteka.grids.services import view_conditions

        try:
            view = grid_selectors.get_view(actor, table, definition.view)
        except NotFound:
            problems.append(_("Сохранённый фильтр №%(n)s не найден.") % {"n": definition.view})
        else:
            conditions = view_conditions(view) + conditions
            match, search = view.match, view.search or search
    for cond in conditions:
        if cond.field not in visible:
            known(cond.field, table, visible)
    if problems:
        raise ReportDefinitionError(
            problems, code="unknown_field" if len(gone) == len(problems) else None
        )
    plan = Plan(definition, table, rows, column, measures, conditions, match, search)
    try:
        _filtered(actor, plan)
    except RecordValidationError as exc:
        raise ReportDefinitionError(
            [
                _("Фильтр: %(field)s — %(message)s") % {"field": e.field, "message": e.message}
                for e in exc.errors
            ]
        ) from None
    return plan


def _filtered(actor: Actor, plan: Plan) -> QuerySet:
    return list_records(
        actor,
        plan.table,
        conditions=plan.conditions,
        match=plan.match,
        search=plan.search,
        ordering=(),
    ).order_by()


# -- the query -----------------------------------------------------------------------------------


def _expression(actor: Actor, axis: Axis) -> Any:
    """The SQL expression a grouping groups by. A link to a record the actor may not read is
    grouped as empty, as the grid shows it (and as its filter finds it)."""
    base, sub = axis.field, axis.sub
    if sub is not None:
        name = f"{base.key}__{sub.key}" + ("_id" if sub.field_type.is_relation else "")
    else:
        name = f"{base.key}_id" if base.field_type.is_relation else base.key
    shown = axis.shown
    if shown.type == "boolean":
        expr: Any = Coalesce(F(name), Value(False))
    elif shown.type == "date" and connection.vendor == "sqlite":
        expr = SqliteDateStart(F(name), by=axis.grouping.by)
    elif shown.type in DATES:
        expr = Trunc(name, axis.grouping.by)
    else:
        expr = F(name)
    if base.type == "link":
        targets = readable_targets(actor, base)
        if targets is not None:
            expr = Case(When(**{f"{base.key}_id__in": targets}, then=expr), default=None)
    return expr


class SqliteDateStart(Func):
    """The first day of a date's period as ``YYYY-MM-DD`` text, in SQLite's own date functions.

    Django's ``Trunc`` on SQLite calls back into Python for every row — the figures are the same
    but a million rows take seconds; PostgreSQL's ``date_trunc`` is native already. (``%%%%``:
    once for the template, once for the backend's parameter style.)"""

    output_field = CharField()
    TEMPLATES = {
        "day": "date(%(expressions)s)",
        "week": "date(%(expressions)s, '-' || ((CAST(strftime('%%%%w', %(expressions)s) AS "
        "INTEGER) + 6) %%%% 7) || ' days')",
        "month": "strftime('%%%%Y-%%%%m-01', %(expressions)s)",
        "quarter": "printf('%%%%s-%%%%02d-01', strftime('%%%%Y', %(expressions)s), "
        "((CAST(strftime('%%%%m', %(expressions)s) AS INTEGER) - 1) / 3) * 3 + 1)",
        "year": "strftime('%%%%Y-01-01', %(expressions)s)",
    }

    def __init__(self, expression: Any, *, by: str) -> None:
        super().__init__(expression, template=self.TEMPLATES[by])


def _aggregate(measure: Measure, mfield: Field | None) -> Any:
    if measure.fn == "count":
        return Count("pk")
    assert mfield is not None
    name = f"{mfield.key}_id" if mfield.field_type.is_relation else mfield.key
    if measure.fn == "count_distinct":
        return Count(name, distinct=True)
    return {"sum": Sum, "avg": Avg, "min": Min, "max": Max}[measure.fn](name)


@dataclass
class Key:
    """One group value: ``value`` as stored (``None``: empty), its label and its sort key."""

    value: Any
    label: str
    order: Any = None


@dataclass
class Cell:
    values: list[Any]
    url: str = ""


@dataclass
class ReportRow:
    keys: list[Key]
    cells: list[Cell]
    total: Cell


@dataclass
class ReportResult:
    plan: Plan
    columns: list[Key]
    rows: list[ReportRow]
    column_totals: list[Cell]
    total: Cell
    warnings: list[str] = field(default_factory=list)

    @property
    def title_columns(self) -> list[str]:
        return [a.label for a in self.plan.rows]

    @property
    def pivot(self) -> bool:
        return self.plan.column is not None

    def show(self, index: int, value: Any) -> str:
        return show_value(self.plan, index, value)

    def as_api(self) -> dict[str, Any]:
        plan = self.plan

        def cell(c: Cell) -> dict[str, Any]:
            return {"values": [_json(v) for v in c.values], "url": c.url}

        return {
            "table": plan.table.key,
            "rows_by": [a.label for a in plan.rows],
            "columns_by": plan.column.label if plan.column else None,
            "measures": [plan.measure_label(i) for i in range(len(plan.measures))],
            "columns": [{"key": _json(k.value), "label": k.label} for k in self.columns],
            "rows": [
                {
                    "keys": [{"key": _json(k.value), "label": k.label} for k in r.keys],
                    "cells": [cell(c) for c in r.cells],
                    "total": cell(r.total),
                }
                for r in self.rows
            ],
            "column_totals": [cell(c) for c in self.column_totals],
            "total": cell(self.total),
            "warnings": self.warnings,
        }


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def show_value(plan: Plan, index: int, value: Any) -> str:
    """A measure's value as the page shows it (money and decimals with their places)."""
    measure, mfield = plan.measures[index]
    if value is None:
        return "—"
    if mfield is None or measure.fn == "count_distinct":
        return formats.number_format(value, 0, force_grouping=True)
    if measure.fn == "avg":
        return formats.number_format(Decimal(str(value)), 2, force_grouping=True)
    return mfield.field_type.display(mfield, value)


def run_report(actor: Actor, definition: Definition, *, drill: bool = True) -> ReportResult:
    """Validate and compute a report for the actor: one ``GROUP BY`` for the figures (plus one
    per total for averages and distinct counts, which do not add up)."""
    plan = validate(actor, definition)
    qs = _filtered(actor, plan)
    axes = [*plan.rows, *([plan.column] if plan.column else [])]
    names = [f"g{i}" for i in range(len(axes))]
    aggregates = {f"m{i}": _aggregate(m, f) for i, (m, f) in enumerate(plan.measures)}
    if axes:
        grouped = list(
            qs.annotate(**{n: _expression(actor, a) for n, a in zip(names, axes, strict=True)})
            .values(*names)
            .annotate(**aggregates)
            .order_by()
        )
    else:
        grouped = [qs.aggregate(**aggregates)]
    keys: list[dict[Any, Key]] = [
        _keys(actor, a, {_normal(a, g[n]) for g in grouped})
        for n, a in zip(names, axes, strict=True)
    ]
    additive = all(m.fn in ("count", "sum", "min", "max") for m, _f in plan.measures)
    row_axes = len(plan.rows)
    warnings: list[str] = []

    columns: list[Key] = []
    if plan.column is not None:
        columns = sorted(keys[-1].values(), key=_sort_key)
        if len(columns) > MAX_COLUMNS:
            warnings.append(
                _(
                    "Столбцов получилось %(n)s — показаны первые %(max)s. Уточните фильтр "
                    "или выберите для столбцов другое поле; итоги посчитаны по всем."
                )
                % {"n": len(columns), "max": MAX_COLUMNS}
            )
            columns = columns[:MAX_COLUMNS]

    by_row: dict[tuple, dict[Any, list[Any]]] = {}
    for g in grouped:
        row_key = tuple(_normal(a, g[n]) for n, a in zip(names[:row_axes], plan.rows, strict=True))
        col_key = _normal(plan.column, g[names[-1]]) if plan.column else None
        by_row.setdefault(row_key, {})[col_key] = _values(plan, g)

    def combine(parts: list[list[Any]]) -> list[Any]:
        out = []
        for i, (m, _f) in enumerate(plan.measures):
            values = [p[i] for p in parts if p[i] is not None]
            if not values:
                out.append(0 if m.fn in ("count", "sum") else None)
            elif m.fn in ("count", "sum"):
                out.append(sum(values))
            else:
                out.append(min(values) if m.fn == "min" else max(values))
        return out

    zero = [0 if m.fn in ("count", "count_distinct", "sum") else None for m, _f in plan.measures]
    row_keys = sorted(by_row, key=lambda k: tuple(_sort_key(keys[i][v]) for i, v in enumerate(k)))
    if len(row_keys) > MAX_ROWS:
        warnings.append(
            _("Строк получилось %(n)s — показаны первые %(max)s.")
            % {"n": len(row_keys), "max": MAX_ROWS}
        )
        row_keys = row_keys[:MAX_ROWS]

    exact_totals: dict[str, Any] = {}
    if not additive and (plan.column is not None or row_axes > 0):
        exact_totals = _exact_totals(actor, plan, qs, aggregates)

    rows: list[ReportRow] = []
    for row_key in row_keys:
        parts = by_row[row_key]
        row_keys_shown = [keys[i][v] for i, v in enumerate(row_key)]
        drill_base = [(a, v) for a, v in zip(plan.rows, row_key, strict=True)]
        cells = []
        if plan.column is not None:
            for col in columns:
                values = parts.get(col.value, zero)
                url = (
                    drill_url(actor, plan, [*drill_base, (plan.column, col.value)]) if drill else ""
                )
                cells.append(Cell(list(values), url))
            total_values = (
                combine(list(parts.values()))
                if additive
                else exact_totals["rows"].get(row_key, zero)
            )
            total = Cell(total_values, drill_url(actor, plan, drill_base) if drill else "")
        else:
            total = Cell(
                list(parts.get(None, zero)), drill_url(actor, plan, drill_base) if drill else ""
            )
        rows.append(ReportRow(row_keys_shown, cells, total))
    column_totals = []
    if plan.column is not None:
        for col in columns:
            if additive:
                values = combine([p[col.value] for p in by_row.values() if col.value in p])
            else:
                values = exact_totals["columns"].get(col.value, zero)
            column_totals.append(
                Cell(values, drill_url(actor, plan, [(plan.column, col.value)]) if drill else "")
            )
    if not axes:
        grand = _values(plan, grouped[0])
    elif additive:
        grand = combine([p for parts in by_row.values() for p in parts.values()])
    else:
        grand = exact_totals["grand"]
    total = Cell(grand, drill_url(actor, plan, []) if drill else "")
    return ReportResult(plan, columns, rows, column_totals, total, warnings)


def _exact_totals(actor: Actor, plan: Plan, qs: QuerySet, aggregates: dict[str, Any]) -> dict:
    """Totals of measures that do not add up (averages, distinct counts): their own queries."""
    out: dict[str, Any] = {"rows": {}, "columns": {}}
    out["grand"] = _values(plan, qs.aggregate(**aggregates))
    if plan.column is not None:
        row_names = [f"g{i}" for i in range(len(plan.rows))]
        for g in (
            qs.annotate(
                **{n: _expression(actor, a) for n, a in zip(row_names, plan.rows, strict=True)}
            )
            .values(*row_names)
            .annotate(**aggregates)
            .order_by()
        ):
            key = tuple(_normal(a, g[n]) for n, a in zip(row_names, plan.rows, strict=True))
            out["rows"][key] = _values(plan, g)
        for g in (
            qs.annotate(c=_expression(actor, plan.column))
            .values("c")
            .annotate(**aggregates)
            .order_by()
        ):
            out["columns"][_normal(plan.column, g["c"])] = _values(plan, g)
    return out


def _values(plan: Plan, row: dict[str, Any]) -> list[Any]:
    """A group's measures as the fields keep them: sums of money with their kopecks (SQLite
    answers ``2333.30000000000``), averages to hundredths."""
    out = []
    for i, (measure, mfield) in enumerate(plan.measures):
        value = row[f"m{i}"]
        if value is not None and mfield is not None and measure.fn != "count_distinct":
            if measure.fn == "avg":
                value = Decimal(str(value)).quantize(Decimal("0.01"))
            elif mfield.type != "integer":
                places = int(mfield.options.get("decimal_places", 2))
                value = Decimal(str(value)).quantize(Decimal(1).scaleb(-places))
        out.append(value)
    return out


def _normal(axis: Axis | None, value: Any) -> Any:
    """A group value as Python compares it: a truncated date-time → the local date."""
    if isinstance(value, str) and axis is not None and axis.shown.type == "date":
        return dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    if value == "":
        return None
    return value


def _keys(actor: Actor, axis: Axis, values: set[Any]) -> dict[Any, Key]:
    """Labels (and sort order) of the values of one grouping."""
    shown = axis.shown
    out: dict[Any, Key] = {}
    present = {v for v in values if v is not None}
    if shown.type == "choice":
        choices = {c.key: (c.label, c.position) for c in choices_of(shown)}
        for v in present:
            label, position = choices.get(v, (v, 10_000))
            out[v] = Key(v, str(label), (0, position))
    elif shown.type == "user":
        from django.contrib.auth import get_user_model

        users = {u.pk: user_display(u) for u in get_user_model().objects.filter(pk__in=present)}
        for v in present:
            out[v] = Key(v, users.get(v, f"#{v}"), (0, users.get(v, "").lower()))
    elif shown.type == "link":
        titles = link_titles(actor, shown, present)
        for v in present:
            out[v] = Key(v, titles.get(v, f"#{v}"), (0, titles.get(v, "").lower()))
    elif shown.type == "boolean":
        for v in present:
            out[v] = Key(v, _("Да") if v else _("Нет"), (0, not v))
    elif shown.type in DATES:
        for v in present:
            out[v] = Key(v, period_label(v, axis.grouping.by), (0, v))
    else:
        for v in present:
            out[v] = Key(v, str(v), (0, str(v).lower()))
    if None in values:
        out[None] = Key(None, _("(пусто)"), (1,))
    return out


def _sort_key(key: Key) -> Any:
    return key.order


def period_label(day: dt.date, by: str) -> str:
    if by == "day":
        return formats.date_format(day, "d.m.Y")
    if by == "week":
        return _("неделя с %(day)s") % {"day": formats.date_format(day, "d.m.Y")}
    if by == "month":
        return formats.date_format(day, "F Y")
    if by == "quarter":
        return _("%(q)s кв. %(year)s") % {"q": (day.month - 1) // 3 + 1, "year": day.year}
    return str(day.year)


def period_end(day: dt.date, by: str) -> dt.date:
    """The first day after the period that starts on ``day``."""
    if by == "day":
        return day + dt.timedelta(days=1)
    if by == "week":
        return day + dt.timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[by]
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


# -- drill-down ----------------------------------------------------------------------------------


def group_conditions(actor: Actor, axis: Axis, value: Any) -> list[Condition] | None:
    """The grid conditions that select exactly the records of one group value; ``None`` when the
    grid's filter cannot say it (a field of linked records with too many such records)."""
    key = axis.field.key
    if value is None:
        if axis.sub is None:
            return [Condition(key, "empty")] if axis.shown.type != "boolean" else None
        return None
    if axis.sub is not None:
        ids = _linked_ids(actor, axis, value)
        if ids is None:
            return None
        return [Condition(key, "in", [str(i) for i in ids] or ["0"])]
    shown = axis.shown
    if shown.type in DATES:
        end = period_end(value, axis.grouping.by)
        if shown.type == "date":
            last = end - dt.timedelta(days=1)
            return [Condition(key, "between", [value.isoformat(), last.isoformat()])]
        return [Condition(key, "gte", value.isoformat()), Condition(key, "lt", end.isoformat())]
    if shown.type == "boolean":
        return [Condition(key, "eq", "1" if value else "0")]
    return [Condition(key, "eq", str(value))]


def _linked_ids(actor: Actor, axis: Axis, value: Any) -> list[int] | None:
    from kartoteka.records.selectors import base_queryset

    assert axis.sub is not None and axis.field.link_table is not None
    sub = axis.sub
    name = f"{sub.key}_id" if sub.field_type.is_relation else sub.key
    qs = base_queryset(actor, axis.field.link_table, state=None)
    if sub.type in DATES:
        low = value
        high = period_end(value, axis.grouping.by)
        if sub.type == "datetime":
            low = timezone.make_aware(dt.datetime.combine(low, dt.time.min))
            high = timezone.make_aware(dt.datetime.combine(high, dt.time.min))
        q = Q(**{f"{name}__gte": low, f"{name}__lt": high})
    elif sub.type == "boolean":
        q = Q(**{name: True}) if value else Q(**{name: False}) | Q(**{f"{name}__isnull": True})
    else:
        q = Q(**{name: value})
    ids = list(qs.filter(q).values_list("pk", flat=True)[: MAX_DRILL_IDS + 1])
    return None if len(ids) > MAX_DRILL_IDS else ids


def drill_url(actor: Actor, plan: Plan, groups: list[tuple[Axis, Any]]) -> str:
    """The grid of exactly the records behind a figure: the report's filter and one condition
    (or two) per group value, in the grid's own query parameters. Empty when the grid's filter
    cannot say it (conditions joined by «any» with a group on top)."""
    extra: list[Condition] = []
    for axis, value in groups:
        conds = group_conditions(actor, axis, value)
        if conds is None:
            return ""
        extra += conds
    conditions = list(plan.conditions)
    match = plan.match
    if match == "any" and len(conditions) > 1 and extra:
        return ""
    if len(conditions) <= 1:
        match = "all"
    params: list[tuple[str, str]] = [("m", match)] if match == "any" else []
    if plan.search:
        params.append(("q", plan.search))
    for cond in [*conditions, *extra]:
        value, value2 = cond.value, ""
        if cond.op == "between" and isinstance(value, list | tuple):
            value, value2 = value
        elif cond.op == "in" and isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        params += [("ff", cond.field), ("fo", cond.op), ("fv", "" if value is None else str(value))]
        params.append(("fv2", str(value2)))
    return reverse("table", args=[plan.table.key]) + ("?" + urlencode(params) if params else "")


def fields_for_builder(actor: Actor, table: Table) -> dict[str, list[tuple[str, str]]]:
    """The choices the builder offers for ``table``: groupings (with the linked records' fields),
    fields that may be summed, and every visible field (distinct counts, filters)."""
    groupings: list[tuple[str, str]] = []
    numbers: list[tuple[str, str]] = []
    visible = rights.visible_fields(actor, table)
    for f in visible:
        if f.type in GROUPABLE:
            groupings.append((f.key, f.label))
        if f.type in NUMBERS:
            numbers.append((f.key, f.label))
    for f in visible:
        if (
            f.type == "link"
            and f.link_table is not None
            and rights.can(actor, f.link_table, "view")
        ):
            for sub in rights.visible_fields(actor, f.link_table):
                if sub.type in GROUPABLE and sub.type != "link":
                    groupings.append((f"{f.key}.{sub.key}", f"{f.label} → {sub.label}"))
    return {
        "groupings": groupings,
        "numbers": numbers,
        "all": [(f.key, f.label) for f in visible],
        "dates": [f.key for f in visible if f.type in DATES],
    }


def is_date(table: Table, key: str) -> bool:
    base, _dot, sub = key.partition(".")
    found = next((f for f in fields_of(table) if f.key == base), None)
    if found is not None and sub and found.link_table is not None:
        found = next((f for f in fields_of(found.link_table) if f.key == sub), None)
    return found is not None and found.type in DATES
