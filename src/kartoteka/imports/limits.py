"""What a spreadsheet will cost to parse, found out before python-calamine parses it.

calamine parses a whole sheet at once into a dense grid: a sheet whose cells reference A1 and
XFD1048576 makes it allocate 17 billion cells (it aborts the process), a shared string is copied
into every cell that uses it, and an ODS row «repeated» a million times is a million rows. None of
that shows in the file's size. So before calamine sees a file, :func:`check_xlsx`,
:func:`check_ods` and :func:`check_xls` stream its sheets — the zip members decompressed in
chunks of :data:`CHUNK` bytes and scanned with regular expressions, never parsed whole; the
BIFF records of an old XLS walked one by one — and add up what calamine will hold:

- the grid: rows × columns from the first to the last cell with a value (and the sheet's declared
  ``<dimension>``), :data:`GRID_CELL_BYTES` a cell;
- the cells read before the grid is built: :data:`CELL_BYTES` each;
- the text: every string cell's own copy (a shared string's length per use), plus the shared
  strings table itself.

A sheet whose estimate passes :func:`budget` (``KARTOTEKA_IMPORT_SHEET_MB``, default 256 MB), or
that has more than :data:`MAX_ROWS` rows or :data:`MAX_COLUMNS` columns, is refused with an
:class:`~kartoteka.imports.readers.ImportFileError` as soon as the scan sees it — memory stays
at one chunk and the scan's small counters, and the time at one pass over the bytes up to that
point. The constants are calibrated on calamine 0.9 (a 1,000,000-cell sheet of numbers and short
strings: 80 MB measured, 98 MB estimated); they err on the generous side of the estimate.
"""

from __future__ import annotations

import re
import struct
import zipfile
from array import array
from collections.abc import Iterator
from typing import IO, Any

from django.conf import settings as conf
from django.utils.translation import gettext as _

#: Bytes of a decompressed part scanned at a time.
CHUNK = 1 << 20
#: The most rows and columns a sheet of an import may have (Excel's own row limit).
MAX_ROWS = 1_048_576
MAX_COLUMNS = 1000
#: Bytes calamine holds per cell of the dense grid, per cell read, per string copy.
GRID_CELL_BYTES = 32
CELL_BYTES = 48
STRING_BYTES = 40
#: The longest element the scanner carries from one chunk to the next (Excel's cell holds at
#: most 32,767 characters; ten times that in XML is more than any real cell).
MAX_ELEMENT = 4 << 20


def budget() -> int:
    """Bytes a sheet's parse may take (``KARTOTEKA_IMPORT_SHEET_MB``, default 256)."""
    return int(getattr(conf, "KARTOTEKA_IMPORT_SHEET_MB", 256)) * 2**20


