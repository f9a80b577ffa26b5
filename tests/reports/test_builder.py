"""Own reports: grouping, measures, totals, drill-down to the grid, rights and bad input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.http import QueryDict

from kartoteka.core.actor import Actor
from kartoteka.records.selectors import Condition
from kartoteka.reports.builder import (
    MAX_COLUMNS,
    Definition,
    Grouping,
    Measure,
    ReportDefinitionError,
    run_report,
)
from kartoteka.web.grid import filtered_queryset
from kartoteka.web.gridstate import parse_state

PAID = [Condition("paid", "eq", "1")]


def _paid_by_manager_month(**extra) -> Definition:
    return Definition(
        table="invoices",
        rows=[Grouping("manager")],
        column=Grouping("paid_date", "month"),
        measures=[Measure("sum", "total")],
        conditions=PAID,
        chart="stacked",
        **extra,
    )


def _drill_count(actor: Actor, url: str, key: str = "invoices") -> int:
    parts = urlsplit(url)
    assert parts.path == f"/t/{key}/"
    state = parse_state(QueryDict(parts.query))
    from kartoteka.tables.models import Table

    return filtered_queryset(actor, Table.objects.get(key=key), state).count()


def test_paid_sums_by_manager_and_month_with_totals_and_exact_drill_down(sales_history, admin_user):
    admin = Actor.for_user(admin_user)
    result = run_report(admin, _paid_by_manager_month())
    assert [c.label for c in result.columns] == [
        "Январь 2026",
        "Февраль 2026",
        "Март 2026",
        "Апрель 2026",
    ]
    assert [[k.label for k in r.keys] for r in result.rows] == [["Иванов Иван"], ["Петрова Анна"]]
    sums = [[c.values[0] for c in r.cells] for r in result.rows]
    assert sums == [
        [0, Decimal("1000.00"), Decimal("2333.30"), 0],
        [Decimal("800.00"), 0, Decimal("1500.00"), Decimal("700.00")],
    ]
    assert [r.total.values for r in result.rows] == [[Decimal("3333.30")], [Decimal("3000.00")]]
    assert [c.values for c in result.column_totals] == [
        [Decimal("800.00")],
        [Decimal("1000.00")],
        [Decimal("3833.30")],
        [Decimal("700.00")],
    ]
    assert result.total.values == [Decimal("6333.30")]
    # Every figure opens the grid of exactly its records.
    march_ivanov = result.rows[0].cells[2]
    assert _drill_count(admin, march_ivanov.url) == 2
    assert _drill_count(admin, result.rows[1].total.url) == 3
    assert _drill_count(admin, result.column_totals[0].url) == 1
    assert _drill_count(admin, result.total.url) == 6
    assert parse_qs(urlsplit(march_ivanov.url).query)["ff"] == ["paid", "manager", "paid_date"]


def test_count_average_and_two_row_groupings(sales_history, admin_user):
    admin = Actor.for_user(admin_user)
    definition = Definition(
        table="invoices",
        rows=[Grouping("counterparty.name"), Grouping("paid")],
        measures=[Measure("count"), Measure("avg", "total"), Measure("count_distinct", "manager")],
    )
    result = run_report(admin, definition)
    table = [([k.label for k in r.keys], r.total.values) for r in result.rows]
    assert table == [
        (["ООО «Второй»", "Да"], [3, Decimal("1000.00"), 1]),
        (["ООО «Первый»", "Да"], [3, Decimal("1111.10"), 1]),
        (["ООО «Первый»", "Нет"], [1, Decimal("900.00"), 1]),
    ]
    assert result.total.values[0] == 7
    assert result.total.values[1] == Decimal("1033.33")
    assert result.total.values[2] == 2
    for row in result.rows:
        assert _drill_count(admin, row.total.url) == row.total.values[0]


def test_a_manager_sees_only_his_own_figures(sales_history, manager_user):
    result = run_report(Actor.for_user(manager_user), _paid_by_manager_month())
    assert [[k.label for k in r.keys] for r in result.rows] == [["Иванов Иван"]]
    assert result.total.values == [Decimal("3333.30")]
    assert [c.label for c in result.columns] == ["Февраль 2026", "Март 2026"]


def test_bad_definitions_are_refused_with_every_reason(sales_history, admin_user):
    admin = Actor.for_user(admin_user)
    bad = Definition(
        table="invoices",
        rows=[Grouping("nonesuch"), Grouping("number", "month")],
        column=Grouping("total", "year"),
        measures=[Measure("sum", "number"), Measure("median", "total")],
        conditions=[Condition("ghost", "eq", "1")],
        chart="radar",
    )
    with pytest.raises(ReportDefinitionError) as caught:
        run_report(admin, bad)
    assert caught.value.problems == [
        "Поля «nonesuch» нет в таблице «Счета» (или оно вам недоступно).",
        "Поле «Номер» — не дата: группировать его по периодам нельзя.",
        "По полю «Сумма» нельзя группировать (тип «Деньги»).",
        "Со столбцами строки группируются только по одному полю.",
        "«Сумма» считается только по числам и деньгам, а «Номер» — текст.",
        "Неизвестный показатель «median».",
        "Неизвестный вид диаграммы «radar».",
        "Поля «ghost» нет в таблице «Счета» (или оно вам недоступно).",
    ]
    with pytest.raises(ReportDefinitionError) as caught:
        run_report(admin, Definition("invoices", rows=[Grouping("paid_date")]))
    assert caught.value.problems == [
        "Для даты «Дата оплаты» выберите шаг: день, неделя, месяц, квартал или год."
    ]


def test_a_hidden_field_cannot_be_grouped_filtered_or_summed(sales_history, manager_user, table):
    from kartoteka.access.models import FieldRight
    from kartoteka.tables.modelfactory import field_of

    invoices = table("invoices")
    group = manager_user.groups.get()
    FieldRight.objects.create(group=group, field=field_of(invoices, "total"), access="hidden")
    actor = Actor.for_user(manager_user)
    for definition in (
        Definition("invoices", rows=[Grouping("total")]),
        Definition("invoices", rows=[Grouping("manager")], measures=[Measure("sum", "total")]),
        Definition(
            "invoices", rows=[Grouping("manager")], conditions=[Condition("total", "gt", "1")]
        ),
    ):
        with pytest.raises(ReportDefinitionError) as caught:
            run_report(actor, definition)
        assert caught.value.problems == [
            "Поля «total» нет в таблице «Счета» (или оно вам недоступно)."
        ]
        assert caught.value.code == "unknown_field"


def test_a_pivot_with_too_many_columns_is_capped_with_a_message(sales_history, admin_user, table):
    from kartoteka.core.actor import Actor as A
    from kartoteka.records.services import create_records

    counterparties = table("counterparties")
    create_records(
        A.system("tests"),
        counterparties,
        [{"name": f"Клиент {i:03}", "city": f"Город {i:03}"} for i in range(MAX_COLUMNS + 5)],
    )
    result = run_report(
        Actor.for_user(admin_user),
        Definition("counterparties", rows=[Grouping("manager")], column=Grouping("city")),
    )
    assert len(result.columns) == MAX_COLUMNS
    assert result.warnings == [
        f"Столбцов получилось {MAX_COLUMNS + 6} — показаны первые {MAX_COLUMNS}. Уточните "
        "фильтр или выберите для столбцов другое поле; итоги посчитаны по всем."
    ]
    assert result.total.values == [MAX_COLUMNS + 7]


def test_days_and_datetimes_group_in_local_time(sales_history, admin_user, table):
    admin = Actor.for_user(admin_user)
    result = run_report(
        admin,
        Definition("invoices", rows=[Grouping("paid_date", "quarter")], conditions=PAID),
    )
    assert [(r.keys[0].value, r.total.values[0]) for r in result.rows] == [
        (dt.date(2026, 1, 1), 5),
        (dt.date(2026, 4, 1), 1),
    ]
    assert [r.keys[0].label for r in result.rows] == ["1 кв. 2026", "2 кв. 2026"]
    weeks = run_report(
        admin, Definition("invoices", rows=[Grouping("paid_date", "week")], conditions=PAID)
    )
    assert [(r.keys[0].value, r.total.values[0]) for r in weeks.rows] == [
        (dt.date(2026, 1, 26), 1),  # Saturday 31.01 → Monday 26.01
        (dt.date(2026, 2, 9), 1),
        (dt.date(2026, 2, 23), 1),  # Sunday 01.03 → Monday 23.02
        (dt.date(2026, 3, 16), 1),
        (dt.date(2026, 3, 30), 2),  # Tuesday 31.03, Wednesday 01.04
    ]
    for row in weeks.rows:
        assert _drill_count(admin, row.total.url) == row.total.values[0]
    from kartoteka.records.services import create_records
    from tests.reports.conftest import SYSTEM, local

    create_records(
        SYSTEM,
        table("tasks"),
        [
            {"title": "Вечером 31-го", "deadline": local("2026-03-31 23:30")},
            {"title": "Ночью 1-го", "deadline": local("2026-04-01 00:30")},
            {"title": "Без срока"},
        ],
    )
    by_month = run_report(
        admin, Definition("tasks", rows=[Grouping("deadline", "month")], chart="pie")
    )
    assert [(r.keys[0].label, r.total.values[0]) for r in by_month.rows] == [
        ("Март 2026", 1),
        ("Апрель 2026", 1),
        ("(пусто)", 1),
    ]
    for row in by_month.rows:
        assert _drill_count(admin, row.total.url, "tasks") == 1


def test_the_api_answers_figures_of_a_saved_and_of_an_unsaved_report(
    client, sales_history, admin_user, manager_user
):
    from kartoteka.reports.models import SavedReport

    definition = _paid_by_manager_month().as_json()
    report = SavedReport.objects.create(name="Оплаты", owner=admin_user, definition=definition)
    report.groups.set([manager_user.groups.get()])
    client.force_login(manager_user)
    data = client.get(f"/api/v1/reports/{report.pk}/data/").json()
    assert data["rows_by"] == ["Менеджер"]
    assert data["columns"] == [
        {"key": "2026-02-01", "label": "Февраль 2026"},
        {"key": "2026-03-01", "label": "Март 2026"},
    ]
    assert [r["keys"][0]["label"] for r in data["rows"]] == ["Иванов Иван"]
    assert data["rows"][0]["cells"][1]["values"] == ["2333.30"]
    assert data["total"]["values"] == ["3333.30"]
    query = client.post(
        "/api/v1/reports/query/",
        {**definition, "measures": [{"fn": "sum", "field": "number"}]},
        content_type="application/json",
    )
    assert query.status_code == 400
    assert query.json() == {
        "code": "invalid_report",
        "message": "«Сумма» считается только по числам и деньгам, а «Номер» — текст.",
        "fields": {
            "definition": ["«Сумма» считается только по числам и деньгам, а «Номер» — текст."]
        },
    }
    other = SavedReport.objects.create(name="Чужой", owner=admin_user, definition=definition)
    assert client.get(f"/api/v1/reports/{other.pk}/data/").status_code == 404
