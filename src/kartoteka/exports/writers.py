"""The CSV and XLSX writers: records in, a stream of byte chunks out, in constant memory.

Both take :class:`~kartoteka.exports.columns.Column` objects and an *iterator* of records (the
caller passes ``queryset.iterator(chunk_size=…)``), hold at most one chunk of output at a time and
never a list of records, so a million rows export in the same memory as a hundred.

**Formula neutralisation** (OWASP «CSV injection»). A spreadsheet runs a cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula (their full-width
forms ``＝ ＋ － ＠`` too), and a formula can run
commands (DDE) or send data away. User text — kind ``text`` only; numbers, dates and «Да»/«Нет»
are made by the program, and a negative number must stay a number — is therefore neutralised:

- CSV: such a cell gets a leading apostrophe (``=1+1`` → ``'=1+1``). A phone shown as
  ``+7 912 …`` gets it too: Excel would otherwise take it for a formula.
- XLSX: every text is written with ``write_string`` — a string cell, which a spreadsheet never
  evaluates — and the workbook is opened with ``strings_to_formulas=False`` as a second guard.
  The value is kept *exactly* (no apostrophe in the data); formula-like cells also get Excel's
  «quote prefix» style, the hidden apostrophe, so editing such a cell in Excel keeps it text.

**Encodings.** ``utf-8`` output starts with a byte order mark, without which Excel reads UTF-8 as
the ANSI code page. ``cp1251`` (Windows-1251, what Russian Excel expects) lacks many characters
(``₽``, emoji, most non-Cyrillic scripts); they become ``?`` instead of failing the export.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.exports.columns import DATE, DATETIME, NUMBER, TEXT, Column
from kartoteka.exports.errors import ExportError

#: Bytes (roughly) per chunk handed to the caller.
CHUNK_SIZE = 64 * 1024

DELIMITERS = (";", ",")

#: What makes a spreadsheet read a cell as a formula (OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

#: Rows in an XLSX sheet, the header included.
XLSX_MAX_ROWS = 1_048_576
#: Significant digits a spreadsheet number keeps; longer numbers are written as text.
XLSX_MAX_DIGITS = 15
XLSX_DATE_FORMAT = "dd.mm.yyyy"
XLSX_DATETIME_FORMAT = "dd.mm.yyyy hh:mm"
_SHEET_NAME_BAD = str.maketrans("", "", "[]:*?/\\")
#: Kinds written as spreadsheet numbers (dates are numbers there too), each with a format.
TYPED = (NUMBER, DATE, DATETIME)


#: Look-alikes NFKC does not fold into ``FORMULA_PREFIXES``: the minus sign.
_LOOK_ALIKES = ("\u2212",)


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet would run ``text`` as a formula.

    The first character is compared after NFKC folding as well: spreadsheets with an East Asian
    input method take the full-width ``＝ ＋ － ＠`` (and the small forms ``﹦ ﹢ ﹣ ﹫``) for their
    ASCII originals and run the cell.
    """
    if not text:
        return False
    first = text[0]
    return (
        first in FORMULA_PREFIXES
        or unicodedata.normalize("NFKC", first)[:1] in FORMULA_PREFIXES
        or first in _LOOK_ALIKES
    )


def neutralize(text: str) -> str:
    """``text`` safe for a CSV cell: a leading apostrophe when it looks like a formula."""
    return f"'{text}" if is_formula_like(text) else text


# -- CSV ---------------------------------------------------------------------------------------


