"""Real import files, written the way other programs write them."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

from kartoteka.core.validators import inn_control_digits


def inn(n: int) -> str:
    """A valid 10-digit INN (legal entity) built from ``n``."""
    return inn_control_digits(f"{770000000 + n:09d}")


def write_csv(
    path: Path, rows: list[list[Any]], *, encoding: str = "cp1251", delimiter: str = ";"
) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list[Any]]], *, date_columns=()) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    date_format = book.add_format({"num_format": "dd.mm.yyyy"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.date):
                    sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
                elif c in date_columns and isinstance(value, int):
                    sheet.write_number(r, c, value, date_format)
                else:
                    sheet.write(r, c, value)
    book.close()
    return path


def write_xls(path: Path, rows: list[list[Any]]) -> Path:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Лист1")
    date_style = xlwt.easyxf(num_format_str="DD.MM.YYYY")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write(r, c, value, date_style)
            else:
                sheet.write(r, c, value)
    book.save(str(path))
    return path


def write_ods(path: Path, rows: list[list[Any]]) -> Path:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Лист1")
    for row in rows:
        tr = TableRow()
        for value in row:
            if isinstance(value, dt.date):
                cell = TableCell(valuetype="date", datevalue=value.isoformat())
            elif isinstance(value, int | float):
                cell = TableCell(valuetype="float", value=value)
            else:
                cell = TableCell(valuetype="string")
            cell.addElement(P(text=str(value)))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    doc.save(str(path))
    return path


# -- hostile files: small to send, huge to parse --------------------------------------------------

_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Лист1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    ),
}
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def _column_letters(n: int) -> str:
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def write_raw_xlsx(
    path: Path, rows: Any, *, dimension: str = "", shared: list[str] | None = None
) -> Path:
    """An XLSX written by hand, streamed: ``rows`` yields ``(row number, [(column number,
    cell XML body, type)])``; ``shared`` is the shared strings table."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for name, text in _XLSX_PARTS.items():
            book.writestr(name, text)
        strings = shared or []
        book.writestr(
            "xl/sharedStrings.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{len(strings)}" uniqueCount="{len(strings)}">'
            + "".join(f"<si><t>{s}</t></si>" for s in strings)
            + "</sst>",
        )
        with book.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(_SHEET_HEAD.encode())
            if dimension:
                sheet.write(f'<dimension ref="{dimension}"/>'.encode())
            sheet.write(b"<sheetData>")
            for number, cells in rows:
                parts = [f'<row r="{number}">']
                for column, body, kind in cells:
                    ref = f"{_column_letters(column)}{number}"
                    kind_attr = f' t="{kind}"' if kind else ""
                    parts.append(f'<c r="{ref}"{kind_attr}>{body}</c>')
                parts.append("</row>")
                sheet.write("".join(parts).encode())
            sheet.write(b"</sheetData></worksheet>")
    return path


def xlsx_corners(path: Path, last: str = "XFD1048576", *, dimension: str = "") -> Path:
    """A sheet with a value in A1 and another in the cell ``last`` (nothing in between)."""
    letters = "".join(ch for ch in last if ch.isalpha())
    number = int(last[len(letters) :])
    column = 0
    for ch in letters:
        column = column * 26 + ord(ch) - 64
    rows = [(1, [(1, "<v>1</v>", "")]), (number, [(column, "<v>2</v>", "")])]
    return write_raw_xlsx(path, rows, dimension=dimension)


def xlsx_dense(path: Path, rows: int, columns: int, *, text_length: int = 0) -> Path:
    """Every cell filled: numbers, or (``text_length``) one shared string of that length that
    every cell uses — calamine copies it into each."""
    shared = ["Ж" * text_length] if text_length else None
    body, kind = ("<v>0</v>", "s") if text_length else ("<v>7</v>", "")
    cells = [(c, body, kind) for c in range(1, columns + 1)]
    return write_raw_xlsx(path, ((r, cells) for r in range(1, rows + 1)), shared=shared)


def ods_repeated(
    path: Path, rows: int = 1_048_575, columns: int = 1, *, number: bool = False
) -> Path:
    """An ODS of one row of values repeated ``rows`` times (``number-rows-repeated``), each
    cell repeated ``columns`` times — a few hundred bytes; ``number``: the cell is a number
    written as an empty element with its value in an attribute."""
    import zipfile

    cell = (
        f'<table:table-cell office:value-type="string" table:number-columns-repeated="{columns}">'
        "<text:p>x</text:p></table:table-cell>"
    )
    if number:
        cell = (
            '<table:table-cell office:value-type="float" office:value="1" '
            f'table:number-columns-repeated="{columns}"/>'
        )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Лист1">'
        f'<table:table-row table:number-rows-repeated="{rows}">{cell}</table:table-row>'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        book.writestr("content.xml", content)
        book.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            "</manifest:manifest>",
        )
    return path


def xls_corners(path: Path) -> Path:
    """An XLS (BIFF8) with a value in A1 and another in the last cell, IV65536."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Лист1")
    sheet.write(0, 0, "Название")
    sheet.write(65535, 255, "x")
    book.save(str(path))
    return path


def csv_blank_lines(path: Path, megabytes: int = 100) -> Path:
    """A header, then ``megabytes`` MB of empty lines, then one row."""
    with open(path, "wb") as handle:
        handle.write("Название;ИНН\r\n".encode("cp1251"))
        block = b"\r\n" * (1 << 19)
        for _i in range(megabytes):
            handle.write(block)
        handle.write("Ромашка;\r\n".encode("cp1251"))
    return path


def csv_wide(path: Path, columns: int = 20_000, rows: int = 20) -> Path:
    line = ";".join(f"Столбец{i}" for i in range(columns)) + "\r\n"
    path.write_bytes((line * (rows + 1)).encode("utf-8"))
    return path
