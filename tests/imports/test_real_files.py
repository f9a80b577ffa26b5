"""Files as offices really have them: short cp1251, other code pages, UTF-16 without a BOM,
CR-only lines, title rows above the table, empty first sheets, protected workbooks, flat ODS,
XLSB — each read, or refused for the right reason."""

from __future__ import annotations

import io
import zipfile

import pytest

from kartoteka.core.validators import inn_control_digits
from kartoteka.imports.options import ImportSettings
from kartoteka.imports.readers import (
    FileOptions,
    ImportFileError,
    detect_header_row,
    fitting_encodings,
    open_table_file,
)
from kartoteka.imports.services import run_import, suggest_mapping
from kartoteka.tables.modelfactory import model_for
from tests.imports.files import inn, write_csv, write_ods, write_xls, write_xlsx

PROTECTED = "Файл защищён паролем — снимите защиту и загрузите снова."


def read(source, name: str = "", **options) -> tuple[list[str], list[list[str]]]:
    table_file = open_table_file(source, name, FileOptions(**options))
    headers, rows = table_file.header_and_rows()
    return headers, list(rows)


# -- encodings --


def test_short_cp1251_file_from_excel_is_read_as_cp1251():
    # given: three lines Excel saves as «CSV (разделители — точка с запятой)»
    data = "Имя;Город\r\nВася;Москва\r\nПетя;Тула\r\n".encode("cp1251")
    # when
    table_file = open_table_file(data, "short.csv")
    # then
    assert (table_file.encoding, table_file.encoding_doubt) == ("cp1251", False)
    assert read(data) == (["Имя", "Город"], [["Вася", "Москва"], ["Петя", "Тула"]])


@pytest.mark.parametrize("encoding", ["cp1251", "koi8-r", "cp866", "mac-cyrillic"])
@pytest.mark.parametrize(
    "text",
    [
        "Название;ИНН\r\nООО Ромашка;7700000001\r\nИП Иванов Пётр;500100732259\r\n",
        "Название\r\n" + "".join(f"Фирма {i}\r\n" for i in range(25)),
        "ФИО;Телефон\r\nХорошев Юрий;123\r\nЯковлев Ярослав;456\r\n",
    ],
)
def test_each_russian_code_page_is_told_by_the_language_of_its_text(encoding, text):
    assert open_table_file(text.encode(encoding), "a.csv").encoding == encoding
    assert read(text.encode(encoding))[1][1][0] == text.split("\r\n")[2].split(";")[0]


@pytest.mark.parametrize(
    ("text", "encoding", "word"),
    [
        ("Name;Stadt\r\nMüller GmbH;Köln\r\nCafé Straße;Zürich\r\n", "latin-1", "Müller GmbH"),
        ("Όνομα;Πόλη\r\nΑθήνα Α.Ε.;Θεσσαλονίκη\r\nΓιώργος;Πάτρα\r\n", "cp1253", "Αθήνα Α.Ε."),
    ],
)
def test_a_single_byte_file_that_is_not_russian_is_not_forced_into_cp1251(text, encoding, word):
    # when
    table_file = open_table_file(text.encode(encoding), "foreign.csv")
    # then: decoded right, and the person is told the guess is not sure
    assert table_file.encoding != "cp1251"
    assert table_file.encoding_doubt is True
    assert table_file.notes and "не похож на русский" in table_file.notes[0]
    assert read(text.encode(encoding))[1][0][0] == word


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_text(encoding):
    data = "Название;ИНН\r\nРомашка;7700000001\r\nЛютик;7700000002\r\n".encode(encoding)
    assert open_table_file(data, "u.csv").encoding == encoding
    assert read(data) == (
        ["Название", "ИНН"],
        [["Ромашка", "7700000001"], ["Лютик", "7700000002"]],
    )


def test_the_encoding_override_lists_every_encoding_that_fits_the_detected_first():
    data = "Имя;Город\r\nВася;Москва\r\n".encode("cp1251")
    found = fitting_encodings(data, "cp1251")
    assert found[0] == "cp1251"
    assert {"koi8-r", "cp866", "mac-cyrillic", "iso8859-5", "cp1252"} <= set(found)
    assert "utf-8" not in found  # the bytes are not UTF-8
    assert len(found) == len(set(found))


# -- line ends and rows --


def test_old_mac_cr_only_lines_are_lines_and_rows():
    # given
    data = "Название;Город\rРомашка;Казань\rЛютик;Тверь\r".encode("cp1251")
    # when
    table_file = open_table_file(data, "mac.csv")
    # then
    assert table_file.count_rows() == 2
    assert read(data) == (["Название", "Город"], [["Ромашка", "Казань"], ["Лютик", "Тверь"]])


def test_crlf_split_across_chunks_is_one_line_end(tmp_path):
    path = tmp_path / "big.csv"
    line = b"x" * 1023 + b"\r\n"  # 1 MiB chunks end between CR and LF
    path.write_bytes(b"a;b\r\n" + line * 3000)
    assert open_table_file(str(path), "big.csv", FileOptions(header_row=1)).count_rows() == 3000


