"""export_records: which records, which columns, values the Russian way, CSV and XLSX."""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import NotFound, PermissionDenied, RecordValidationError
from kartoteka.exports import writers
from kartoteka.exports.errors import ExportError
from kartoteka.exports.services import condition_from_text, export_records, save_export
from kartoteka.records.selectors import Condition
from kartoteka.records.services import archive_records, create_records
from tests.builders import SYSTEM
from tests.exports.readers import csv_rows, read, xlsx_rows

NBSP = "\u00a0"

COUNTERPARTY_HEADER = [
    "№",
    "Название",
    "Вид",
    "ИНН",
    "КПП",
    "Телефон",
    "E-mail",
    "Сайт",
    "Адрес",
    "Город",
    "Менеджер",
    "Тип",
    "Статус",
    "Источник",
    "Комментарий",
    "Не отправлять рассылки",
]
GOODS_HEADER = [
    "№",
    "Название",
    "Количество",
    "Цена",
    "Сумма",
    "Дата",
    "Отгружено",
    "В наличии",
    "Вид",
    "Метки",
    "Поставщик",
    "Ответственный",
    "Телефон",
    "Заметка",
]


@pytest.fixture
def firms(counterparties, admin_user):
    """Three counterparties; returns their ids."""
    records = create_records(
        SYSTEM,
        counterparties,
        [
            {
                "name": "Ромашка",
                "kind": "ИП",
                "inn": "7707083893",
                "phone": "8 (912) 345-67-89",
                "email": "info@romashka.ru",
                "city": "Казань",
                "manager": admin_user.pk,
                "type": "client",
                "status": "Заинтересован",
                "source": "site",
                "comment": "Звонить после обеда;\nспросить «Ивана»",
                "no_mailing": True,
            },
            {"name": "Лютик", "city": "Москва"},
            {"name": "Василёк", "city": "Казань", "status": "paid"},
        ],
    )
    return [r.pk for r in records]


@pytest.fixture
def goods_rows(goods, firms, admin_user):
    records = create_records(
        SYSTEM,
        goods,
        [
            {
                "name": "Чай «Тёмный»",
                "qty": "1 500",
                "price": "1234,5",
                "total": "1234567,8",
                "day": "01.02.2025",
                "moment": "01.02.2025 13:05",
                "flag": True,
                "kind": "Опт",
                "tags": "Распродажа, Новинка",
                "partner": "Ромашка",
                "owner": admin_user.pk,
                "phone": "+7 495 123-45-67",
                "note": "две\nстроки",
            },
            {"name": "Кофе", "qty": -5, "price": "-0,5", "total": "-10"},
        ],
    )
    return [r.pk for r in records]


# -- CSV ---------------------------------------------------------------------------------------


def test_csv_cp1251_semicolon_by_default(counterparties, firms):
    # when
    export = export_records(SYSTEM, counterparties, fmt="csv")
    data = read(export)
    # then
    assert data.startswith("№;Название;".encode("cp1251"))
    assert "\r\n" in data.decode("cp1251")
    assert csv_rows(data) == [
        COUNTERPARTY_HEADER,
        [
            str(firms[0]),
            "Ромашка",
            "ИП",
            "7707083893",
            "",
            "'+7 912 345-67-89",
            "info@romashka.ru",
            "",
            "",
            "Казань",
            "Петров Пётр",
            "Клиент",
            "Заинтересован",
            "Сайт",
            "Звонить после обеда;\nспросить «Ивана»",
            "Да",
        ],
        [
            str(firms[1]),
            "Лютик",
            "Юридическое лицо",
            "",
            "",
            "",
            "",
            "",
            "",
            "Москва",
            "",
            "Потенциальный",
            "Холодный",
            "",
            "",
            "Нет",
        ],
        [
            str(firms[2]),
            "Василёк",
            "Юридическое лицо",
            "",
            "",
            "",
            "",
            "",
            "",
            "Казань",
            "",
            "Потенциальный",
            "Получена оплата",
            "",
            "",
            "Нет",
        ],
    ]
    assert export.rows == 3
    assert export.content_type == "text/csv; charset=windows-1251"
    assert export.filename == f"counterparties-{timezone.localdate():%Y-%m-%d}.csv"