def _refuse_size(estimate: int) -> Exception:
    from kartoteka.imports.readers import ImportFileError

    return ImportFileError(
        _(
            "Лист слишком велик для импорта из таблицы: для чтения нужно около %(need)s МБ "
            "памяти, а допустимо %(limit)s МБ. Сохраните лист как CSV (CSV читается по строкам "
            "и может быть любого размера) или разделите файл."
        )
        % {"need": max(estimate // 2**20, 1), "limit": budget() // 2**20}
    )


def _refuse_shape(rows: int, columns: int) -> Exception:
    from kartoteka.imports.readers import ImportFileError

    if columns > MAX_COLUMNS:
        return ImportFileError(
            _(
                "В листе %(n)s столбцов (ячейка со значением в столбце №%(n)s) — импортировать "
                "можно не больше %(limit)s. Удалите лишние столбцы."
            )
            % {"n": columns, "limit": MAX_COLUMNS}
        )
    return ImportFileError(
        _("В листе %(n)s строк — импортировать можно не больше %(limit)s.")
        % {"n": rows, "limit": MAX_ROWS}
    )


def _refuse_broken() -> Exception:
    from kartoteka.imports.readers import ImportFileError

    return ImportFileError(_("Файл повреждён или не является таблицей — загрузка отклонена."))


class _Tally:
    """The running estimate of one sheet: its extent, cells and text."""

    def __init__(self) -> None:
        self.min_row = self.min_col = 1 << 62
        self.max_row = self.max_col = 0
        self.cells = 0
        self.text = 0

    def extent(self, first_row: int, last_row: int, first_col: int, last_col: int) -> None:
        self.min_row = min(self.min_row, first_row)
        self.max_row = max(self.max_row, last_row)
        self.min_col = min(self.min_col, first_col)
        self.max_col = max(self.max_col, last_col)

    def check(self, extra: int = 0) -> None:
        rows = self.max_row - self.min_row + 1 if self.max_row else 0
        columns = self.max_col - self.min_col + 1 if self.max_col else 0
        if rows > MAX_ROWS or self.max_col > MAX_COLUMNS:
            raise _refuse_shape(rows, self.max_col)
        estimate = rows * columns * GRID_CELL_BYTES + self.cells * CELL_BYTES + self.text + extra
        if estimate > budget():
            raise _refuse_size(estimate)


def _chunks(part: IO[bytes]) -> Iterator[bytes]:
    while chunk := part.read(CHUNK):
        yield chunk


def _last_close(data: bytes, name: bytes) -> int:
    """Where the last closing tag ``</name>`` (``</prefix:name>``) of ``data`` ends, or -1."""
    needle = name + b">"
    end = len(data)
    while True:
        i = data.rfind(needle, 0, end)
        if i < 0:
            return -1
        j = data.rfind(b"<", 0, i)
        if j >= 0 and data[j + 1 : j + 2] == b"/" and _PREFIX.fullmatch(data, j + 2, i):
            return i + len(needle)
        end = i


_PREFIX = re.compile(rb"(?:[\w.-]+:)?")


def _elements(part: IO[bytes], name: bytes) -> Iterator[bytes]:
    """The part's bytes in pieces that each end just after a closing tag ``</name>``, so no
    element the scanner looks for is cut in two; a piece is never longer than a chunk plus
    :data:`MAX_ELEMENT`."""
    rest = b""
    for chunk in _chunks(part):
        data = rest + chunk
        cut = _last_close(data, name)
        if cut < 0:
            if len(data) > MAX_ELEMENT:
                raise _refuse_broken()
            rest = data
            continue
        yield data[:cut]
        rest = data[cut:]
    if rest:
        yield rest


# -- XLSX ---------------------------------------------------------------------------------------

_SI = re.compile(rb"<(?:\w+:)?si\b(?:[^>]*/>|.*?</(?:\w+:)?si>)", re.S)
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*\bref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
#: A row, or a cell with content (``<c …/>`` is an empty styled cell, which calamine skips).
_ROW_OR_CELL = re.compile(
    rb"<(?:\w+:)?row\b([^>]*)>|<(?:\w+:)?c\b([^>]*?)(?<!/)>(.*?)</(?:\w+:)?c>", re.S
)
_REF = re.compile(rb'\br="([A-Z]{1,4})(\d{1,9})"')
_SHARED = re.compile(rb'\bt="s"')
_VALUE = re.compile(rb"<(?:\w+:)?v>\s*(\d+)\s*<")
_EMPTY = re.compile(rb"\s*(?:<(?:\w+:)?f\b[^>]*/>)?\s*")


def _column(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def check_xlsx(archive: zipfile.ZipFile) -> None:
    """Refuse an XLSX whose shared strings or any worksheet would not fit :func:`budget`."""
    names = archive.namelist()
    lengths = array("I")
    shared = next((n for n in names if n.lower() == "xl/sharedstrings.xml"), None)
    table_bytes = 0
    if shared is not None:
        with archive.open(shared) as part:
            for piece in _elements(part, b"si"):
                for match in _SI.findall(piece):
                    lengths.append(len(match))
                    table_bytes += len(match) + STRING_BYTES
                if table_bytes > budget():
                    raise _refuse_size(table_bytes)
    for name in names:
        low = name.lower()
        if low.startswith("xl/worksheets/") and low.endswith(".xml"):
            with archive.open(name) as part:
                _check_worksheet(part, lengths, table_bytes)


def _check_worksheet(part: IO[bytes], lengths: array, table_bytes: int) -> None:
    tally = _Tally()
    count = len(lengths)
    row = column = 0  # where a cell written without a reference goes, as calamine counts
    first = True
    for piece in _elements(part, b"row"):
        if first:
            first = False
            declared = _DIMENSION.search(piece)
            if declared:
                a_col, a_row, b_col, b_row = declared.groups()
                b_col, b_row = b_col or a_col, b_row or a_row
                rows = int(b_row) - int(a_row) + 1
                columns = _column(b_col) - _column(a_col) + 1
                if rows > MAX_ROWS or _column(b_col) > MAX_COLUMNS:
                    raise _refuse_shape(rows, _column(b_col))
                if rows * columns * GRID_CELL_BYTES > budget():
                    raise _refuse_size(rows * columns * GRID_CELL_BYTES)
        if _fast(piece, tally, lengths):
            tally.check(table_bytes)
            continue
        for row_attributes, attributes, content in _ROW_OR_CELL.findall(piece):
            if not attributes and not content:  # a row
                number = _ROW_NUMBER.search(row_attributes)
                row = int(number[1]) if number else row + 1
                column = 0
                continue
            ref = _REF.search(attributes)
            if ref is not None:
                row, column = int(ref[2]), _column(ref[1])
            else:
                row, column = max(row, 1), column + 1
            if _EMPTY.fullmatch(content):
                continue
            tally.cells += 1
            tally.extent(row, row, column, column)
            if _SHARED.search(attributes):
                value = _VALUE.search(content)
                index = int(value[1]) if value else -1
                tally.text += (lengths[index] if 0 <= index < count else 0) + STRING_BYTES
            else:
                tally.text += len(content) + STRING_BYTES
        tally.check(table_bytes)
    tally.check(table_bytes)


_ROW_NUMBER = re.compile(rb'\br="(\d{1,9})"')
#: What Excel and every library write: ``<c r="B7" …>`` with no namespace prefix, the reference
#: first. A cell with content (not ``<c …/>``) with its reference; an empty one; a shared
#: string's index; the text of a value or an inline string.
_CELL_REF = re.compile(rb'<c r="([A-Z]{1,4})(\d{1,9})"[^>]*(?<!/)>')
_CELL_EMPTY = re.compile(rb"<c [^>]*/>")
_SHARED_VALUE = re.compile(rb't="s"[^>]*><v>(\d+)<')
_TEXT = re.compile(rb"<[vt](?: [^>]*)?>([^<]*)<")


def _fast(piece: bytes, tally: _Tally, lengths: array) -> bool:
    """Count a piece written the usual way (see :data:`_CELL_REF`) with no Python step per
    cell; ``False`` for any other (then the caller walks the piece cell by cell). Every value
    and inline string counts as text — a little more than calamine holds."""
    tags = piece.count(b"<c ") + piece.count(b"<c>")
    refs = _CELL_REF.findall(piece)
    if len(refs) != tags - len(_CELL_EMPTY.findall(piece)):
        return False
    if not refs:
        return b":c " not in piece and b":c>" not in piece
    tally.cells += len(refs)
    numbers = list(map(int, [digits for _letters, digits in refs]))
    columns = [_column(letters) for letters in {letters for letters, _digits in refs}]
    tally.extent(min(numbers), max(numbers), min(columns), max(columns))
    count = len(lengths)
    shared = [int(i) for i in _SHARED_VALUE.findall(piece)]
    tally.text += sum(lengths[i] for i in shared if i < count) + STRING_BYTES * len(shared)
    texts = _TEXT.findall(piece)
    tally.text += sum(map(len, texts)) + STRING_BYTES * max(len(texts) - len(shared), 0)
    return True


# -- ODS ----------------------------------------------------------------------------------------

_ODS_TOKEN = re.compile(
    rb"<table:table(?=[\s>])[^>]*>"
    rb"|<table:table-row\b([^>]*?)/?>"
    rb"|<table:(?:covered-)?table-cell\b([^>]*?)(/?)>(?:(.*?)</table:(?:covered-)?table-cell>)?",
    re.S,
)
_ROWS_REPEATED = re.compile(rb'table:number-rows-repeated="(\d+)"')
_COLUMNS_REPEATED = re.compile(rb'table:number-columns-repeated="(\d+)"')
_VALUE_TYPE = re.compile(rb"office:value-type=")


def check_ods(archive: zipfile.ZipFile) -> None:
    """Refuse an ODS whose sheets, with their repeated rows and columns expanded as calamine
    expands them, would not fit :func:`budget`. Empty repeated cells (the trailing rows and
    columns every LibreOffice file declares) cost nothing: calamine skips them."""
    if "content.xml" not in archive.namelist():
        return
    tally = _Tally()
    row = column = 0
    repeat_rows = 1
    with archive.open("content.xml") as part:
        for piece in _elements(part, b"table-row"):
            for match in _ODS_TOKEN.finditer(piece):
                row_attributes, attributes, _closed, content = match.groups()
                if row_attributes is None and attributes is None:  # a new sheet
                    tally.check()
                    tally = _Tally()
                    row = column = 0
                elif attributes is None:  # a row
                    repeated = _ROWS_REPEATED.search(row_attributes)
                    repeat_rows = int(repeated[1]) if repeated else 1
                    row += repeat_rows
                    column = 0
                else:  # a cell
                    repeated = _COLUMNS_REPEATED.search(attributes)
                    repeat = int(repeated[1]) if repeated else 1
                    first = column + 1
                    column += repeat
                    if not _VALUE_TYPE.search(attributes):
                        continue  # an empty cell (``<… office:value-type=…/>`` has a value)
                    tally.extent(row - repeat_rows + 1, row, first, column)
                    tally.cells += repeat * repeat_rows
                    tally.text += (len(content or b"") + STRING_BYTES) * repeat * repeat_rows
                    if tally.cells > MAX_ROWS * MAX_COLUMNS:
                        tally.check()
            tally.check()
    tally.check()


# -- XLS (BIFF8 in an OLE compound file) ----------------------------------------------------------

_END = 0xFFFFFFFE
#: BIFF cell records (formula, label-SST, number, RK, blank, label, bool/error, rich string):
#: row and column are their first two 16-bit fields.
_CELL_RECORDS = {0x0006, 0x00FD, 0x0203, 0x027E, 0x0201, 0x0204, 0x0205, 0x00D6}
_STRING_RECORDS = {0x00FD, 0x0204, 0x00D6}
#: The record that says the workbook is encrypted with a password.
_FILEPASS = 0x002F
_MULRK, _MULBLANK, _DIMENSIONS, _SST, _CONTINUE, _BOF = (
    0x00BD,
    0x00BE,
    0x0200,
    0x00FC,
    0x003C,
    0x0809,
)
#: The Workbook stream of an XLS may be at most this big (bigger than any real one: BIFF8
#: sheets have at most 65,536 rows).
MAX_XLS_STREAM = 128 << 20


def check_xls(data: bytes | Any) -> None:
    """Refuse an XLS whose sheets would not fit :func:`budget`, or that is not a readable
    compound file: every cell record's row and column, the declared dimensions, and the shared
    strings table — its average string counted once per cell that uses one (a crafted file
    that reuses its one long string everywhere is bounded by :data:`MAX_XLS_STREAM` only)."""
    stream = _workbook_stream(data)
    tally = _Tally()
    offset, end = 0, len(stream)
    sst_bytes = sst_count = 0
    records = 0
    while offset + 4 <= end:
        kind, size = struct.unpack_from("<HH", stream, offset)
        body = offset + 4
        records += 1
        if kind == _FILEPASS:
            from kartoteka.imports.readers import protected

            raise protected()
        if kind == _BOF:
            tally.check(sst_bytes)
            tally = _Tally()
        elif kind == _SST and size >= 8:
            sst_count = max(struct.unpack_from("<I", stream, body + 4)[0], 1)
            sst_bytes = size
            scan = body + size
            while scan + 4 <= end and struct.unpack_from("<H", stream, scan)[0] == _CONTINUE:
                more = struct.unpack_from("<H", stream, scan + 2)[0]
                sst_bytes += more
                scan += 4 + more
        elif kind == _DIMENSIONS and size >= 12:
            first_row, last_row, first_col, last_col = struct.unpack_from("<IIHH", stream, body)
            if last_row > first_row and last_col > first_col:
                rows, columns = last_row - first_row, last_col - first_col
                if rows > MAX_ROWS or last_col > MAX_COLUMNS:
                    raise _refuse_shape(rows, last_col)
                if rows * columns * GRID_CELL_BYTES > budget():
                    raise _refuse_size(rows * columns * GRID_CELL_BYTES)
        elif kind in _CELL_RECORDS and size >= 4:
            r, c = struct.unpack_from("<HH", stream, body)
            tally.extent(r + 1, r + 1, c + 1, c + 1)
            tally.cells += 1
            if kind in _STRING_RECORDS:
                average = sst_bytes // sst_count if kind == 0x00FD and sst_count else size
                tally.text += STRING_BYTES + average
        elif kind in (_MULRK, _MULBLANK) and size >= 6:
            r, c = struct.unpack_from("<HH", stream, body)
            last = struct.unpack_from("<H", stream, body + size - 2)[0]
            if last >= c:
                tally.extent(r + 1, r + 1, c + 1, last + 1)
                tally.cells += last - c + 1
        offset = body + size
        if records % 4096 == 0:
            tally.check(sst_bytes)
    tally.check(sst_bytes)


def _workbook_stream(data: Any) -> bytes:
    """The «Workbook» (or «Book») stream of an OLE compound file, following its sector chain;
    a broken chain or a stream over :data:`MAX_XLS_STREAM` is refused."""
    try:
        if len(data) < 512:
            raise ValueError
        sector = 1 << struct.unpack_from("<H", data, 0x1E)[0]
        mini_sector = 1 << struct.unpack_from("<H", data, 0x20)[0]
        if sector not in (512, 4096):
            raise ValueError
        first_dir = struct.unpack_from("<I", data, 0x30)[0]
        cutoff = struct.unpack_from("<I", data, 0x38)[0]
        first_minifat, minifat_count = struct.unpack_from("<II", data, 0x3C)
        first_difat, difat_count = struct.unpack_from("<II", data, 0x44)
        fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s < _END]
        seen = 0
        while first_difat < _END and seen <= difat_count:
            seen += 1
            entries = struct.unpack_from(f"<{sector // 4}I", data, 512 + first_difat * sector)
            fat_sectors += [s for s in entries[:-1] if s < _END]
            first_difat = entries[-1]
        fat = array("I")
        for s in fat_sectors:
            start = 512 + s * sector
            fat.frombytes(data[start : start + sector])

        def chain(first: int, table: array, limit: int) -> Iterator[int]:
            current, steps = first, 0
            while current < _END:
                if current >= len(table) or steps > limit:
                    raise ValueError
                yield current
                current = table[current]
                steps += 1

        def read(first: int, size: int) -> bytes:
            if size > MAX_XLS_STREAM:
                raise OverflowError
            parts = []
            for s in chain(first, fat, size // sector + 2):
                start = 512 + s * sector
                parts.append(data[start : start + sector])
            return b"".join(parts)[:size]

        directory = b"".join(
            data[512 + s * sector : 512 + (s + 1) * sector]
            for s in chain(first_dir, fat, len(data) // sector + 2)
        )
        root_start = struct.unpack_from("<I", directory, 0x74)[0]
        root_size = struct.unpack_from("<I", directory, 0x78)[0]
        for at in range(0, len(directory) - 127, 128):
            name_size = struct.unpack_from("<H", directory, at + 0x40)[0]
            name = directory[at : at + max(name_size - 2, 0)].decode("utf-16-le", "replace")
            if name not in ("Workbook", "Book"):
                continue
            start, size = struct.unpack_from("<II", directory, at + 0x74)
            if size >= cutoff:
                return read(start, size)
            minifat = array("I", read(first_minifat, minifat_count * sector))
            mini_stream = read(root_start, root_size)
            parts = [
                mini_stream[s * mini_sector : (s + 1) * mini_sector]
                for s in chain(start, minifat, size // mini_sector + 2)
            ]
            return b"".join(parts)[:size]
    except OverflowError:
        raise _refuse_size(MAX_XLS_STREAM) from None
    except (ValueError, struct.error, IndexError, UnicodeError):
        raise _refuse_broken() from None
    raise _refuse_broken()