# -- where the table begins --

PRICE_LIST = [
    ["ПРАЙС-ЛИСТ"],
    ["Период: январь 2026"],
    ["Счёт:", "40702810900000000001"],
    [],
    ["Наименование", "ИНН", "Город", "Телефон"],
    ["ООО Ромашка", inn(1), "Казань", "+7 912 345-67-89"],
    ["ИП Лютиков", inn_control_digits("5001007322"), "Тверь", ""],
]


def test_the_header_row_is_found_below_a_title_and_a_preamble(tmp_path):
    # given
    path = write_csv(tmp_path / "price.csv", PRICE_LIST)
    # when
    table_file = open_table_file(str(path), "price.csv")
    headers, rows = table_file.header_and_rows()
    # then: the empty line is not a row; the table begins at the 4th non-empty row
    assert table_file.header_index == 3
    assert headers == ["Наименование", "ИНН", "Город", "Телефон"]
    assert [r[0] for r in rows] == ["ООО Ромашка", "ИП Лютиков"]
    assert table_file.head_rows()[0] == ["ПРАЙС-ЛИСТ"]


def test_a_chosen_header_row_wins_over_the_guess(tmp_path):
    path = write_csv(tmp_path / "price.csv", PRICE_LIST)
    headers, rows = read(str(path), "price.csv", header_row=3)
    assert headers == ["Счёт:", "40702810900000000001", "Столбец 3", "Столбец 4"]
    assert len(list(rows)) == 3


def test_a_plain_file_keeps_its_first_row_as_the_header():
    assert detect_header_row([["Название", "ИНН"], ["Ромашка", "7700000001"]]) == 0
    assert detect_header_row([["7700000001", "12.01.2026"], ["1", "2"]]) == 0
    assert detect_header_row([["Отчёт"], ["1", "2", "3"]]) == 0  # no names: no header guessed
    # a narrow header above wider rows of text is still the header
    assert detect_header_row([["Клиент", "Город"], ["Ромашка", "Казань", "доп.", "ещё"]]) == 0
    # «label: value» lines of a statement are not
    rows = [["Организация:", "ООО Ромашка"], ["Дата", "Сумма", "Назначение"], ["01.12", "5"]]
    assert detect_header_row(rows) == 1


def test_columns_beyond_a_narrow_header_are_mappable_and_trailing_empties_do_not_shorten(
    tmp_path,
):
    # given: the header names two columns, the data has four; Excel leaves trailing blanks
    path = write_xlsx(
        tmp_path / "t.xlsx",
        {"Лист1": [["Название", "ИНН", "", ""], ["Ромашка", inn(1), "Казань", "x"], ["Лютик"]]},
    )
    # when
    headers, rows = read(str(path), "t.xlsx")
    # then
    assert headers == ["Название", "ИНН", "Столбец 3", "Столбец 4"]
    assert rows == [["Ромашка", inn(1), "Казань", "x"], ["Лютик"]]


# -- sheets --


def test_an_empty_first_sheet_gives_way_to_the_first_sheet_with_data(tmp_path):
    # given
    path = write_xlsx(
        tmp_path / "book.xlsx",
        {"Обложка": [], "Пусто": [], "Клиенты": [["Название"], ["Ромашка"], ["Лютик"]]},
    )
    # when
    table_file = open_table_file(str(path), "book.xlsx")
    # then
    assert table_file.sheets == ["Обложка", "Пусто", "Клиенты"]
    assert table_file.sheet_rows == [0, 0, 3]
    assert table_file.sheet == 2
    assert table_file.notes == ["Лист «Обложка» пуст — читается лист «Клиенты»."]
    assert read(str(path), "book.xlsx") == (["Название"], [["Ромашка"], ["Лютик"]])
    assert table_file.count_rows() == 2


# -- the right reasons --


def test_a_password_protected_xlsx_says_so(tmp_path):
    import msoffcrypto.format.ooxml as ooxml

    # given: a workbook encrypted the way Excel does (an OLE container, EncryptedPackage)
    plain = write_xlsx(tmp_path / "plain.xlsx", {"Лист1": [["Название"], ["Ромашка"]]})
    encrypted = io.BytesIO()
    with open(plain, "rb") as handle:
        ooxml.OOXMLFile(handle).encrypt("secret", encrypted)
    path = tmp_path / "secret.xlsx"
    path.write_bytes(encrypted.getvalue())
    # then: as a path and as bytes
    for source in (str(path), encrypted.getvalue()):
        with pytest.raises(ImportFileError) as refused:
            open_table_file(source, "secret.xlsx")
        assert refused.value.message == PROTECTED


