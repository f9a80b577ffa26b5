"""The import engine on real files: conversion, duplicates, dry run, history, undo."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kartoteka.imports.models import ImportBatch
from kartoteka.imports.options import ColumnMapping, ImportSettings
from kartoteka.imports.readers import ImportFileError
from kartoteka.imports.services import dry_run, run_import, undo_import
from kartoteka.records.models import RecordChange
from kartoteka.records.services import create_records, update_records
from kartoteka.tables.modelfactory import model_for
from tests.builders import SYSTEM, make_table
from tests.imports.files import inn, write_csv

HEADER = ["Название", "ИНН", "Телефон", "Город", "Тип"]


def rows_of(table):
    return list(model_for(table).objects.order_by("id"))


def test_cp1251_semicolon_file_creates_counterparties(tmp_path, counterparties, importer):
    # given
    path = write_csv(
        tmp_path / "clients.csv",
        [
            HEADER,
            ["ООО «Ромашка»", inn(1), "8 (912) 345-67-89", "Казань", "Клиент"],
            ["ИП Ёлкин", inn(2), "+7 912 3456780", "Москва", "partner"],
        ],
    )
    # when
    result = run_import(importer, counterparties, str(path), "clients.csv", ImportSettings())
    # then
    assert (result.created, result.updated, result.skipped, result.errors) == (2, 0, 0, [])
    first, second = rows_of(counterparties)
    assert (first.name, first.inn, first.phone, first.city, first.type) == (
        "ООО «Ромашка»",
        inn(1),
        "+79123456789",
        "Казань",
        "client",
    )
    assert (second.name, second.type, second.manager_id) == (
        "ИП Ёлкин",
        "partner",
        importer.user.pk,
    )
    history = RecordChange.objects.filter(table=counterparties, record_id=first.pk)
    assert [(h.action, h.source) for h in history] == [("create", f"import#{result.batch}")]
    batch = ImportBatch.objects.get(pk=result.batch)
    assert (batch.status, batch.created, batch.rows_done) == ("done", 2, 2)


def test_bad_rows_are_reported_and_good_rows_imported(tmp_path, counterparties, importer):
    # given
    path = write_csv(
        tmp_path / "clients.csv",
        [
            HEADER,
            ["Ромашка", inn(1), "", "", ""],
            ["Лютик", "1234567890", "", "", ""],
            ["", inn(3), "", "", ""],
            ["Василёк", inn(4), "не телефон", "", "Враг"],
        ],
    )
    # when
    result = run_import(importer, counterparties, str(path), "clients.csv", ImportSettings())
    # then
    assert result.created == 1
    assert [(e.row, e.column) for e in result.errors] == [
        (3, "ИНН"),
        (4, "Название"),
        (5, "Телефон"),
        (5, "Тип"),
    ]
    assert result.errors[0].message == "«1234567890» — неверный ИНН: проверьте цифры."
    assert result.errors[1].message == "Поле «Название» обязательно."
    assert [r.name for r in rows_of(counterparties)] == ["Ромашка"]


def test_duplicates_update_with_filled_wins(tmp_path, counterparties, importer):
    # given
    [existing] = create_records(
        SYSTEM,
        counterparties,
        [
            {
                "name": "Ромашка",
                "manager": importer.user.pk,
                "inn": inn(1),
                "city": "Тверь",
                "phone": "+79120000000",
            }
        ],
    )
    path = write_csv(tmp_path / "c.csv", [HEADER, ["Ромашка-2", inn(1), "", "Казань", ""]])
    # when
    result = run_import(importer, counterparties, str(path), "c.csv", ImportSettings())
    # then
    existing.refresh_from_db()
    assert (result.created, result.updated) == (0, 1)
    assert (existing.name, existing.city, existing.phone) == ("Ромашка-2", "Казань", "+79120000000")
    change = RecordChange.objects.filter(table=counterparties, record_id=existing.pk).first()
    assert change.source == f"import#{result.batch}"
    assert change.changes == {"name": ["Ромашка", "Ромашка-2"], "city": ["Тверь", "Казань"]}


def test_duplicates_update_overwriting_empty(tmp_path, counterparties, importer):
    # given
    [existing] = create_records(
        SYSTEM,
        counterparties,
        [{"name": "Ромашка", "manager": importer.user.pk, "inn": inn(1), "phone": "+79120000000"}],
    )
    # («Тип» as it is: a manager may not change it, even to empty)
    row = ["Ромашка", inn(1), "", "Казань", "Потенциальный"]
    path = write_csv(tmp_path / "c.csv", [HEADER, row])
    settings = ImportSettings(keep_filled=False)
    # when
    result = run_import(importer, counterparties, str(path), "c.csv", settings)
    # then
    existing.refresh_from_db()
    assert result.updated == 1
    assert (existing.city, existing.phone) == ("Казань", None)


def test_duplicates_skipped(tmp_path, counterparties, importer):
    # given
    [existing] = create_records(
        SYSTEM, counterparties, [{"name": "Ромашка", "manager": importer.user.pk, "inn": inn(1)}]
    )
    path = write_csv(
        tmp_path / "c.csv", [HEADER, ["Другое", inn(1), "", "", ""], ["Новое", inn(2), "", "", ""]]
    )
    # when
    result = run_import(
        importer, counterparties, str(path), "c.csv", ImportSettings(on_duplicate="skip")
    )
    # then
    existing.refresh_from_db()
    assert (result.created, result.updated, result.skipped) == (1, 0, 1)
    assert existing.name == "Ромашка"


def test_duplicates_inside_the_file_are_reported_with_row_numbers(
    tmp_path, counterparties, importer
):
    # given
    path = write_csv(
        tmp_path / "c.csv",
        [HEADER, ["А", inn(1), "", "", ""], ["Б", inn(2), "", "", ""], ["В", inn(1), "", "", ""]],
    )
    # when
    result = run_import(importer, counterparties, str(path), "c.csv", ImportSettings())
    # then
    assert result.created == 2
    assert [(e.row, e.column) for e in result.errors] == [(4, "ИНН")]
    assert "строке 2" in result.errors[0].message


def test_dry_run_describes_every_row_and_writes_nothing(tmp_path, counterparties, importer):
    # given
    [existing] = create_records(
        SYSTEM,
        counterparties,
        [{"name": "Ромашка", "manager": importer.user.pk, "inn": inn(1), "city": "Тверь"}],
    )
    path = write_csv(
        tmp_path / "c.csv",
        [
            HEADER,
            ["Ромашка", inn(1), "", "Казань", ""],
            ["Лютик", inn(2), "", "", ""],
            ["Ромашка", inn(1), "", "", ""],
            ["Василёк", "123", "", "", ""],
            ["Ромашка", inn(5), "", "", ""],
        ],
    )
    before = RecordChange.objects.count()
    # when
    result = dry_run(importer, counterparties, str(path), "c.csv", ImportSettings())
    # then
    assert (result.created, result.updated, result.skipped, result.error_count) == (2, 1, 0, 2)
    plans = {p.row: p for p in result.plans}
    assert plans[2].action == "update"
    assert plans[2].record_id == existing.pk
    assert plans[2].changes == [("Город", "Тверь", "Казань")]
    assert plans[3].action == "create"
    assert ("Название", "", "Лютик") in plans[3].changes
    assert plans[4].action == "error"
    assert plans[5].action == "error"
    assert plans[5].errors[0].column == "ИНН"
    assert RecordChange.objects.count() == before
    assert [r.name for r in rows_of(counterparties)] == ["Ромашка"]
    assert not ImportBatch.objects.exists()


def test_unchanged_rows_are_skipped_as_unchanged(tmp_path, counterparties, importer):
    create_records(
        SYSTEM, counterparties, [{"name": "Ромашка", "manager": importer.user.pk, "inn": inn(1)}]
    )
    path = write_csv(tmp_path / "c.csv", [HEADER, ["Ромашка", inn(1), "", "", ""]])
    result = dry_run(importer, counterparties, str(path), "c.csv", ImportSettings())
    assert result.skipped == 1
    assert result.plans[0].reason == "Нет изменений."


def test_several_columns_into_one_text_field_and_defaults(tmp_path, counterparties, importer):
    # given
    path = write_csv(
        tmp_path / "c.csv",
        [["Фирма", "Улица", "Дом", "ИНН"], ["Ромашка", "ул. Ленина", "д. 5", inn(1)]],
        encoding="utf-8-sig",
        delimiter=",",
    )
    settings = ImportSettings(
        mapping=[
            ColumnMapping(0, "name", "Фирма"),
            ColumnMapping(1, "address", "Улица"),
            ColumnMapping(2, "address", "Дом"),
            ColumnMapping(3, "inn", "ИНН"),
        ],
        defaults={"source": "Импорт", "city": "Пермь"},
    )
    # when
    result = run_import(importer, counterparties, str(path), "c.csv", settings)
    # then
    [record] = rows_of(counterparties)
    assert result.created == 1
    assert (record.address, record.source, record.city) == ("ул. Ленина д. 5", "import", "Пермь")


def test_conversion_of_every_kind_of_value(tmp_path, counterparties, importer, admin_user):
    # given
    [partner] = create_records(
        SYSTEM, counterparties, [{"name": "Поставщик Ёлка", "manager": importer.user.pk}]
    )
    goods = make_table(
        [
            {"key": "name", "label": "Название", "type": "text"},
            {"key": "qty", "label": "Количество", "type": "integer"},
            {"key": "price", "label": "Цена", "type": "decimal"},
            {"key": "day", "label": "Дата", "type": "date"},
            {"key": "flag", "label": "В наличии", "type": "boolean"},
            {
                "key": "kind",
                "label": "Вид",
                "type": "choice",
                "choices": [("retail", "Розница"), ("wholesale", "Опт")],
            },
            {"key": "partner", "label": "Поставщик", "type": "link", "link_table": counterparties},
            {"key": "owner", "label": "Ответственный", "type": "user"},
        ]
    )
    path = write_csv(
        tmp_path / "g.csv",
        [
            [
                "Название",
                "Количество",
                "Цена",
                "Дата",
                "В наличии",
                "Вид",
                "Поставщик",
                "Ответственный",
            ],
            [
                "Стол",
                "1 200",
                "1 234,56",
                "31.12.2025",
                "да",
                "опт",
                "поставщик елка",
                "Петров Пётр",
            ],
            ["Стул", "3", "10.5", "01.02.25", "нет", "retail", "", "boss@example.ru"],
            ["Шкаф", "", "", "2025-03-04", "", "Розница", "", "boss"],
            ["Полка", "", "", "45658", "", "", "", ""],
        ],
    )
    # when
    result = run_import(importer, goods, str(path), "g.csv", ImportSettings())
    # then
    assert result.errors == []
    table, chair, wardrobe, shelf = rows_of(goods)
    assert (table.qty, table.price, table.day, table.flag, table.kind) == (
        1200,
        Decimal("1234.56"),
        dt.date(2025, 12, 31),
        True,
        "wholesale",
    )
    assert (table.partner_id, table.owner_id) == (partner.pk, admin_user.pk)
    assert (chair.price, chair.day, chair.flag, chair.owner_id) == (
        Decimal("10.5"),
        dt.date(2025, 2, 1),
        False,
        admin_user.pk,
    )
    assert (wardrobe.day, wardrobe.kind, wardrobe.owner_id) == (
        dt.date(2025, 3, 4),
        "retail",
        admin_user.pk,
    )
    assert shelf.day == dt.date(2025, 1, 1)


def test_missing_link_targets_refused_or_created(tmp_path, counterparties, importer):
    # given
    goods = make_table(
        [
            {"key": "name", "label": "Название", "type": "text"},
            {"key": "partner", "label": "Поставщик", "type": "link", "link_table": counterparties},
        ]
    )
    path = write_csv(
        tmp_path / "g.csv",
        [["Название", "Поставщик"], ["Стол", "Новая фирма"], ["Стул", "новая фирма"]],
    )
    # when refused
    refused = run_import(importer, goods, str(path), "g.csv", ImportSettings())
    # then
    assert refused.created == 0
    assert [(e.row, e.column) for e in refused.errors] == [(2, "Поставщик"), (3, "Поставщик")]
    assert not model_for(counterparties).objects.exists()
    # when created
    made = run_import(
        importer, goods, str(path), "g.csv", ImportSettings(create_missing_links=True)
    )
    # then
    [firm] = rows_of(counterparties)
    assert firm.name == "Новая фирма"
    assert made.created == 2
    assert made.created_targets == {"Контрагенты": 1}
    assert {r.partner_id for r in rows_of(goods)} == {firm.pk}
    # when undone: the rows and the targets they brought go
    report = undo_import(importer, ImportBatch.objects.get(pk=made.batch))
    # then
    assert (report["deleted"], report["restored"], report["kept"]) == (3, 0, [])
    assert rows_of(goods) == []
    assert rows_of(counterparties) == []


def test_rule_violations_are_reported_per_row(tmp_path, counterparties, importer):
    # given: a person may not set an existing counterparty's status directly
    create_records(
        SYSTEM,
        counterparties,
        [
            {"name": "Ромашка", "manager": importer.user.pk, "inn": inn(1)},
            {"name": "Лютик", "manager": importer.user.pk, "inn": inn(2)},
        ],
    )
    path = write_csv(
        tmp_path / "c.csv",
        [["Название", "ИНН", "Статус"], ["Ромашка", inn(1), "Переговоры"], ["Лютик-2", inn(2), ""]],
    )
    # when
    result = run_import(importer, counterparties, str(path), "c.csv", ImportSettings())
    # then
    assert result.updated == 1
    assert [(e.row, e.column) for e in result.errors] == [(2, "Статус")]
    assert "статус по работе" in result.errors[0].message
    assert [(r.name, r.status) for r in rows_of(counterparties)] == [
        ("Ромашка", "cold"),
        ("Лютик-2", "cold"),
    ]


def test_undo_after_updates_and_later_edits(tmp_path, counterparties, importer):
    # given
    _one, two = create_records(
        SYSTEM,
        counterparties,
        [
            {"name": "Ромашка", "manager": importer.user.pk, "inn": inn(1), "city": "Тверь"},
            {"name": "Лютик", "manager": importer.user.pk, "inn": inn(2), "city": "Омск"},
        ],
    )
    path = write_csv(
        tmp_path / "c.csv",
        [
            HEADER,
            ["Ромашка", inn(1), "", "Казань", ""],
            ["Лютик", inn(2), "", "Сочи", ""],
            ["Новая", inn(3), "", "", ""],
            ["Новее", inn(4), "", "", ""],
        ],
    )
    result = run_import(importer, counterparties, str(path), "c.csv", ImportSettings())
    batch = ImportBatch.objects.get(pk=result.batch)
    created = [r for r in rows_of(counterparties) if r.name in ("Новая", "Новее")]
    update_records(
        SYSTEM.via("form"),
        counterparties,
        {two.pk: {"city": "Ялта"}, created[1].pk: {"city": "Уфа"}},
    )
    # when
    report = undo_import(importer, batch)
    # then
    assert report["deleted"] == 1
    assert report["restored"] == 1
    assert sorted(k["record"] for k in report["kept"]) == [two.pk, created[1].pk]
    assert [(r.name, r.city) for r in rows_of(counterparties)] == [
        ("Ромашка", "Тверь"),
        ("Лютик", "Ялта"),
        ("Новее", "Уфа"),
    ]
    batch.refresh_from_db()
    assert batch.status == "undone"
    with pytest.raises(Exception, match="уже отменён"):
        undo_import(importer, batch)


def test_undo_by_another_manager_is_refused(tmp_path, counterparties, importer):
    from kartoteka.accounts.services import create_user
    from kartoteka.core.actor import Actor
    from kartoteka.core.exceptions import PermissionDenied

    path = write_csv(tmp_path / "c.csv", [HEADER, ["Новая", inn(3), "", "", ""]])
    result = run_import(importer, counterparties, str(path), "c.csv", ImportSettings())
    other = create_user(
        SYSTEM,
        username="sidorov",
        password="Xk2#pLq9!vR",
        group="Менеджеры",
        full_name="Сидоров",
        email="s@example.ru",
    )
    with pytest.raises(PermissionDenied):
        undo_import(Actor.for_user(other), ImportBatch.objects.get(pk=result.batch))
    assert [r.name for r in rows_of(counterparties)] == ["Новая"]


def test_no_mapped_column_is_refused(tmp_path, counterparties, importer):
    path = write_csv(tmp_path / "c.csv", [["Фу", "Бар"], ["1", "2"]])
    with pytest.raises(ImportFileError, match="Ни один столбец"):
        run_import(importer, counterparties, str(path), "c.csv", ImportSettings())
    assert not model_for(counterparties).objects.exists()