def test_csv_values_in_russian_formats(goods, goods_rows):
    # when
    data = read(export_records(SYSTEM, goods, fmt="csv"))
    # then: numbers with a comma and grouped thousands, money without «₽», negative numbers
    # untouched, choices by label, a link by its title, a user by name
    assert csv_rows(data) == [
        GOODS_HEADER,
        [
            str(goods_rows[0]),
            "Чай «Тёмный»",
            f"1{NBSP}500",
            f"1{NBSP}234,50",
            f"1{NBSP}234{NBSP}567,80",
            "01.02.2025",
            "01.02.2025 13:05",
            "Да",
            "Опт",
            "Новинка, Распродажа",
            "Ромашка",
            "Петров Пётр",
            "'+7 495 123-45-67",
            "две\nстроки",
        ],
        [
            str(goods_rows[1]),
            "Кофе",
            "-5",
            "-0,50",
            "-10,00",
            "",
            "",
            "Нет",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
    ]


def test_csv_utf8_starts_with_bom_and_takes_comma(counterparties, firms):
    # when
    export = export_records(
        SYSTEM, counterparties, fmt="csv", encoding="utf-8", delimiter=",", fields=["name", "city"]
    )
    data = read(export)
    # then
    assert data.startswith(b"\xef\xbb\xbf\xd0\x9d")  # BOM, then «Н»
    assert csv_rows(data, "utf-8-sig", ",") == [
        ["Название", "Город"],
        ["Ромашка", "Казань"],
        ["Лютик", "Москва"],
        ["Василёк", "Казань"],
    ]
    assert export.content_type == "text/csv; charset=utf-8"


def test_csv_comma_delimiter_quotes_decimal_commas(goods, goods_rows):
    # when
    data = read(export_records(SYSTEM, goods, fmt="csv", delimiter=",", fields=["name", "price"]))
    # then
    assert data.decode("cp1251") == (
        f'Название,Цена\r\nЧай «Тёмный»,"1{NBSP}234,50"\r\nКофе,"-0,50"\r\n'
    )


def test_cp1251_replaces_characters_it_lacks(counterparties):
    # given
    create_records(SYSTEM, counterparties, [{"name": "Кофе ☕ за 5 ₽ — ок"}])
    # when
    data = read(export_records(SYSTEM, counterparties, fmt="csv", fields=["name"]))
    # then
    assert csv_rows(data) == [["Название"], ["Кофе ? за 5 ? — ок"]]


def test_csv_neutralises_formula_like_text(counterparties):
    # given
    values = ["=1+1", "+7 123", "-5 text", "@SUM(A1)", "обычный -текст"]
    create_records(SYSTEM, counterparties, [{"name": v} for v in values])
    # when
    data = read(export_records(SYSTEM, counterparties, fmt="csv", fields=["name"]))
    # then
    assert csv_rows(data) == [
        ["Название"],
        ["'=1+1"],
        ["'+7 123"],
        ["'-5 text"],
        ["'@SUM(A1)"],
        ["обычный -текст"],
    ]


def test_formula_like_choice_labels_and_link_titles_are_neutralised(goods, counterparties):
    # given
    partner = create_records(SYSTEM, counterparties, [{"name": '=HYPERLINK("x")'}])[0]
    create_records(SYSTEM, goods, [{"name": "-", "partner": partner.pk, "qty": -1}])
    # when
    data = read(export_records(SYSTEM, goods, fmt="csv", fields=["name", "partner", "qty"]))
    # then
    assert csv_rows(data) == [
        ["Название", "Поставщик", "Количество"],
        ["'-", '\'=HYPERLINK("x")', "-1"],
    ]


# -- XLSX --------------------------------------------------------------------------------------


def test_xlsx_numbers_are_numbers_and_dates_are_dates(goods, goods_rows):
    # when
    export = export_records(SYSTEM, goods, fmt="xlsx")
    data = read(export)
    # then
    assert xlsx_rows(data) == [
        GOODS_HEADER,
        [
            float(goods_rows[0]),
            "Чай «Тёмный»",
            1500.0,
            1234.5,
            1234567.8,
            dt.date(2025, 2, 1),
            dt.datetime(2025, 2, 1, 13, 5),
            "Да",
            "Опт",
            "Новинка, Распродажа",
            "Ромашка",
            "Петров Пётр",
            "+7 495 123-45-67",
            "две\nстроки",
        ],
        [
            float(goods_rows[1]),
            "Кофе",
            -5.0,
            -0.5,
            -10.0,
            "",
            "",
            "Нет",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
    ]
    assert export.rows == 2
    assert export.filename == f"goods-{timezone.localdate():%Y-%m-%d}.xlsx"
    assert export.content_type == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def test_xlsx_number_formats_and_sheet_name(goods, goods_rows):
    # when
    data = read(export_records(SYSTEM, goods, fmt="xlsx"))
    # then
    archive = zipfile.ZipFile(io.BytesIO(data))
    styles = archive.read("xl/styles.xml").decode()
    assert 'formatCode="dd.mm.yyyy"' in styles
    assert 'formatCode="dd.mm.yyyy hh:mm"' in styles
    assert 'formatCode="#,##0.00\\ &quot;₽&quot;"' in styles
    assert 'formatCode="#,##0"' in styles
    assert 'name="Товары"' in archive.read("xl/workbook.xml").decode()


def test_xlsx_keeps_formula_like_text_exact_in_string_cells(counterparties):
    # given
    values = ["=1+1", "+7 123", "-5 text", "@SUM(A1)"]
    create_records(SYSTEM, counterparties, [{"name": v} for v in values])
    # when
    data = read(export_records(SYSTEM, counterparties, fmt="xlsx", fields=["name"]))
    # then
    assert xlsx_rows(data) == [["Название"], ["=1+1"], ["+7 123"], ["-5 text"], ["@SUM(A1)"]]
    archive = zipfile.ZipFile(io.BytesIO(data))
    sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet
    assert sheet.count('t="inlineStr"') == 5
    assert 'quotePrefix="1"' in archive.read("xl/styles.xml").decode()


def test_xlsx_refuses_more_rows_than_a_sheet_holds(counterparties, firms, monkeypatch):
    # given: a sheet of three rows holds a header and two records
    monkeypatch.setattr(writers, "XLSX_MAX_ROWS", 3)
    # when
    with pytest.raises(ExportError) as caught:
        export_records(SYSTEM, counterparties, fmt="xlsx")
    # then
    assert caught.value.code == "too_many_rows"
    assert caught.value.message == "Слишком много записей для XLSX (больше 2); выгрузите в CSV."
    two = read(export_records(SYSTEM, counterparties, fmt="xlsx", ids=firms[:2], fields=["id"]))
    assert xlsx_rows(two) == [["№"], [float(firms[0])], [float(firms[1])]]


def test_xlsx_temporary_file_is_removed_even_when_stopped_early(
    counterparties, firms, monkeypatch, tmp_path
):
    # given
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    export = export_records(SYSTEM, counterparties, fmt="xlsx")
    chunks = export.chunks
    # when
    first = next(chunks)
    during = os.listdir(tmp_path)
    chunks.close()
    # then
    assert first.startswith(b"PK")
    assert len(during) == 1
    assert os.listdir(tmp_path) == []


# -- which records -----------------------------------------------------------------------------


def test_ids_export_exactly_the_selection(counterparties, firms):
    # when
    data = read(
        export_records(SYSTEM, counterparties, fmt="csv", ids=[firms[2], firms[0]], fields=["name"])
    )
    # then
    assert csv_rows(data) == [["Название"], ["Ромашка"], ["Василёк"]]


def test_empty_selection_gives_only_the_header(counterparties, firms):
    # when
    export = export_records(SYSTEM, counterparties, fmt="csv", ids=[], fields=["name"])
    # then
    assert csv_rows(read(export)) == [["Название"]]
    assert export.rows == 0


def test_filter_exports_only_matching_records(counterparties, firms):
    # when
    data = read(
        export_records(
            SYSTEM,
            counterparties,
            fmt="csv",
            conditions=[Condition("city", "eq", "Казань")],
            ordering=["-name"],
            fields=["name", "city", "status"],
        )
    )
    # then
    assert csv_rows(data) == [
        ["Название", "Город", "Статус"],
        ["Ромашка", "Казань", "Заинтересован"],
        ["Василёк", "Казань", "Получена оплата"],
    ]


def test_search_and_any_match(counterparties, firms):
    # when
    by_search = read(
        export_records(SYSTEM, counterparties, fmt="csv", search="912 345", fields=["name"])
    )
    by_any = read(
        export_records(
            SYSTEM,
            counterparties,
            fmt="csv",
            conditions=[Condition("city", "eq", "Москва"), Condition("status", "eq", "paid")],
            match="any",
            fields=["name"],
        )
    )
    # then
    assert csv_rows(by_search) == [["Название"], ["Ромашка"]]
    assert csv_rows(by_any) == [["Название"], ["Лютик"], ["Василёк"]]


def test_archived_records_are_not_exported_by_default(counterparties, firms):
    # given
    archive_records(SYSTEM, counterparties, [firms[1]])
    # when
    active = read(export_records(SYSTEM, counterparties, fmt="csv", fields=["name"]))
    archived = read(
        export_records(SYSTEM, counterparties, fmt="csv", state="archived", fields=["name"])
    )
    selected = read(
        export_records(SYSTEM, counterparties, fmt="csv", ids=[firms[1]], fields=["name"])
    )
    # then
    assert csv_rows(active) == [["Название"], ["Ромашка"], ["Василёк"]]
    assert csv_rows(archived) == [["Название"], ["Лютик"]]
    assert csv_rows(selected) == [["Название"]]


def test_system_columns_can_be_chosen(counterparties, admin, admin_user):
    # given
    record = create_records(admin, counterparties, [{"name": "Ромашка"}])[0]
    stamp = timezone.localtime(record.created_at).strftime("%d.%m.%Y %H:%M")
    # when
    data = read(
        export_records(
            SYSTEM, counterparties, fmt="csv", fields=["name", "id", "created_at", "created_by"]
        )
    )
    # then
    assert csv_rows(data) == [
        ["Название", "№", "Создано", "Создал"],
        ["Ромашка", str(record.pk), stamp, "Петров Пётр"],
    ]


def test_queries_do_not_grow_with_rows(goods, goods_rows, admin_user):
    # given
    read(export_records(SYSTEM, goods, fmt="csv"))  # warm the model cache
    with CaptureQueriesContext(connection) as few:
        read(export_records(SYSTEM, goods, fmt="csv"))
    create_records(
        SYSTEM,
        goods,
        [{"name": f"Товар {i}", "partner": "Лютик", "owner": admin_user.pk} for i in range(30)],
    )
    # when
    with CaptureQueriesContext(connection) as many:
        export = export_records(SYSTEM, goods, fmt="csv")
        read(export)
    # then
    assert export.rows == 32
    assert len(many) == len(few)


# -- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "code", "message"),
    [
        ({"fmt": "xls"}, "bad_format", "Неизвестный формат «xls»: допустимо csv или xlsx."),
        (
            {"fmt": "csv", "encoding": "koi8-r"},
            "bad_encoding",
            "Неизвестная кодировка «koi8-r»: допустимо utf-8 или cp1251.",
        ),
        (
            {"fmt": "csv", "delimiter": "\t"},
            "bad_delimiter",
            "Недопустимый разделитель «\t»: допустимо «;» или «,».",
        ),
        ({"fmt": "csv", "ids": ["1"]}, "bad_ids", "«1» — не номер записи."),
    ],
)
def test_bad_arguments_are_refused(counterparties, kwargs, code, message):
    # when
    with pytest.raises(ExportError) as caught:
        export_records(SYSTEM, counterparties, **kwargs)
    # then
    assert (caught.value.code, caught.value.message) == (code, message)


def test_unknown_column_is_refused(goods):
    # when
    with pytest.raises(ExportError) as caught:
        export_records(SYSTEM, goods, fmt="csv", fields=["name", "colour"])
    # then
    assert caught.value.code == "unknown_field"
    assert caught.value.message == (
        "В таблице «Товары» нет поля «colour». Поля: id, created_at, updated_at, created_by, "
        "updated_by, name, qty, price, total, day, moment, flag, kind, tags, partner, owner, "
        "phone, note."
    )


def test_bad_condition_and_state_are_refused_before_any_byte(counterparties):
    # when
    with pytest.raises(RecordValidationError) as bad_field:
        export_records(SYSTEM, counterparties, fmt="csv", conditions=[Condition("colour", "eq", 1)])
    with pytest.raises(NotFound):
        export_records(SYSTEM, counterparties, fmt="csv", state="lost")
    # then
    assert [(e.field, e.code) for e in bad_field.value.errors] == [("colour", "unknown_field")]


def test_disabled_account_may_not_export(counterparties, admin_user):
    # given
    admin_user.is_active = False
    admin_user.save(update_fields=["is_active"])
    # when / then
    with pytest.raises(PermissionDenied):
        export_records(Actor.for_user(admin_user), counterparties, fmt="csv")


# -- saving and the filter syntax --------------------------------------------------------------


def test_save_export_replaces_the_file_only_when_complete(counterparties, firms, tmp_path):
    # given
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")

    def broken():
        yield b"half"
        raise RuntimeError("disk full")

    export = export_records(SYSTEM, counterparties, fmt="csv", fields=["name"])
    # when
    with pytest.raises(RuntimeError):
        save_export(type(export)("x.csv", "text/csv", broken()), target)
    rows = save_export(export, target)
    # then
    assert rows == 3
    assert csv_rows(target.read_bytes()) == [["Название"], ["Ромашка"], ["Лютик"], ["Василёк"]]
    assert sorted(os.listdir(tmp_path)) == ["out.csv"]


@pytest.mark.parametrize(
    ("text", "condition"),
    [
        ("city=Казань", Condition("city", "eq", "Казань")),
        ("name__startswith=Ром", Condition("name", "startswith", "Ром")),
        ("total__gte=1 000,5", Condition("total", "gte", "1 000,5")),
        ("comment__contains=a=b", Condition("comment", "contains", "a=b")),
        ("city=", Condition("city", "eq", "")),
    ],
)
def test_condition_from_text(text, condition):
    assert condition_from_text(text) == condition


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("city", "Фильтр «city»: ожидается ПОЛЕ=ЗНАЧЕНИЕ или ПОЛЕ__условие=ЗНАЧЕНИЕ."),
        ("=Казань", "Фильтр «=Казань»: ожидается ПОЛЕ=ЗНАЧЕНИЕ или ПОЛЕ__условие=ЗНАЧЕНИЕ."),
        (
            "city__like=Каз",
            "Фильтр «city__like=Каз»: неизвестное условие «like»; допустимо: eq, ne, contains, "
            "startswith, gt, lt, gte, lte.",
        ),
    ],
)
def test_bad_condition_text_is_refused(text, message):
    with pytest.raises(ExportError) as caught:
        condition_from_text(text)
    assert (caught.value.code, caught.value.message) == ("bad_filter", message)
