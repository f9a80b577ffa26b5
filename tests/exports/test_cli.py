"""``kartoteka export``: writes the whole file or nothing, and says clearly what is wrong."""

from __future__ import annotations

import os

import pytest

from kartoteka.cli import main
from kartoteka.records.services import create_records
from tests.builders import SYSTEM
from tests.exports.readers import csv_rows, xlsx_rows


@pytest.fixture
def firms(counterparties):
    records = create_records(
        SYSTEM,
        counterparties,
        [
            {"name": "Ромашка", "city": "Казань", "status": "interested"},
            {"name": "Лютик", "city": "Москва"},
            {"name": "Василёк", "city": "Казань", "status": "paid"},
        ],
    )
    return [r.pk for r in records]


def test_export_csv_with_a_filter(firms, tmp_path, capsys):
    # given
    out = tmp_path / "kazan.csv"
    # when
    code = main(
        [
            "export",
            "--table",
            "counterparties",
            "--filter",
            "city=Казань",
            "--format",
            "csv",
            "-o",
            str(out),
        ]
    )
    # then
    assert code == 0
    rows = csv_rows(out.read_bytes())
    assert [row[1] for row in rows] == ["Название", "Ромашка", "Василёк"]
    assert capsys.readouterr().out == f"Выгружено записей: 2 → {out}\n"
    assert os.listdir(tmp_path) == ["kazan.csv"]


def test_export_with_operators_ids_utf8_and_comma(firms, tmp_path):
    # given
    out = tmp_path / "out.csv"
    # when
    code = main(
        [
            "export",
            "--table",
            "counterparties",
            "--filter",
            "name__ne=Лютик",
            "--filter",
            "status__ne=paid",
            "--ids",
            f"{firms[0]},{firms[1]}",
            "--format",
            "csv",
            "--encoding",
            "utf-8",
            "--delimiter",
            ",",
            "-o",
            str(out),
        ]
    )
    # then
    assert code == 0
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert [row[1] for row in csv_rows(data, "utf-8-sig", ",")] == ["Название", "Ромашка"]


def test_export_xlsx(firms, tmp_path, capsys):
    # given
    out = tmp_path / "all.xlsx"
    # when
    code = main(["export", "--table", "counterparties", "--format", "xlsx", "-o", str(out)])
    # then
    assert code == 0
    rows = xlsx_rows(out.read_bytes())
    assert [row[:2] for row in rows] == [
        ["№", "Название"],
        [float(firms[0]), "Ромашка"],
        [float(firms[1]), "Лютик"],
        [float(firms[2]), "Василёк"],
    ]
    assert capsys.readouterr().out == f"Выгружено записей: 3 → {out}\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--table", "nope", "--format", "csv"],
            "Ошибка: Таблица «nope» не найдена.\n",
        ),
        (
            ["--table", "counterparties", "--format", "xls"],
            "Ошибка: Неизвестный формат «xls»: допустимо csv или xlsx.\n",
        ),
        (
            ["--table", "counterparties", "--format", "csv", "--filter", "colour=red"],
            "Ошибка: фильтр по полю «colour»: Нет такого поля. Поля таблицы: name, kind, inn, "
            "kpp, phone, email, website, address, city, manager, type, status, source, comment, "
            "no_mailing.\n",
        ),
        (
            ["--table", "counterparties", "--format", "csv", "--filter", "city__like=Каз"],
            "Ошибка: Фильтр «city__like=Каз»: неизвестное условие «like»; допустимо: eq, ne, "
            "contains, startswith, gt, lt, gte, lte.\n",
        ),
        (
            ["--table", "counterparties", "--format", "csv", "--ids", "1,два"],
            "Ошибка: --ids: ожидаются номера записей через запятую, а не «1,два».\n",
        ),
        (
            ["--table", "counterparties", "--format", "csv", "--encoding", "koi8-r"],
            "Ошибка: Неизвестная кодировка «koi8-r»: допустимо utf-8 или cp1251.\n",
        ),
    ],
)
def test_refusals_write_nothing(firms, tmp_path, capsys, args, message):
    # given
    out = tmp_path / "out.csv"
    # when
    code = main(["export", *args, "-o", str(out)])
    # then
    assert code == 1
    assert capsys.readouterr() == ("", message)
    assert os.listdir(tmp_path) == []


def test_a_failed_export_leaves_an_earlier_file_alone(firms, tmp_path, capsys):
    # given
    out = tmp_path / "out.csv"
    out.write_bytes(b"old")
    # when
    code = main(
        [
            "export",
            "--table",
            "counterparties",
            "--filter",
            "colour=red",
            "--format",
            "csv",
            "-o",
            str(out),
        ]
    )
    # then
    assert code == 1
    assert out.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.csv"]


def test_missing_directory_is_reported(firms, tmp_path, capsys):
    # given
    out = tmp_path / "no" / "such" / "dir.csv"
    # when
    code = main(["export", "--table", "counterparties", "--format", "csv", "-o", str(out)])
    # then
    assert code == 1
    assert capsys.readouterr().err == (
        f"Ошибка: не удалось записать «{out}»: No such file or directory\n"
    )
