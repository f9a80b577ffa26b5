"""The writers on their own: values the record service never stores (a leading tab or carriage
return), chunking, and the sheet name."""

from __future__ import annotations

import pytest

from kartoteka.exports.columns import NUMBER, PLAIN, TEXT, Column
from kartoteka.exports.writers import (
    is_formula_like,
    neutralize,
    sheet_title,
    write_csv,
    write_xlsx,
)
from tests.exports.readers import csv_rows, xlsx_rows

FORMULA_LIKE = ["=1+1", "+7 123", "-5 text", "@SUM(A1)", "\tx", "\rx"]
#: Full-width and small forms a spreadsheet with an East Asian input method reads as ASCII, and
#: the minus sign.
FORMULA_LOOK_ALIKES = ["＝1+1", "＋7 123", "－5", "＠SUM(A1)", "﹦1", "﹢1", "﹣1", "﹫x", "−5"]


def columns() -> list[Column]:
    return [
        Column("text", "Текст", TEXT, lambda r: r["text"], str),
        Column("plain", "Флаг", PLAIN, lambda r: r["plain"], str),
        Column("number", "Число", NUMBER, lambda r: r["number"], str),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *((v, f"'{v}") for v in FORMULA_LIKE + FORMULA_LOOK_ALIKES),
        ("x=1", "x=1"),
        (" =1", " =1"),
        ("x＝1", "x＝1"),
        ("", ""),
    ],
)
def test_neutralize(text, expected):
    assert neutralize(text) == expected
    assert is_formula_like(text) == (expected != text)


def test_csv_neutralises_text_cells_only():
    # given
    records = [{"text": v, "plain": "-", "number": -5} for v in FORMULA_LIKE]
    # when
    data = b"".join(write_csv(columns(), iter(records), encoding="utf-8"))
    # then
    assert csv_rows(data, "utf-8-sig") == [
        ["Текст", "Флаг", "Число"],
        *([f"'{v}", "-", "-5"] for v in FORMULA_LIKE),
    ]


def test_csv_neutralises_full_width_formula_starters():
    # given: text starting with full-width and look-alike formula characters
    records = [{"text": v, "plain": "", "number": None} for v in FORMULA_LOOK_ALIKES]
    # when
    data = b"".join(write_csv(columns(), iter(records), encoding="utf-8"))
    # then: each gets the apostrophe like its ASCII original
    assert [r[0] for r in csv_rows(data, "utf-8-sig")[1:]] == [f"'{v}" for v in FORMULA_LOOK_ALIKES]


def test_csv_neutralises_formula_like_headers():
    # given
    cols = [Column("a", "=A1", TEXT, lambda r: None, str)]
    # when
    data = b"".join(write_csv(cols, iter([{}])))
    # then
    assert csv_rows(data) == [["'=A1"], [""]]


def test_xlsx_writes_formula_like_text_as_is():
    # given
    records = [{"text": v, "plain": "-", "number": -5} for v in FORMULA_LIKE]
    # when
    data = b"".join(write_xlsx(columns(), iter(records), sheet_name="Тест"))
    # then
    assert xlsx_rows(data) == [["Текст", "Флаг", "Число"], *([v, "-", -5.0] for v in FORMULA_LIKE)]


def test_xlsx_writes_numbers_beyond_spreadsheet_precision_as_text():
    # given
    records = [{"text": "", "plain": "", "number": n} for n in (10**15 - 1, 10**15 + 1)]
    # when
    data = b"".join(write_xlsx(columns(), iter(records)))
    # then
    assert xlsx_rows(data) == [
        ["Текст", "Флаг", "Число"],
        ["", "", 999999999999999.0],
        ["", "", "1000000000000001"],
    ]


def test_csv_comes_in_chunks_of_about_the_asked_size():
    # given
    records = [{"text": "я" * 100, "plain": "", "number": i} for i in range(1000)]
    # when
    chunks = list(write_csv(columns(), iter(records), chunk_size=10_000))
    # then
    assert len(chunks) > 5
    assert all(len(c) < 10_000 + 200 for c in chunks)
    assert len(csv_rows(b"".join(chunks))) == 1001


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("Контрагенты", "Контрагенты"),
        ("Счета [2025]: итоги/отчёт?*", "Счета 2025 итогиотчёт"),
        ("Очень длинное название таблицы для листа", "Очень длинное название таблицы"),
        ("'кавычки'", "кавычки"),
        ("", "Лист1"),
    ],
)
def test_sheet_title(name, title):
    assert sheet_title(name) == title