def write_csv(
    columns: list[Column],
    records: Iterable[Any],
    *,
    encoding: str = "cp1251",
    delimiter: str = ";",
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[bytes]:
    """A CSV file as byte chunks: a header of column labels, then one line per record.

    Lines end with CRLF (RFC 4180, what Excel writes); cells with the delimiter, quotes or line
    breaks are quoted.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    if encoding == "utf-8":
        yield codecs.BOM_UTF8
    writer.writerow([neutralize(c.label) for c in columns])
    for record in records:
        row = []
        for column in columns:
            text = column.text(record)
            row.append(neutralize(text) if column.kind == TEXT else text)
        writer.writerow(row)
        if buffer.tell() >= chunk_size:
            yield _drain(buffer, encoding)
    if buffer.tell():
        yield _drain(buffer, encoding)


def _drain(buffer: io.StringIO, encoding: str) -> bytes:
    data = buffer.getvalue().encode(encoding, errors="replace")
    buffer.seek(0)
    buffer.truncate()
    return data


# -- XLSX --------------------------------------------------------------------------------------


def write_xlsx(
    columns: list[Column],
    records: Iterable[Any],
    *,
    sheet_name: str = "",
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[bytes]:
    """An XLSX workbook of one sheet as byte chunks.

    XlsxWriter in ``constant_memory`` mode writes each row to disk as it comes; the finished
    file (a zip) is then read back in chunks and deleted — also when the caller stops early.
    Nothing is created until the first chunk is asked for.
    """
    fd, path = tempfile.mkstemp(prefix="kartoteka-export-", suffix=".xlsx")
    os.close(fd)
    try:
        _build_workbook(path, columns, records, sheet_name)
        with open(path, "rb") as fh:
            while chunk := fh.read(chunk_size):
                yield chunk
    finally:
        os.unlink(path)


def sheet_title(name: str) -> str:
    """A valid sheet name: no ``[]:*?/\\``, at most 31 characters, not empty."""
    name = name.translate(_SHEET_NAME_BAD).strip().strip("'")[:31].strip()
    return name or _("Лист1")


def _build_workbook(path: str, columns: list[Column], records: Iterable[Any], name: str) -> None:
    workbook = xlsxwriter.Workbook(
        path,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    try:
        sheet = _Sheet(workbook, columns, sheet_title(name))
        row = 0
        for record in records:
            row += 1
            if row >= XLSX_MAX_ROWS:
                raise ExportError(
                    _("Слишком много записей для XLSX (больше %(n)s); выгрузите в CSV.")
                    % {"n": XLSX_MAX_ROWS - 1},
                    code="too_many_rows",
                )
            sheet.write_row(row, record)
        sheet.finish(row)
    finally:
        workbook.close()


class _Sheet:
    """One worksheet with the cell formats of its columns; rows are written in order."""

    def __init__(self, workbook: Any, columns: list[Column], name: str) -> None:
        self.columns = columns
        self.sheet = workbook.add_worksheet(name)
        self.quoted = workbook.add_format({"quote_prefix": True})
        self.formats = [
            workbook.add_format({"num_format": _number_format(c)}) if c.kind in TYPED else None
            for c in columns
        ]
        header = workbook.add_format({"bold": True})
        header_quoted = workbook.add_format({"bold": True, "quote_prefix": True})
        for index, column in enumerate(columns):
            self.sheet.set_column(index, index, _width(column))
            label_format = header_quoted if is_formula_like(column.label) else header
            self.sheet.write_string(0, index, column.label, label_format)
        self.sheet.freeze_panes(1, 0)

    def write_row(self, row: int, record: Any) -> None:
        for index, column in enumerate(self.columns):
            value = column.read(record)
            if value is not None:
                self.write_cell(row, index, column, value)

    def write_cell(self, row: int, index: int, column: Column, value: Any) -> None:
        kind = column.kind
        if kind == NUMBER:
            number = _spreadsheet_number(value)
            if number is not None:
                self.sheet.write_number(row, index, number, self.formats[index])
                return
        elif kind in (DATE, DATETIME):
            day = timezone.localtime(value).replace(tzinfo=None) if kind == DATETIME else value
            if day.year >= 1900:  # earlier dates are before the spreadsheet epoch: text
                self.sheet.write_datetime(row, index, day, self.formats[index])
                return
        text = column.show(value)
        if not text:
            return
        if kind == TEXT and is_formula_like(text):
            self.sheet.write_string(row, index, text, self.quoted)
        else:
            self.sheet.write_string(row, index, text)

    def finish(self, last_row: int) -> None:
        self.sheet.autofilter(0, 0, last_row, len(self.columns) - 1)


def _spreadsheet_number(value: Any) -> int | float | None:
    """The value as a spreadsheet number, or ``None`` when it has more digits than one keeps
    (an 18-digit number would come back changed; it is written as text instead)."""
    number = value if isinstance(value, Decimal) else Decimal(value)
    if len(number.normalize().as_tuple().digits) > XLSX_MAX_DIGITS:
        return None
    if isinstance(value, int):
        return value
    return float(number)


def _number_format(column: Column) -> str:
    """The Excel number format of a column: grouped thousands, its places, its unit."""
    if column.kind == DATE:
        return XLSX_DATE_FORMAT
    if column.kind == DATETIME:
        return XLSX_DATETIME_FORMAT
    code = "#,##0" + ("." + "0" * column.places if column.places else "")
    unit = column.unit.replace('"', "").replace("\\", "")
    return f'{code}\\ "{unit}"' if unit else code


def _width(column: Column) -> float:
    if column.kind == DATE:
        return 11
    if column.kind == DATETIME:
        return 16
    if column.kind == NUMBER:
        return max(10, min(len(column.label) + 2, 20))
    return max(12, min(len(column.label) + 2, 40))
