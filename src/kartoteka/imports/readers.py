"""Reading import files: CSV/TXT and XLS/XLSX/ODS, as lazy rows of text cells.

:func:`open_table_file` looks at a file's bytes (never trusting its name alone), refuses what is
dangerous or broken with an :class:`ImportFileError` whose message is for people, and returns a
:class:`TableFile` whose :meth:`~TableFile.rows` yields one list of strings per row.

- **Text files** are decoded as a stream: the encoding is detected from a sample (BOM, UTF-16
  without BOM, strict UTF-8, then the Russian single-byte code page — Windows-1251, KOI8-R, CP866,
  Mac Cyrillic — whose text reads most like Russian, Windows-1251 winning a close call; text that
  reads Russian in none goes to charset-normalizer and is flagged), or taken from the caller;
  the delimiter is sniffed from the first lines among ``;`` ``,`` tab ``|``. A line or field
  longer than :data:`MAX_FIELD_CHARS` and NUL bytes are refused, so memory stays bounded.
- **Where the table begins**: the header is the first row of column names as wide as the table
  (a title, a period, an account above it are skipped), or the row the person chose.
- **Spreadsheets** are read by python-calamine (a flat-XML ``.fods`` as the ODS archive it would
  be; XLSB is refused by name). An empty chosen sheet gives way to the first sheet with data.
  An XLSX/ODS is a zip archive: its declared sizes and compression ratios are checked before
  anything is unpacked (zip bombs), and its XML parts may not declare a DTD (entity-expansion
  bombs). Cells come out as text: whole numbers without ``.0`` (an INN typed as a number stays
  an INN), dates as ISO, which the date field reads.

Every failure a file can cause is an :class:`ImportFileError`; no other exception escapes the
readers (the property tests in ``tests/imports/test_readers_properties.py`` feed them random
bytes to hold that).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import encodings.aliases
import io
import math
import mmap
import os
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import IO, Any

from django.utils.translation import gettext as _

from kartoteka.core.exceptions import KartotekaError
from kartoteka.imports import limits

#: Encodings a person may choose (value → label); ``auto`` detects.
ENCODINGS = {
    "auto": "Автоопределение",
    "utf-8": "UTF-8",
    "cp1251": "Windows-1251",
    "koi8-r": "KOI8-R",
    "cp866": "CP866 (DOS)",
    "utf-16": "UTF-16",
}
#: Delimiters a person may choose (value → character); ``auto`` sniffs.
DELIMITERS = {"auto": "", ";": ";", ",": ",", "tab": "\t", "|": "|"}
DELIMITER_NAMES = {";": ";", ",": ",", "\t": "tab", "|": "|"}

#: The longest line or field of a text file, in characters.
MAX_FIELD_CHARS = 1_000_000
#: Blank lines in a row a text file may have (each costs the reader as much as a row).
MAX_BLANK_LINES = 100_000
#: Unpacked size an XLSX/ODS may declare in all, and the ratio of one part to its packed size.
MAX_UNPACKED_BYTES = 1_500_000_000
MAX_RATIO = 200
SAMPLE_BYTES = 256 * 1024
#: A flat-XML ODS is held in memory whole to be read: at most this big.
MAX_FODS_BYTES = 256 * 2**20
#: Rows shown to pick the header row from, and searched for it.
HEAD_ROWS = 20
SNIFF_LINES = 50

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SPREADSHEET_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods", ".fods", ".xlsb")
FODS_MAGIC = b"<office:document"

_RUSSIAN_CODEPAGES = ["cp1251", "koi8_r", "cp866", "mac_cyrillic"]
_CODEC_NAMES = {
    "koi8_r": "koi8-r",
    "mac_cyrillic": "mac-cyrillic",
    "windows-1251": "cp1251",
    "ibm866": "cp866",
}


class ImportFileError(KartotekaError):
    """The file cannot be read as a table; ``message`` says why, for people."""

    code = "import_file"


@dataclass(frozen=True)
class FileOptions:
    """How to read a file: ``auto`` detects; ``sheet`` is the 0-based sheet of a spreadsheet."""

    encoding: str = "auto"
    delimiter: str = "auto"
    header: bool = True
    sheet: int = 0
    #: The 1-based row (among the file's non-empty rows) holding the column names; 0 detects it
    #: (the first row as wide as the table, after a title or a preamble).
    header_row: int = 0


@dataclass
class TableFile:
    """An opened import file. ``rows()`` may be called more than once (preview, then import)."""

    kind: str  # "csv" | "xlsx" | "xls" | "ods"
    options: FileOptions
    encoding: str = ""
    delimiter: str = ""
    sheets: list[str] = field(default_factory=list)
    #: Rows of each sheet (calamine's height, empty rows included).
    sheet_rows: list[int] = field(default_factory=list)
    #: The sheet read: the chosen one, or the first with data when the chosen one is empty.
    sheet: int = 0
    #: Said to the person about how the file is read (an empty sheet passed over, a guess).
    notes: list[str] = field(default_factory=list)
    #: The encoding was guessed without confidence (the text does not look Russian).
    encoding_doubt: bool = False
    #: The 0-based index, among the non-empty rows, of the header row (or of the first data row).
    header_index: int = 0
    _path: str = ""
    _data: bytes | None = None
    _errors: str = "strict"
    _sheet: Any = None

    def _open_binary(self) -> IO[bytes]:
        if self._data is not None:
            return io.BytesIO(self._data)
        try:
            return open(self._path, "rb")
        except OSError as exc:
            raise ImportFileError(_("Файл не открывается: %(e)s") % {"e": exc.strerror}) from exc

    def raw_rows(self) -> Iterator[list[str]]:
        """Every row of the file, the header row included."""
        if self.kind == "csv":
            yield from self._text_rows()
        else:
            yield from self._sheet_rows()

    def fitting_encodings(self) -> list[str]:
        """Every encoding that decodes the file's first bytes, the one read with first."""
        with self._open_binary() as handle:
            head = handle.read(SAMPLE_BYTES)
        return fitting_encodings(head, self.encoding)

    def head_rows(self) -> list[list[str]]:
        """The first :data:`HEAD_ROWS` non-empty rows, as they are in the file."""
        if self.kind == "csv":
            return list(islice(self._text_rows(), HEAD_ROWS))
        kept = self._load_sheet()
        try:
            return list(islice(self._sheet_rows(), HEAD_ROWS))
        finally:
            self._sheet = kept  # the rows are read again from the parsed sheet

    def header_and_rows(self) -> tuple[list[str], Iterator[list[str]]]:
        """The header (column names; ``Столбец N`` without a header row or beyond a header
        narrower than the table) and the data rows, the rows above the header left out."""
        rows = self.raw_rows()
        head = list(islice(rows, HEAD_ROWS))
        start = min(self.header_index, len(head))
        width = max((len(r) for r in head[start:]), default=0)
        names: list[str] = []
        if self.options.header and start < len(head):
            names = [c.strip() for c in head[start]]
            start += 1
        names += [_("Столбец %(n)s") % {"n": i + 1} for i in range(len(names), width)]

        def chained() -> Iterator[list[str]]:
            yield from head[start:]
            yield from rows

        return names, chained()

    def count_rows(self) -> int:
        """The number of data rows (a fast pass: lines of a text file, the sheet's height)."""
        if self.kind == "csv":
            if self.encoding.startswith("utf-16"):
                rows = sum(1 for _row in self._text_rows())
                return max(0, rows - int(self.options.header) - self.header_index)
            total = 0
            with self._open_binary() as handle:
                last = b""
                while chunk := handle.read(1 << 20):
                    # a line ends in LF, CRLF or — old Mac files — a lone CR
                    total += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
                    if last.endswith(b"\r") and chunk.startswith(b"\n"):
                        total -= 1
                    last = chunk
                if last and not last.endswith((b"\n", b"\r")):
                    total += 1
            return max(0, total - int(self.options.header) - self.header_index)
        height = int(self._load_sheet().height)
        return max(0, height - int(self.options.header) - self.header_index)

    # -- text ------------------------------------------------------------------------------------
    def _text_rows(self) -> Iterator[list[str]]:
        csv.field_size_limit(MAX_FIELD_CHARS)
        handle = self._open_binary()
        try:
            text = io.TextIOWrapper(handle, encoding=self.encoding, errors=self._errors, newline="")
            reader = csv.reader(_bounded_lines(text), delimiter=self.delimiter, strict=False)
            line = blank = 0
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise ImportFileError(
                        _("Строка %(n)s файла не читается как CSV: %(e)s")
                        % {"n": reader.line_num, "e": exc}
                    ) from exc
                except UnicodeError as exc:
                    raise ImportFileError(
                        _(
                            "После строки %(n)s файл не читается в кодировке %(enc)s — выберите "
                            "другую кодировку."
                        )
                        % {"n": line, "enc": ENCODINGS.get(self.encoding, self.encoding)}
                    ) from exc
                if not row or not any(cell.strip() for cell in row):
                    blank += reader.line_num - line
                    line = reader.line_num
                    if blank > MAX_BLANK_LINES:
                        raise ImportFileError(
                            _(
                                "В файле больше %(limit)s пустых строк подряд (после строки "
                                "%(n)s) — удалите их и загрузите файл снова."
                            )
                            % {"limit": _grouped(MAX_BLANK_LINES), "n": line - blank}
                        )
                    continue
                line = reader.line_num
                blank = 0
                if len(row) > limits.MAX_COLUMNS:
                    raise ImportFileError(
                        _(
                            "В строке %(n)s файла %(count)s столбцов — импортировать можно не "
                            "больше %(limit)s. Проверьте разделитель или удалите лишние столбцы."
                        )
                        % {"n": line, "count": _grouped(len(row)), "limit": limits.MAX_COLUMNS}
                    )
                yield row
        finally:
            handle.close()

    # -- spreadsheets ----------------------------------------------------------------------------
    def _load_sheet(self) -> Any:
        """The chosen sheet, parsed by calamine (which parses a whole sheet at once); kept
        until its rows are read, so counting the rows for progress costs no second parse."""
        if self._sheet is not None:
            return self._sheet
        import python_calamine as calamine

        handle = self._open_binary()
        try:
            book = calamine.CalamineWorkbook.from_filelike(handle)
            self._sheet = book.get_sheet_by_index(self.sheet)
        except IndexError as exc:
            raise ImportFileError(_("В файле нет листа №%(n)s.") % {"n": self.sheet + 1}) from exc
        except Exception as exc:  # calamine raises several types for broken files
            raise _broken(self.kind, exc) from exc
        finally:
            handle.close()
        return self._sheet

    def _sheet_rows(self) -> Iterator[list[str]]:
        sheet = self._load_sheet()
        self._sheet = None
        try:
            rows = sheet.iter_rows()
        except Exception as exc:
            raise _broken(self.kind, exc) from exc
        while True:
            try:
                cells = next(rows)
            except StopIteration:
                return
            except Exception as exc:
                raise _broken(self.kind, exc) from exc
            row = [_cell_text(c) for c in cells]
            while row and row[-1] == "":
                row.pop()
            if row:
                yield row