def test_a_password_protected_xls_says_so(tmp_path):
    # given: an XLS whose workbook globals carry a FILEPASS record (in place of INTERFACEHDR,
    # the record that follows BOF in what xlwt writes; same length, so the container holds)
    data = write_xls(tmp_path / "plain.xls", [["Название"], ["Ромашка"]]).read_bytes()
    interface = data.index(b"\xe1\x00\x02\x00")
    path = tmp_path / "secret.xls"
    path.write_bytes(data[:interface] + b"\x2f\x00\x02\x00" + data[interface + 4 :])
    # then
    with pytest.raises(ImportFileError) as refused:
        open_table_file(str(path), "secret.xls")
    assert refused.value.message == PROTECTED


def test_a_password_protected_ods_says_so(tmp_path):
    # given: LibreOffice's encrypted ODS declares its encryption in the manifest
    path = write_ods(tmp_path / "plain.ods", [["Название"], ["Ромашка"]])
    source = zipfile.ZipFile(path)
    target = tmp_path / "secret.ods"
    with source, zipfile.ZipFile(target, "w") as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "META-INF/manifest.xml":
                data = data.replace(
                    b"</manifest:manifest>",
                    b'<manifest:file-entry manifest:full-path="x.xml" manifest:media-type="">'
                    b"<manifest:encryption-data/></manifest:file-entry></manifest:manifest>",
                )
            archive.writestr(info, data)
    # then
    with pytest.raises(ImportFileError) as refused:
        open_table_file(str(target), "secret.ods")
    assert refused.value.message == PROTECTED


def test_xlsb_is_refused_as_a_format_by_name(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.bin", b"\x83\x01\x00")
    with pytest.raises(ImportFileError) as refused:
        open_table_file(buffer.getvalue(), "book.xlsb")
    assert "XLSB" in refused.value.message and "не поддерживается" in refused.value.message


FODS = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"
 office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
<office:body><office:spreadsheet><table:table table:name="Клиенты">
<table:table-row><table:table-cell office:value-type="string"><text:p>Название</text:p>
</table:table-cell><table:table-cell office:value-type="string"><text:p>ИНН</text:p>
</table:table-cell></table:table-row>
<table:table-row><table:table-cell office:value-type="string"><text:p>Ромашка</text:p>
</table:table-cell><table:table-cell office:value-type="float" office:value="7700000001">
<text:p>7700000001</text:p></table:table-cell></table:table-row>
</table:table></office:spreadsheet></office:body></office:document>
"""


def test_flat_xml_ods_is_read_as_a_spreadsheet(tmp_path):
    path = tmp_path / "book.fods"
    path.write_text(FODS, encoding="utf-8")
    table_file = open_table_file(str(path), "book.fods")
    assert (table_file.kind, table_file.sheets) == ("ods", ["Клиенты"])
    assert read(str(path), "book.fods") == (["Название", "ИНН"], [["Ромашка", "7700000001"]])


# -- header synonyms and «Вид» --


def test_office_names_of_columns_map_to_the_fields(counterparties, importer):
    headers = ["НАИМЕНОВАНИЕ", "ИНН", "Тел.", "Телефон 2", "Эл. почта", "Юр. адрес", "Прочее"]
    mapping = suggest_mapping(headers, counterparties, importer)
    assert [(m.column, m.field) for m in mapping] == [
        (0, "name"),
        (1, "inn"),
        (2, "phone"),  # the second phone column is not forced into the same field
        (4, "email"),
        (5, "address"),
    ]
    for name in ("Организация", "Компания", "клиент"):
        assert [m.field for m in suggest_mapping([name], counterparties)] == ["name"]
    for name in ("Моб. телефон", "Телефон 2", "ТЕЛ"):
        assert [m.field for m in suggest_mapping([name], counterparties)] == ["phone"]
    for name in ("Почта", "E-mail", "e mail", "ЭЛ.ПОЧТА"):
        assert [m.field for m in suggest_mapping([name], counterparties)] == ["email"]


def test_kind_is_inferred_from_the_inn_and_the_name(tmp_path, counterparties, importer):
    # given: a price list with a title, «Вид» not in the file
    person = inn_control_digits("5001007322")
    path = write_csv(
        tmp_path / "c.csv",
        [
            ["Клиенты на 01.01.2026"],
            ["Организация", "ИНН", "Тел."],
            ["Ромашка", inn(1), ""],
            ["ИП Лютиков Пётр", inn_control_digits("5001007323"), ""],
            ["Сидоров Иван", person, "+7 912 345-67-89"],
            ["ООО Без ИНН", "", ""],
            ["Просто имя", "", ""],
        ],
    )
    # when
    result = run_import(importer, counterparties, str(path), "c.csv", ImportSettings())
    # then: «Просто имя» gets the field's default
    assert (result.created, result.errors) == (5, [])
    rows = model_for(counterparties).objects.order_by("id").values_list("name", "kind", "phone")
    assert list(rows) == [
        ("Ромашка", "legal", None),
        ("ИП Лютиков Пётр", "entrepreneur", None),
        ("Сидоров Иван", "person", "+79123456789"),
        ("ООО Без ИНН", "legal", None),
        ("Просто имя", "legal", None),
    ]
