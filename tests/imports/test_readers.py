"""Readers on real files: encodings, delimiters, header, sheets, spreadsheets, hostile input."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from kartoteka.imports.readers import FileOptions, ImportFileError, open_table_file
from tests.imports.files import write_csv, write_ods, write_xls, write_xlsx

ROWS = [
    ["Название", "Город", "Комментарий"],
    ['ООО "Ромашка"', "Москва", "Первый звонок, договорились о встрече"],
    ["ИП Ёлкин", "Санкт-Петербург", "Перезвонить в четверг; уточнить цену"],
    ["Щукин и партнёры", "Нижний Новгород", "Юридическое лицо, работает с НДС"],
]


def read(path, **options):
    table_file = open_table_file(str(path), path.name, FileOptions(**options))
    headers, rows = table_file.header_and_rows()
    return table_file, headers, list(rows)


@pytest.mark.parametrize(
    ("encoding", "delimiter", "detected"),
    [
        ("cp1251", ";", "cp1251"),
        ("utf-8-sig", ",", "utf-8-sig"),
        ("utf-8", "\t", "utf-8"),
        ("koi8-r", ";", "koi8-r"),
        ("cp866", "|", "cp866"),
        ("utf-16", ";", "utf-16"),
        ("utf-16-le", ",", "utf-16-le"),
    ],
)
def test_encodings_and_delimiters_are_detected(tmp_path, encoding, delimiter, detected):
    path = write_csv(tmp_path / "f.csv", ROWS, encoding=encoding, delimiter=delimiter)
    table_file, headers, rows = read(path)
    assert (table_file.encoding, table_file.delimiter) == (detected, delimiter)
    assert headers == ROWS[0]
    assert rows == ROWS[1:]


def test_manual_encoding_and_delimiter_override(tmp_path):
    path = write_csv(tmp_path / "f.csv", ROWS, encoding="cp1251", delimiter=";")
    _table_file, _headers, rows = read(path, encoding="cp1251", delimiter=";")
    assert rows == ROWS[1:]
    with pytest.raises(ImportFileError, match="не читается в кодировке UTF-8"):
        read(path, encoding="utf-8")


def test_lenient_preview_shows_garbled_text_under_a_wrong_encoding(tmp_path):
    path = write_csv(tmp_path / "f.csv", ROWS, encoding="cp1251", delimiter=";")
    table_file = open_table_file(str(path), "f.csv", FileOptions(encoding="utf-8"), lenient=True)
    headers, _rows = table_file.header_and_rows()
    assert "\ufffd" in headers[0]


def test_no_header_names_columns(tmp_path):
    path = write_csv(tmp_path / "f.csv", ROWS[1:], encoding="utf-8")
    _file, headers, rows = read(path, header=False)
    assert headers == ["Столбец 1", "Столбец 2", "Столбец 3"]
    assert rows == ROWS[1:]


def test_quoted_fields_with_newlines_and_delimiters(tmp_path):
    rows = [["a", "b"], ["строка 1\nстрока 2", "x;y"]]
    path = write_csv(tmp_path / "f.csv", rows, encoding="utf-8")
    assert read(path)[2] == rows[1:]


def test_xlsx_with_several_sheets_and_excel_dates(tmp_path):
    path = write_xlsx(
        tmp_path / "f.xlsx",
        {
            "Клиенты": [["Название", "ИНН", "Дата"], ["Ромашка", 7707083893, dt.date(2025, 3, 1)]],
            "Архив": [["Название", "Сумма", "Дата"], ["Лютик", 1234.5, 45658]],
        },
        date_columns=(2,),
    )
    table_file, headers, rows = read(path)
    assert (table_file.kind, table_file.sheets) == ("xlsx", ["Клиенты", "Архив"])
    assert rows == [["Ромашка", "7707083893", "2025-03-01"]]
    assert table_file.count_rows() == 1
    assert list(table_file.raw_rows())[1] == rows[0]
    _file, headers, rows = read(path, sheet=1)
    assert headers == ["Название", "Сумма", "Дата"]
    assert rows == [["Лютик", "1234.5", "2025-01-01"]]
    with pytest.raises(ImportFileError, match="нет листа №3"):
        read(path, sheet=2)


def test_xls(tmp_path):
    path = write_xls(
        tmp_path / "f.xls", [["Название", "Дата", "Кол-во"], ["Ромашка", dt.date(2025, 3, 1), 5]]
    )
    table_file, _headers, rows = read(path)
    assert table_file.kind == "xls"
    assert rows == [["Ромашка", "2025-03-01", "5"]]


def test_ods(tmp_path):
    path = write_ods(
        tmp_path / "f.ods", [["Название", "Дата", "Кол-во"], ["Ромашка", dt.date(2025, 3, 1), 5]]
    )
    table_file, headers, rows = read(path)
    assert table_file.kind == "ods"
    assert headers == ["Название", "Дата", "Кол-во"]
    assert rows == [["Ромашка", "2025-03-01", "5"]]


# -- hostile and broken input --------------------------------------------------------------------


def zip_file(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_bomb_is_refused_by_its_declared_size():
    bomb = zip_file({"xl/workbook.xml": b"<x/>", "xl/worksheets/sheet1.xml": b"0" * 200_000_000})
    assert len(bomb) < 1_000_000
    with pytest.raises(ImportFileError, match="zip-бомба"):
        open_table_file(bomb, "bomb.xlsx")


def test_xml_bomb_is_refused():
    entities = b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
    bomb = zip_file(
        {"xl/workbook.xml": b'<?xml version="1.0"?>' + entities + b"<workbook>&lol2;</workbook>"}
    )
    with pytest.raises(ImportFileError, match="XML-бомба"):
        open_table_file(bomb, "bomb.xlsx")


def test_a_broken_spreadsheet_and_a_disguised_file():
    with pytest.raises(ImportFileError, match="не таблица"):
        open_table_file(b"just text, really", "report.xlsx")
    with pytest.raises(ImportFileError, match="повреждён"):
        broken = zip_file({"xl/workbook.xml": b"<workbook>"})
        list(open_table_file(broken, "b.xlsx").raw_rows())
    with pytest.raises(ImportFileError, match="Архив файла повреждён"):
        open_table_file(b"PK\x03\x04" + b"\x00" * 100, "b.xlsx")
    with pytest.raises(ImportFileError, match="zip-архив, но не таблица"):
        open_table_file(zip_file({"readme.txt": b"hi"}), "b.xlsx")


def test_an_encrypted_workbook_is_named_as_such():
    ole = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500 + "EncryptedPackage".encode("utf-16-le")
    )
    with pytest.raises(ImportFileError, match="защищён паролем"):
        open_table_file(ole, "secret.xlsx")


def test_a_100_mb_field_is_refused_in_bounded_memory(tmp_path):
    import resource

    path = tmp_path / "huge.csv"
    with open(path, "wb") as handle:
        handle.write(b"a;b\n1;")
        chunk = b"x" * (1 << 20)
        for _ in range(100):
            handle.write(chunk)
        handle.write(b"\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ImportFileError, match="длиннее"):
        read(path)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 50 * 1024


def test_a_huge_quoted_field_over_many_lines_is_refused(tmp_path):
    path = tmp_path / "q.csv"
    path.write_bytes(b'a;b\n1;"' + b"xxxxxxxxxx\n" * 200_000 + b'"\n')
    with pytest.raises(ImportFileError, match="не читается как CSV"):
        read(path)


def test_nul_bytes_and_empty_files(tmp_path):
    with pytest.raises(ImportFileError, match="нулевые байты"):
        open_table_file(b"a;b\n1;\x002\n", "n.csv")
    late = b"a;b\n" + b"1;2\n" * 100_000 + b"3;\x00\n"
    with pytest.raises(ImportFileError, match="нулевые байты"):
        list(open_table_file(late, "n.csv").raw_rows())
    with pytest.raises(ImportFileError, match="пуст"):
        open_table_file(b"", "e.csv")