def protected() -> ImportFileError:
    """A workbook encrypted with a password (calamine cannot read it, nor can anyone else)."""
    return ImportFileError(_("Файл защищён паролем — снимите защиту и загрузите снова."))


def _grouped(n: int) -> str:
    return f"{n:,}".replace(",", "\u00a0")


def _broken(kind: str, exc: Exception) -> ImportFileError:
    text = str(exc).lower()
    if "password" in text or "encrypt" in text:
        return protected()
    return ImportFileError(
        _("Файл %(kind)s повреждён или не является таблицей %(kind)s.") % {"kind": kind.upper()}
    )


def _bounded_lines(text: io.TextIOWrapper) -> Iterator[str]:
    """Lines of the text, refusing one longer than :data:`MAX_FIELD_CHARS` and NUL characters
    before the csv module sees them (it would otherwise hold any length in memory)."""
    number = 0
    while True:
        line = text.readline(MAX_FIELD_CHARS + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_FIELD_CHARS:
            raise ImportFileError(
                _("Строка %(n)s длиннее %(limit)s символов — это не таблица.")
                % {"n": number, "limit": f"{MAX_FIELD_CHARS:,}".replace(",", " ")}
            )
        if "\x00" in line:
            raise ImportFileError(
                _(
                    "Строка %(n)s содержит нулевые байты — файл двоичный или в другой "
                    "кодировке (например, UTF-16)."
                )
                % {"n": number}
            )
        yield line


def _cell_text(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value).strip()


# -- opening ------------------------------------------------------------------------------------


def open_table_file(
    source: str | bytes, name: str = "", options: FileOptions | None = None, *, lenient=False
) -> TableFile:
    """Open ``source`` (a path or the file's bytes) for reading as a table.

    ``lenient`` decodes text with replacement characters instead of refusing bytes the encoding
    cannot read — what a preview wants (garbled text tells the person to change the encoding).
    """
    options = options or FileOptions()
    data = source if isinstance(source, bytes) else None
    path = "" if isinstance(source, bytes) else source
    head = _read_head(source)
    if not head:
        raise ImportFileError(_("Файл пуст."))
    lower = (name or path).lower()
    if _is_flat_ods(head):
        # calamine reads an ODS archive; a flat ODS is that archive's content.xml alone
        data = _flat_ods_archive(source)
        source, path = data, ""
        kind = _check_zip(data)
    elif head.startswith(ZIP_MAGIC):
        kind = _checked(source, lambda: _check_zip(source))
    elif head.startswith(OLE_MAGIC):
        kind = _checked(source, lambda: _check_ole(head, source))
    elif lower.endswith(SPREADSHEET_EXTENSIONS):
        raise ImportFileError(
            _("Файл «%(name)s» назван как таблица Excel/ODS, но внутри не таблица.")
            % {"name": name or path}
        )
    else:
        kind = "csv"
    table_file = TableFile(kind=kind, options=options, _path=path, _data=data)
    if kind == "csv":
        table_file.encoding, table_file.encoding_doubt = _choose_encoding(head, options.encoding)
        table_file._errors = "replace" if lenient else "strict"
        _check_text(head, table_file.encoding)
        table_file.delimiter = _choose_delimiter(head, table_file.encoding, options.delimiter)
        if table_file.encoding_doubt:
            table_file.notes.append(
                _(
                    "Текст не похож на русский ни в одной из русских кодировок; файл прочитан "
                    "как %(enc)s. Проверьте буквы и при необходимости выберите кодировку."
                )
                % {"enc": ENCODINGS.get(table_file.encoding, table_file.encoding)}
            )
    else:
        _choose_sheet(table_file)
    table_file.header_index = _header_index(table_file)
    return table_file


def _is_flat_ods(head: bytes) -> bool:
    start = head[:4096].lstrip(codecs.BOM_UTF8 + b" \t\r\n")
    return start.startswith(b"<?xml") and FODS_MAGIC in start and b"opendocument" in start


def _flat_ods_archive(source: str | bytes) -> bytes:
    """A flat-XML ODS (``.fods``) as the ODS archive calamine reads: its XML is the content."""
    if isinstance(source, bytes):
        content = source
    else:
        try:
            with open(source, "rb") as handle:
                content = handle.read(MAX_FODS_BYTES + 1)
        except OSError as exc:
            raise ImportFileError(_("Файл не открывается: %(e)s") % {"e": exc.strerror}) from exc
    if len(content) > MAX_FODS_BYTES:
        raise ImportFileError(
            _("Файл FODS (ODS в одном XML) больше %(mb)s МБ — сохраните его как ODS, XLSX или CSV.")
            % {"mb": MAX_FODS_BYTES // 2**20}
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", _FODS_MANIFEST)
    return buffer.getvalue()


_FODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
    '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry '
    'manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def _choose_sheet(table_file: TableFile) -> None:
    """The sheets with their heights; an empty chosen sheet gives way to the first with data."""
    import python_calamine as calamine

    chosen = table_file.options.sheet
    handle = table_file._open_binary()
    try:
        book = calamine.CalamineWorkbook.from_filelike(handle)
        table_file.sheets = list(book.sheet_names)
        if not 0 <= chosen < len(table_file.sheets):
            raise ImportFileError(_("В файле нет листа №%(n)s.") % {"n": chosen + 1})
        parsed: dict[int, Any] = {}
        for index in range(len(table_file.sheets)):
            sheet = book.get_sheet_by_index(index)
            table_file.sheet_rows.append(int(sheet.height))
            first_filled = sheet.height and not any(table_file.sheet_rows[:index])
            if index == chosen or first_filled:
                parsed[index] = sheet  # the sheet to read is kept: it is not parsed again
    except ImportFileError:
        raise
    except Exception as exc:
        raise _broken(table_file.kind, exc) from exc
    finally:
        handle.close()
    table_file.sheet = chosen
    table_file._sheet = parsed.get(chosen)
    if table_file.sheet_rows[chosen] == 0:
        filled = next((i for i, n in enumerate(table_file.sheet_rows) if n), None)
        if filled is None:
            table_file.notes.append(_("Все листы файла пусты."))
        else:
            table_file.sheet = filled
            table_file._sheet = parsed.get(filled)
            table_file.notes.append(
                _("Лист «%(empty)s» пуст — читается лист «%(sheet)s».")
                % {"empty": table_file.sheets[chosen], "sheet": table_file.sheets[filled]}
            )


def _header_index(table_file: TableFile) -> int:
    """Where the table begins: the chosen header row, else (with a header) the first of the
    first rows that is as wide as the table — a title, a period, an account above it are not."""
    options = table_file.options
    if options.header_row > 0:
        return options.header_row - 1
    if not options.header:
        return 0
    try:
        head = table_file.head_rows()
    except ImportFileError:
        return 0  # the import itself says why it cannot read the file
    return detect_header_row(head)


def detect_header_row(rows: list[list[str]]) -> int:
    """The 0-based index of the header row among ``rows`` (0 when nothing stands out): the
    first row of column names — two or more cells, none a number or a date, and not a «label:
    value» pair. A title («ПРАЙС-ЛИСТ»), a period, «Счёт: 4070…» or «Организация: ООО …» above
    the table are not; a header may be narrower than its data."""
    for index, row in enumerate(rows):
        cells = [c.strip() for c in row if c.strip()]
        if len(cells) < 2 or any(_looks_like_value(c) for c in cells):
            continue
        if len(cells) == 2 and cells[0].endswith(":"):
            continue
        return index
    return 0


def _looks_like_value(text: str) -> bool:
    """A number, a date or an amount — what a data cell holds and a column name does not."""
    return all(ch.isdigit() or ch in " .,:-+/()%₽$€\u00a0" for ch in text)


#: Spreadsheets this process has checked already: (path, size, mtime) → kind. The wizard opens
#: its upload on every step; the checks of :mod:`~kartoteka.imports.limits` read the whole file.
_CHECKED: OrderedDict[tuple[str, int, int], str] = OrderedDict()
CHECKED_KEPT = 32


def _checked(source: str | bytes, check: Callable[[], str]) -> str:
    if isinstance(source, bytes):
        return check()
    try:
        stat = os.stat(source)
    except OSError as exc:
        raise ImportFileError(_("Файл не открывается: %(e)s") % {"e": exc.strerror}) from exc
    key = (os.path.realpath(source), stat.st_size, stat.st_mtime_ns)
    kind = _CHECKED.get(key)
    if kind is None:
        kind = check()
        _CHECKED[key] = kind
        while len(_CHECKED) > CHECKED_KEPT:
            _CHECKED.popitem(last=False)
    return kind


def _read_head(source: str | bytes) -> bytes:
    if isinstance(source, bytes):
        return source[:SAMPLE_BYTES]
    try:
        with open(source, "rb") as handle:
            return handle.read(SAMPLE_BYTES)
    except OSError as exc:
        raise ImportFileError(_("Файл не открывается: %(e)s") % {"e": exc.strerror}) from exc


def _check_zip(source: str | bytes) -> str:
    """XLSX or ODS, after checking the archive's declared sizes and its XML parts."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ImportFileError(_("Архив файла повреждён — это не таблица XLSX или ODS.")) from exc
    with archive:
        try:
            infos = archive.infolist()
            names = {i.filename for i in infos}
            if "xl/workbook.xml" in names:
                kind = "xlsx"
            elif "xl/workbook.bin" in names:
                raise ImportFileError(
                    _(
                        "Формат XLSB (двоичная книга Excel) не поддерживается — сохраните файл "
                        "в Excel как XLSX или CSV."
                    )
                )
            elif "content.xml" in names:
                kind = "ods"
            else:
                raise ImportFileError(
                    _("Файл — zip-архив, но не таблица XLSX или ODS (нет листов внутри).")
                )
            check_archive_parts(archive)
            if kind == "ods" and "META-INF/manifest.xml" in names:
                with archive.open("META-INF/manifest.xml") as part:
                    if b"encryption-data" in part.read(MAX_FIELD_CHARS):
                        raise protected()
            # What calamine would hold, before it holds it (dimensions, repeated rows …).
            if kind == "xlsx":
                limits.check_xlsx(archive)
            else:
                limits.check_ods(archive)
        except ImportFileError:
            raise
        except Exception as exc:  # broken archives raise many kinds of errors
            raise ImportFileError(
                _("Архив файла повреждён — это не таблица XLSX или ODS.")
            ) from exc
    return kind


def check_archive_parts(archive: zipfile.ZipFile) -> None:
    """Refuse an Office archive (XLSX, ODS, DOCX) that is password-protected, unpacks to far
    more than it weighs («zip-бомба») or declares XML entities («XML-бомба»), before anything
    reads it: ``ImportFileError`` says which."""
    infos = archive.infolist()
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise protected()
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if total > MAX_UNPACKED_BYTES or (ratio > MAX_RATIO and info.file_size > 10**7):
            raise ImportFileError(
                _(
                    "Файл распаковывается в %(size)s МБ — это не похоже на обычную "
                    "таблицу (возможно, «zip-бомба»); загрузка отклонена."
                )
                % {"size": max(total, info.file_size) // 2**20}
            )
    for info in infos:
        if info.filename.endswith((".xml", ".rels")):
            with archive.open(info) as part:
                start = part.read(4096)
            if b"<!DOCTYPE" in start.upper() or b"<!ENTITY" in start.upper():
                raise ImportFileError(
                    _(
                        "Файл содержит XML с объявлением сущностей (возможна "
                        "«XML-бомба»); загрузка отклонена."
                    )
                )


def _check_ole(head: bytes, source: str | bytes) -> str:
    if isinstance(source, bytes):
        _refuse_encrypted_ole(source)
        limits.check_xls(source)
    else:
        try:
            with (
                open(source, "rb") as handle,
                mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped,
            ):
                _refuse_encrypted_ole(mapped)
                limits.check_xls(mapped)
        except (OSError, ValueError) as exc:
            raise ImportFileError(_("Файл не открывается: %(e)s") % {"e": exc}) from exc
    return "xls"


# -- text detection -----------------------------------------------------------------------------


def _refuse_encrypted_ole(data: Any) -> None:
    """An encrypted XLSX/ODS is an OLE container with an ``EncryptedPackage`` stream; an
    encrypted XLS has a FILEPASS record, which calamine names in its error."""
    if data.find("EncryptedPackage".encode("utf-16-le")) >= 0:
        raise protected()


def _choose_encoding(head: bytes, wanted: str) -> tuple[str, bool]:
    """The encoding to read with, and whether it is only a guess."""
    if wanted and wanted != "auto":
        if wanted.lower().replace("_", "-") == "utf-16" and not head.startswith(
            (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        ):
            return ("utf-16-be" if detect_encoding(head) == "utf-16-be" else "utf-16-le"), False
        try:
            return codecs.lookup(wanted).name.replace("_", "-"), False
        except LookupError:
            raise ImportFileError(_("Неизвестная кодировка «%(enc)s».") % {"enc": wanted}) from None
    return _detect(head)


def detect_encoding(head: bytes) -> str:
    """The encoding of a text file from its first bytes."""
    return _detect(head)[0]


def fitting_encodings(head: bytes, detected: str) -> list[str]:
    """Every text encoding Python knows that decodes ``head``, the detected one first."""
    found = [detected]
    for name in sorted(set(encodings.aliases.aliases.values())):
        try:
            info = codecs.lookup(name)
        except LookupError:
            continue
        canonical = info.name.replace("_", "-")
        if not getattr(info, "_is_text_encoding", True) or canonical in found:
            continue
        if canonical.startswith("utf-16") and not detected.startswith("utf-16"):
            continue
        try:
            head.decode(canonical)
        except (UnicodeError, LookupError):
            continue
        except Exception:  # some codecs fail otherwise on bytes they do not expect
            continue
        found.append(canonical)
    return found


def _detect(head: bytes) -> tuple[str, bool]:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", False
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", False
    sample = head[:4096]
    if len(sample) >= 4:
        # UTF-16 without a BOM: every other byte is the high byte of a character, 0 for ASCII
        # and 4 for Cyrillic; text in any single-byte encoding never looks like that.
        high_odd, high_even = sample[1::2], sample[0::2]
        for high, low, name in (
            (high_odd, high_even, "utf-16-le"),
            (high_even, high_odd, "utf-16-be"),
        ):
            share = sum(1 for b in high if b in (0, 4)) / len(high)
            if share > 0.9 and high.count(0) > len(high) * 0.05 and low.count(0) < len(low) * 0.05:
                return name, False
    try:
        head.decode("utf-8")
        return "utf-8", False
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        if exc.start >= len(head) - 3 and len(head) >= SAMPLE_BYTES:
            try:
                head[: exc.start].decode("utf-8")
                return "utf-8", False
            except UnicodeDecodeError:
                pass
    return _single_byte(head)


def _single_byte(head: bytes) -> tuple[str, bool]:
    """A single-byte code page, judged by the language of the decoded text: each Russian code
    page is scored by how Russian its text reads (letter frequencies, words of one script, the
    case of letters inside words); Windows-1251 — what Russian offices use — wins a close call.
    Text that reads Russian in none of them goes to charset-normalizer and is flagged."""
    sample = head[:65536]
    scored = []
    for rank, name in enumerate(_RUSSIAN_CODEPAGES):
        score, vowels = russian_score(sample.decode(name, errors="replace"))
        scored.append((score + (0.15 if rank == 0 else 0.0), score, vowels, name))
    _rank, score, vowels, name = max(scored)
    if score >= 0.9 and 0.25 <= vowels <= 0.65:
        return _CODEC_NAMES.get(name, name), False
    if not any(b > 0x7F for b in sample):
        return "cp1251", False
    return _other_codepage(sample), True


def _other_codepage(sample: bytes) -> str:
    from charset_normalizer import from_bytes

    try:
        best = from_bytes(sample).best()
    except Exception:  # the detector must never stop an import
        best = None
    if best is None:
        return "cp1251"
    name = codecs.lookup(best.encoding).name
    return _CODEC_NAMES.get(name, name.replace("_", "-"))


#: Frequencies of Russian letters, per cent (a Russian text's average log-frequency is ~1.8).
_FREQUENCY = dict(
    zip(
        "оеаинтсрвлкмдпуяыьгзбчйхжшюцщэфъё",
        (
            10.97,
            8.45,
            8.01,
            7.35,
            6.70,
            6.26,
            5.47,
            4.73,
            4.54,
            4.40,
            3.49,
            3.21,
            2.98,
            2.81,
            2.62,
            2.01,
            1.90,
            1.74,
            1.70,
            1.65,
            1.59,
            1.44,
            1.21,
            0.97,
            0.94,
            0.73,
            0.64,
            0.48,
            0.36,
            0.32,
            0.26,
            0.04,
            0.04,
        ),
        strict=True,
    )
)
_LOG_FREQUENCY = {letter: math.log(f) for letter, f in _FREQUENCY.items()}
_VOWELS = frozenset("аеиоуыэюяё")
_TYPOGRAPHY = frozenset("№«»—–…’‘“”„•°±×€\u00a0")


def russian_score(text: str) -> tuple[float, float]:
    """How Russian ``text`` reads: the mean log-frequency of its Cyrillic letters less
    penalties for other non-ASCII characters, words mixing scripts and capitals inside words
    (what a wrong Cyrillic code page makes of Russian) — and the share of vowels."""
    letters = penalty = vowels = 0
    total = 0.0
    for word in text.split():
        scripts = 0
        after_lower = after_sign = False
        for ch in word:
            if ch.isascii():
                if ch.isalpha():
                    scripts |= 1
                after_lower, after_sign = ch.islower(), False
                continue
            low = ch.lower()
            if low in _LOG_FREQUENCY:
                scripts |= 2
                letters += 1
                total += _LOG_FREQUENCY[low]
                vowels += low in _VOWELS
                # a capital inside a word, or a word beginning with a sign and a small letter
                # («ванов»): what a wrong code page makes of capitals
                if (ch.isupper() and after_lower) or (ch.islower() and after_sign):
                    penalty += 3
                after_lower, after_sign = ch.islower(), False
            elif ch in _TYPOGRAPHY:
                after_lower, after_sign = False, True
            else:
                penalty += 3
                scripts |= 4
        if scripts not in (0, 1, 2, 4):
            penalty += 5
    counted = letters + penalty // 3
    if not counted:
        return 0.0, 0.0
    return (total - penalty) / counted, vowels / max(letters, 1)


def _check_text(head: bytes, encoding: str) -> None:
    if not encoding.startswith("utf-16") and b"\x00" in head:
        raise ImportFileError(
            _(
                "Файл содержит нулевые байты — это не текстовый файл CSV (возможно, двоичный "
                "файл с другим расширением)."
            )
        )


def _choose_delimiter(head: bytes, encoding: str, wanted: str) -> str:
    if wanted and wanted != "auto":
        if wanted in DELIMITERS:
            return DELIMITERS[wanted]
        if wanted in DELIMITERS.values():
            return wanted
        raise ImportFileError(
            _("Разделитель «%(d)s» не поддерживается; допустимы: ; , tab |") % {"d": wanted}
        )
    text = head.decode(encoding, errors="replace")
    return sniff_delimiter(text)


def sniff_delimiter(text: str) -> str:
    """The delimiter among ``;`` ``,`` tab ``|`` that splits the first lines most consistently."""
    lines = text.splitlines()[:SNIFF_LINES]
    if len(lines) > 1 and len(text) >= SAMPLE_BYTES - 4:
        lines = lines[:-1]  # the sample may end in the middle of a line
    best, best_score = ";", 0.0
    for candidate in (";", ",", "\t", "|"):
        try:
            counts = [len(r) for r in csv.reader(lines, delimiter=candidate) if r]
        except csv.Error:
            continue
        if not counts or max(counts) < 2:
            continue
        common = max(set(counts), key=counts.count)
        if common < 2:
            continue
        score = counts.count(common) / len(counts) * 10 + min(common, 50) / 50
        if score > best_score:
            best, best_score = candidate, score
    return best
