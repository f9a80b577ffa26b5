"""Table and field services really change the SQL schema, keep data, and refuse what is unsafe."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import PermissionDenied, SchemaError
from kartoteka.tables import schema, services
from kartoteka.tables.modelfactory import model_for
from kartoteka.tables.models import Choice, Field, Table
from kartoteka.tables.services import ChoiceSpec
from tests.builders import SYSTEM, make_table

SYSTEM_COLUMNS = [
    "id",
    "created_at",
    "updated_at",
    "created_by_id",
    "updated_by_id",
    "record_state",
]


def column_type(db_table: str, column: str) -> str:
    """The Django field class the database reports for a column (``"BigIntegerField"`` …)."""
    with connection.cursor() as cursor:
        for info in connection.introspection.get_table_description(cursor, db_table):
            if info.name == column:
                return connection.introspection.get_field_type(info.type_code, info)
    raise AssertionError(f"{db_table} has no column {column}")


def values(table: Table, key: str) -> list:
    fresh = Table.objects.get(pk=table.pk)
    model = model_for(fresh)
    attname = model._meta.get_field(key).attname
    return list(model.objects.order_by("id").values_list(attname, flat=True))


def field(table: Table, key: str) -> Field:
    return Field.objects.select_related("table", "link_table").get(table=table, key=key)


def snapshot(table: Table, key: str) -> dict:
    """Everything a refused change must leave as it was."""
    f = field(table, key)
    return {
        "columns": schema.column_names(table.db_table),
        "type": column_type(table.db_table, f.db_column),
        "unique": schema.unique_columns(table.db_table),
        "values": values(table, key),
        "field": (f.type, f.label, f.unique, f.options, f.db_column),
        "choices": list(Choice.objects.filter(field=f).values_list("key", "label")),
        "version": Table.objects.get(pk=table.pk).schema_version,
    }


# -- tables ----------------------------------------------------------------------------------


def test_create_table_makes_sql_table_with_system_columns(db):
    # when
    table = services.create_table(SYSTEM, key="things", label="Вещи")
    # then
    assert table.db_table == f"t_{table.pk}"
    assert schema.table_exists(table.db_table)
    assert schema.column_names(table.db_table) == SYSTEM_COLUMNS


def test_delete_table_drops_sql_table(db):
    # given
    table = make_table([{"key": "name", "label": "Название", "type": "text"}], [{"name": "x"}])
    db_table = table.db_table
    # when
    services.delete_table(SYSTEM, table)
    # then
    assert not schema.table_exists(db_table)
    assert not Table.objects.filter(key="things").exists()


def test_table_linking_to_itself_can_be_deleted(db):
    # given
    table = make_table([{"key": "name", "label": "Название", "type": "text"}])
    services.add_field(SYSTEM, table, key="parent", label="Родитель", type="link", link_table=table)
    db_table = table.db_table
    # when
    services.delete_table(SYSTEM, Table.objects.get(pk=table.pk))
    # then
    assert not schema.table_exists(db_table)
    assert not Table.objects.filter(key="things").exists()
    assert not Field.objects.filter(table_id=table.pk).exists()


def test_table_linked_from_another_table_is_not_deleted(db):
    # given
    target = make_table(
        [{"key": "name", "label": "Название", "type": "text"}],
        [{"name": "Ромашка"}],
        key="targets",
        label="Цели",
    )
    make_table([{"key": "target", "label": "Цель", "type": "link", "link_table": target}])
    before = snapshot(target, "name")
    # when
    with pytest.raises(SchemaError) as caught:
        services.delete_table(SYSTEM, target)
    # then
    assert caught.value.code == "linked"
    assert caught.value.message == "На таблицу ссылаются поля других таблиц: Вещи."
    assert snapshot(target, "name") == before


def test_table_key_must_be_new(db):
    # given
    make_table([{"key": "name", "label": "Название", "type": "text"}])
    count = Table.objects.count()
    # when
    with pytest.raises(SchemaError) as caught:
        services.create_table(SYSTEM, key="things", label="Ещё вещи")
    # then
    assert caught.value.code == "duplicate"
    assert Table.objects.count() == count


# -- adding fields ---------------------------------------------------------------------------


def test_add_field_adds_a_column_and_keeps_rows(db):
    # given
    table = make_table(
        [{"key": "name", "label": "Название", "type": "text"}], [{"name": "Ромашка"}]
    )
    # when
    added = services.add_field(SYSTEM, table, key="city", label="Город", type="text")
    # then
    assert added.db_column == f"f_{added.pk}"
    name_column = field(table, "name").db_column
    assert schema.column_names(table.db_table) == [*SYSTEM_COLUMNS, name_column, added.db_column]
    assert column_type(table.db_table, added.db_column) == "CharField"
    assert values(table, "name") == ["Ромашка"]
    assert values(table, "city") == [None]


def test_unique_field_gets_a_unique_constraint(db):
    # given
    table = make_table([{"key": "name", "label": "Название", "type": "text"}])
    # when
    added = services.add_field(SYSTEM, table, key="inn", label="ИНН", type="text", unique=True)
    # then
    assert schema.unique_columns(table.db_table) == {added.db_column}


def test_model_for_returns_the_new_field_after_add_field(db):
    # given
    table = make_table([{"key": "name", "label": "Название", "type": "text"}])
    elsewhere = Table.objects.get(pk=table.pk)  # another copy, e.g. loaded by a view earlier
    before = model_for(elsewhere)
    # when
    services.add_field(SYSTEM, table, key="age", label="Возраст", type="integer")
    # then
    after = model_for(elsewhere)
    assert [f.name for f in before._meta.get_fields()][-1] == "name"
    assert type(after._meta.get_field("age")).__name__ == "BigIntegerField"


def test_model_for_returns_the_changed_field_after_change_field(db):
    # given
    table = make_table([{"key": "n", "label": "Число", "type": "text"}], [{"n": "5"}])
    before = model_for(table)
    # when
    services.change_field(SYSTEM, field(table, "n"), type="integer")
    # then
    after = model_for(table)  # the caller's Table instance was not refreshed
    assert type(before._meta.get_field("n")).__name__ == "CharField"
    assert type(after._meta.get_field("n")).__name__ == "BigIntegerField"
    assert list(after.objects.values_list("n", flat=True)) == [5]


@pytest.mark.parametrize(
    "key", ["save", "from_db", "delete", "objects", "pk", "record_state", "owner_id", "Name", "1st"]
)
def test_add_field_refuses_keys_that_clash_with_the_model(db, key):
    # given
    table = make_table([{"key": "name", "label": "Название", "type": "text"}])
    columns = schema.column_names(table.db_table)
    # when
    with pytest.raises(SchemaError) as caught:
        services.add_field(SYSTEM, table, key=key, label="Поле", type="text")
    # then
    assert caught.value.code in ("reserved_key", "bad_key")
    assert schema.column_names(table.db_table) == columns
    assert list(Field.objects.filter(table=table).values_list("key", flat=True)) == ["name"]


# -- changing fields -------------------------------------------------------------------------


def test_label_change_keeps_column_and_data(db):
    # given
    table = make_table(
        [{"key": "name", "label": "Название", "type": "text"}], [{"name": "Ромашка"}]
    )
    before = field(table, "name")
    columns = schema.column_names(table.db_table)
    # when
    services.change_field(SYSTEM, before, label="Наименование")
    # then
    after = field(table, "name")
    assert (after.label, after.db_column) == ("Наименование", before.db_column)
    assert schema.column_names(table.db_table) == columns
    assert values(table, "name") == ["Ромашка"]


def test_retype_text_to_integer_converts_values(db):
    # given
    table = make_table(
        [{"key": "n", "label": "Число", "type": "text"}], [{"n": "1 234"}, {"n": "5"}, {"n": None}]
    )
    # when
    services.change_field(SYSTEM, field(table, "n"), type="integer")
    # then
    assert field(table, "n").type == "integer"
    assert column_type(table.db_table, field(table, "n").db_column) == "BigIntegerField"
    assert values(table, "n") == [1234, 5, None]


def test_a_retyped_field_instance_answers_with_its_new_type(db):
    # given: an instance that has already looked its type up
    table = make_table([{"key": "n", "label": "Число", "type": "text"}])
    instance = field(table, "n")
    assert instance.field_type.key == "text"
    # when
    services.change_field(SYSTEM, instance, type="integer")
    # then
    assert instance.type == "integer"
    assert instance.field_type.key == "integer"


def test_retype_text_to_date_reads_russian_dates(db):
    # given
    table = make_table(
        [{"key": "d", "label": "Дата", "type": "text"}],
        [{"d": "01.02.2025"}, {"d": "1.2.25"}, {"d": "2025-03-04"}, {"d": "45689"}],
    )
    # when
    services.change_field(SYSTEM, field(table, "d"), type="date")
    # then
    assert column_type(table.db_table, field(table, "d").db_column) == "DateField"
    assert values(table, "d") == [
        dt.date(2025, 2, 1),
        dt.date(2025, 2, 1),
        dt.date(2025, 3, 4),
        dt.date(2025, 2, 1),
    ]


def test_retype_integer_to_decimal_keeps_values(db):
    # given
    table = make_table(
        [{"key": "n", "label": "Число", "type": "integer"}], [{"n": 1234}, {"n": -5}]
    )
    # when
    services.change_field(SYSTEM, field(table, "n"), type="decimal")
    # then
    assert column_type(table.db_table, field(table, "n").db_column) == "DecimalField"
    assert values(table, "n") == [Decimal("1234.00"), Decimal("-5.00")]


def test_retype_text_to_choice_creates_options_from_values(db):
    # given
    table = make_table(
        [{"key": "city", "label": "Город", "type": "text"}],
        [
            {"city": "Москва"},
            {"city": "Казань"},
            {"city": None},
            {"city": "Москва"},
            {"city": "москва"},
            {"city": "Орёл"},
            {"city": "Орел"},
        ],
    )
    # when
    services.change_field(SYSTEM, field(table, "city"), type="choice")
    # then
    options = list(Choice.objects.filter(field=field(table, "city")).values_list("key", "label"))
    assert options == [("v1", "Москва"), ("v2", "Казань"), ("v3", "Орёл")]
    assert values(table, "city") == ["v1", "v2", None, "v1", "v1", "v3", "v3"]


def test_retype_text_to_multi_choice_splits_values_into_options(db):
    # given
    table = make_table(
        [{"key": "tags", "label": "Метки", "type": "text"}],
        [{"tags": "опт, розница"}, {"tags": "Розница"}, {"tags": "дилер; опт"}],
    )
    # when
    services.change_field(SYSTEM, field(table, "tags"), type="multi_choice")
    # then
    options = list(Choice.objects.filter(field=field(table, "tags")).values_list("key", "label"))
    assert options == [("v1", "опт"), ("v2", "розница"), ("v3", "дилер")]
    assert values(table, "tags") == [",v1,v2,", ",v2,", ",v1,v3,"]


def test_retype_choice_to_multi_choice_keeps_the_option(db):
    # given
    table = make_table(
        [
            {
                "key": "kind",
                "label": "Тип",
                "type": "choice",
                "choices": [("client", "Клиент"), ("partner", "Партнёр")],
            }
        ],
        [{"kind": "client"}, {"kind": "Партнёр"}, {"kind": None}],
    )
    # when
    services.change_field(SYSTEM, field(table, "kind"), type="multi_choice")
    # then
    assert column_type(table.db_table, field(table, "kind").db_column) == "TextField"
    assert values(table, "kind") == [",client,", ",partner,", None]
    options = list(Choice.objects.filter(field=field(table, "kind")).values_list("key", flat=True))
    assert options == ["client", "partner"]


def test_retype_link_to_text_keeps_titles_and_frees_the_target(db):
    # given
    target = make_table(
        [{"key": "name", "label": "Название", "type": "text"}],
        [{"name": "Ромашка"}, {"name": "Лютик"}],
        key="targets",
        label="Цели",
    )
    ids = list(model_for(target).objects.order_by("id").values_list("pk", flat=True))
    table = make_table(
        [{"key": "target", "label": "Цель", "type": "link", "link_table": target}],
        [{"target": ids[1]}, {"target": ids[0]}],
    )
    # when
    services.change_field(SYSTEM, field(table, "target"), type="text")
    services.delete_table(SYSTEM, Table.objects.get(pk=target.pk))
    # then
    assert values(table, "target") == ["Лютик", "Ромашка"]
    assert field(table, "target").link_table is None
    assert not schema.table_exists(target.db_table)


def test_retype_to_link_without_target_is_refused(db):
    # given
    table = make_table([{"key": "n", "label": "Номер", "type": "text"}], [{"n": "1"}])
    before = snapshot(table, "n")
    # when
    with pytest.raises(SchemaError) as caught:
        services.change_field(SYSTEM, field(table, "n"), type="link")
    # then
    assert caught.value.code == "no_link_table"
    assert snapshot(table, "n") == before


def test_retype_with_a_value_that_does_not_convert_changes_nothing(db):
    # given
    table = make_table(
        [{"key": "n", "label": "Число", "type": "text"}], [{"n": "12"}, {"n": "abc"}, {"n": None}]
    )
    bad_id = model_for(table).objects.get(n="abc").pk
    before = snapshot(table, "n")
    # when
    with pytest.raises(SchemaError) as caught:
        services.change_field(SYSTEM, field(table, "n"), type="integer")
    # then
    assert caught.value.code == "conversion_failed"
    assert caught.value.message == (
        f"Значение 1 записи не подходит для нового типа: #{bad_id} «abc»: «abc» — не число."
    )
    assert before["type"] == "CharField"
    assert before["values"] == ["12", "abc", None]
    assert snapshot(table, "n") == before
    assert type(model_for(Table.objects.get(pk=table.pk))._meta.get_field("n")).__name__ == (
        "CharField"
    )


def test_retype_to_choice_with_a_value_too_long_for_an_option_changes_nothing(db):
    # given
    long_text = "очень длинное значение " * 10
    table = make_table(
        [{"key": "note", "label": "Заметка", "type": "text", "options": {"max_length": 500}}],
        [{"note": "коротко"}, {"note": long_text}],
    )
    before = snapshot(table, "note")
    # when
    with pytest.raises(SchemaError) as caught:
        services.change_field(SYSTEM, field(table, "note"), type="choice")
    # then
    assert caught.value.code == "conversion_failed"
    assert snapshot(table, "note") == before


def test_retype_without_converter_is_refused(db):
    # given
    table = make_table([{"key": "d", "label": "Дата", "type": "date"}], [{"d": "01.02.2025"}])
    before = snapshot(table, "d")
    # when
    with pytest.raises(SchemaError) as caught:
        services.change_field(SYSTEM, field(table, "d"), type="boolean")
    # then
    assert caught.value.code == "no_converter"
    assert snapshot(table, "d") == before


def test_shortening_text_below_a_stored_value_is_refused(db):
    # given
    table = make_table(
        [{"key": "code", "label": "Код", "type": "text"}], [{"code": "123"}, {"code": "123456"}]
    )
    before = snapshot(table, "code")
    # when
    with pytest.raises(SchemaError) as caught:
        services.change_field(SYSTEM, field(table, "code"), options={"max_length": 5})
    # then
    assert caught.value.code == "conversion_failed"
    assert snapshot(table, "code") == before


def test_make_unique_adds_constraint_and_keeps_values(db):
    # given
    table = make_table(
        [{"key": "inn", "label": "ИНН", "type": "text"}],
        [{"inn": "1"}, {"inn": "2"}, {"inn": None}, {"inn": None}],
    )
    # when
    services.change_field(SYSTEM, field(table, "inn"), unique=True)
    # then
    assert schema.unique_columns(table.db_table) == {field(table, "inn").db_column}
    assert field(table, "inn").unique is True
    assert values(table, "inn") == ["1", "2", None, None]


def test_make_unique_with_repeated_values_changes_nothing(db):
    # given
    table = make_table(
        [{"key": "inn", "label": "ИНН", "type": "text"}], [{"inn": "1"}, {"inn": "2"}, {"inn": "1"}]
    )
    before = snapshot(table, "inn")
    # when
    with pytest.raises(SchemaError) as caught:
        services.change_field(SYSTEM, field(table, "inn"), unique=True)
    # then
    assert caught.value.code == "not_unique"
    assert before["unique"] == set()
    assert snapshot(table, "inn") == before


def test_make_not_unique_drops_the_constraint(db):
    # given
    table = make_table(
        [{"key": "inn", "label": "ИНН", "type": "text", "unique": True}],
        [{"inn": "1"}, {"inn": "2"}],
    )
    # when
    services.change_field(SYSTEM, field(table, "inn"), unique=False)
    # then
    assert schema.unique_columns(table.db_table) == set()
    assert values(table, "inn") == ["1", "2"]


# -- removing fields -------------------------------------------------------------------------


def test_remove_field_drops_the_column(db):
    # given
    table = make_table(
        [
            {"key": "name", "label": "Название", "type": "text"},
            {"key": "city", "label": "Город", "type": "text"},
        ],
        [{"name": "Ромашка", "city": "Казань"}],
    )
    city = field(table, "city")
    # when
    services.remove_field(SYSTEM, city)
    # then
    assert city.db_column not in schema.column_names(table.db_table)
    assert schema.column_names(table.db_table) == [*SYSTEM_COLUMNS, field(table, "name").db_column]
    assert not Field.objects.filter(table=table, key="city").exists()
    assert values(table, "name") == ["Ромашка"]
    with pytest.raises(Exception, match="has no field named 'city'"):
        model_for(table)._meta.get_field("city")


# -- built-in tables and permissions ---------------------------------------------------------


def test_system_field_cannot_be_removed(crm, table):
    # given
    counterparties = table("counterparties")
    name = field(counterparties, "name")
    before = snapshot(counterparties, "name")
    # when
    with pytest.raises(SchemaError) as caught:
        services.remove_field(SYSTEM, name)
    # then
    assert caught.value.code == "system_field"
    assert snapshot(counterparties, "name") == before


def test_system_field_cannot_be_retyped(crm, table):
    # given
    counterparties = table("counterparties")
    before = snapshot(counterparties, "city")
    # when
    with pytest.raises(SchemaError) as caught:
        services.change_field(SYSTEM, field(counterparties, "city"), type="long_text")
    # then
    assert caught.value.code == "system_field"
    assert snapshot(counterparties, "city") == before


def test_builtin_table_cannot_be_deleted(crm, table):
    # given
    counterparties = table("counterparties")
    # when
    with pytest.raises(SchemaError) as caught:
        services.delete_table(SYSTEM, counterparties)
    # then
    assert caught.value.code == "builtin"
    assert schema.table_exists(counterparties.db_table)


def test_non_admin_cannot_change_tables(manager_user):
    # given
    manager = Actor.for_user(manager_user)
    table = make_table([{"key": "name", "label": "Название", "type": "text"}], [{"name": "x"}])
    before = snapshot(table, "name")
    tables = list(Table.objects.values_list("key", flat=True))
    attempts = [
        lambda: services.create_table(manager, key="other", label="Другое"),
        lambda: services.add_field(manager, table, key="city", label="Город", type="text"),
        lambda: services.change_field(manager, field(table, "name"), label="Имя"),
        lambda: services.change_field(manager, field(table, "name"), type="long_text"),
        lambda: services.remove_field(manager, field(table, "name")),
        lambda: services.delete_table(manager, table),
        lambda: services.reorder_fields(manager, table, ["name"]),
    ]
    # when
    codes = []
    for attempt in attempts:
        with pytest.raises(PermissionDenied) as caught:
            attempt()
        codes.append(caught.value.code)
    # then
    assert codes == ["permission_denied"] * len(attempts)
    assert list(Table.objects.values_list("key", flat=True)) == tables
    assert snapshot(table, "name") == before


def test_change_choices_refuses_removing_an_option_in_use(db):
    # given
    table = make_table(
        [
            {
                "key": "kind",
                "label": "Тип",
                "type": "choice",
                "choices": [("client", "Клиент"), ("partner", "Партнёр")],
            }
        ],
        [{"kind": "partner"}],
    )
    before = snapshot(table, "kind")
    # when
    with pytest.raises(SchemaError) as caught:
        services.change_field(
            SYSTEM, field(table, "kind"), choices=[ChoiceSpec("client", "Клиент")]
        )
    # then
    assert caught.value.code == "choice_in_use"
    assert snapshot(table, "kind") == before


def test_retype_to_choice_with_a_field_from_the_model_cache(db):
    # A Field handed out by the model cache carries prefetched (empty) options; the retype must
    # not see them instead of the options it creates from the values.
    from kartoteka.records.selectors import list_records
    from kartoteka.tables.modelfactory import field_of
    from kartoteka.tables.services import change_field
    from tests.builders import SYSTEM, make_table

    table = make_table(
        [{"key": "color", "label": "Цвет", "type": "text"}],
        [{"color": "красный"}, {"color": "синий"}],
        key="paints",
    )
    change_field(SYSTEM, field_of(table, "color"), type="choice")
    table.refresh_from_db()
    stored = sorted(r.color for r in list_records(SYSTEM, table))
    assert stored == ["v1", "v2"]


def test_refused_retype_counts_the_records_in_the_right_plural(db):
    from django.utils import translation

    # given: one table with one value that does not convert, one with two
    one = make_table([{"key": "n", "label": "Число", "type": "text"}], [{"n": "abc"}])
    two = make_table(
        [{"key": "n", "label": "Число", "type": "text"}], [{"n": "a"}, {"n": "b"}], key="pairs"
    )
    # when
    messages = {}
    for name, table in (("one", one), ("two", two)):
        for language in ("ru", "en"):
            with translation.override(language), pytest.raises(SchemaError) as caught:
                services.change_field(SYSTEM, field(table, "n"), type="integer")
            messages[name, language] = caught.value.message
    # then
    assert messages["one", "ru"].startswith("Значение 1 записи не подходит для нового типа: #")
    assert messages["two", "ru"].startswith("Значения 2 записей не подходят для нового типа: #")
    assert messages["one", "en"].startswith("The value in 1 record does not fit the new type: #")
    assert messages["two", "en"].startswith("Values in 2 records do not fit the new type: #")


def test_russian_plurals_follow_russian_rules(db):
    from django.utils import translation

    # given: tables with 21 and 5 values that do not convert (Russian says «21 записи», «5 записей»)
    rows = {n: [{"n": f"x{i}"} for i in range(n)] for n in (21, 5)}
    tables = {
        n: make_table([{"key": "n", "label": "Число", "type": "text"}], rows[n], key=f"t{n}")
        for n in rows
    }
    # when
    messages = {}
    for n, table in tables.items():
        with translation.override("ru"), pytest.raises(SchemaError) as caught:
            services.change_field(SYSTEM, field(table, "n"), type="integer")
        messages[n] = caught.value.message
    # then
    assert messages[21].startswith("Значение 21 записи не подходит для нового типа: #")
    assert messages[5].startswith("Значения 5 записей не подходят для нового типа: #")
