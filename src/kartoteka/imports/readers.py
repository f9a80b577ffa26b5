"""Reading import files: CSV/TXT and XLS/XLSX/ODS, as lazy rows of text cells.

:func:`open_table_file` looks at a file's bytes (never trusting its name alone), refuses what is
dangerous or broken with an :class:`ImportFileError` whose message is for people, and returns a
:class:`TableFile` whose :meth:`~TableFile.rows` yields one list of strings per row.

- **Text files** are decoded as a stream: the encoding is detected from a sample (BOM, UTF-16
  without BOM, strict UTF-8, then charset-normalizer limited to the Russian single-byte code pages
  Windows-1251, KOI8-R and CP866), or taken from the caller; the delimiter is sniffed from the
  first lines among ``;`` ``,`` tab ``|``. A line or field longer than :data:`MAX_FIELD_CHARS`
  and NUL bytes are refused, so memory stays bounded whatever the file holds.
- **Spreadsheets** are read by python-calamine. An XLSX/ODS is a zip archive: its declared sizes
  and compression ratios are checked before anything is unpacked (zip bombs), and its XML parts
  may not declare a DTD (entity-expansion bombs). Cells come out as text: whole numbers without
  ``.0`` (an INN typed as a number stays an INN), dates as ISO, which the date field reads.

Every failure a file can cause is an :class:`ImportFileError`; no other exception escapes the
readers (the property tests in ``tests/imports/test_readers_properties.py`` feed them random
bytes to hold that).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import mmap
import os
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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
SNIFF_LINES = 50

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SPREADSHEET_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods")

_RUSSIAN_CODEPAGES = ["cp1251", "koi8_r", "cp866"]
_CODEC_NAMES = {"koi8_r": "koi8-r", "windows-1251": "cp1251", "ibm866": "cp866"}


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


@dataclass
class TableFile:
    """An opened import file. ``rows()`` may be called more than once (preview, then import)."""

    kind: str  # "csv" | "xlsx" | "xls" | "ods"
    options: FileOptions
    encoding: str = ""
    delimiter: str = ""
    sheets: list[str] = field(default_factory=list)
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

    def header_and_rows(self) -> tuple[list[str], Iterator[list[str]]]:
        """The header (column names; ``Столбец N`` without a header row) and the data rows."""
        rows = self.raw_rows()
        if self.options.header:
            first = next(rows, None)
            if first is None:
                return [], iter(())
            return [c.strip() for c in first], rows
        rows_list: list[list[str]] = []
        first = next(rows, None)
        if first is None:
            return [], iter(())
        rows_list.append(first)
        names = [_("Столбец %(n)s") % {"n": i + 1} for i in range(len(first))]

        def chained() -> Iterator[list[str]]:
            yield from rows_list
            yield from rows

        return names, chained()

    def count_rows(self) -> int:
        """The number of data rows (a fast pass: lines of a text file, the sheet's height)."""
        if self.kind == "csv":
            if self.encoding.startswith("utf-16"):
                return max(0, sum(1 for _row in self._text_rows()) - int(self.options.header))
            total = 0
            newline = b"\n"
            with self._open_binary() as handle:
                last = b""
                while chunk := handle.read(1 << 20):
                    total += chunk.count(newline)
                    last = chunk
                if last and not last.endswith(newline):
                    total += 1
            return max(0, total - int(self.options.header))
        return max(0, int(self._load_sheet().height) - int(self.options.header))

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
            self._sheet = book.get_sheet_by_index(self.options.sheet)
        except IndexError as exc:
            raise ImportFileError(
                _("В файле нет листа №%(n)s.") % {"n": self.options.sheet + 1}
            ) from exc
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


def _grouped(n: int) -> str:
    return f"{n:,}".replace(",", "\u00a0")


def _broken(kind: str, exc: Exception) -> ImportFileError:
    text = str(exc).lower()
    if "password" in text or "encrypt" in text:
        return ImportFileError(_("Файл защищён паролем — снимите защиту и загрузите снова."))
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
    if head.startswith(ZIP_MAGIC):
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
        table_file.encoding = _choose_encoding(head, options.encoding)
        table_file._errors = "replace" if lenient else "strict"
        _check_text(head, table_file.encoding)
        table_file.delimiter = _choose_delimiter(head, table_file.encoding, options.delimiter)
    else:
        table_file.sheets = _sheet_names(table_file)
        if not 0 <= options.sheet < len(table_file.sheets):
            raise ImportFileError(_("В файле нет листа №%(n)s.") % {"n": options.sheet + 1})
    return table_file


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
            elif "content.xml" in names:
                kind = "ods"
            else:
                raise ImportFileError(
                    _("Файл — zip-архив, но не таблица XLSX или ODS (нет листов внутри).")
                )
            check_archive_parts(archive)
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
            raise ImportFileError(_("Файл защищён паролем — снимите защиту и загрузите снова."))
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
    marker = "EncryptedPackage".encode("utf-16-le")
    data = source if isinstance(source, bytes) else head
    if marker in data:
        raise ImportFileError(_("Файл защищён паролем — снимите защиту и загрузите снова."))
    if isinstance(source, bytes):
        limits.check_xls(source)
    else:
        try:
            with (
                open(source, "rb") as handle,
                mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped,
            ):
                limits.check_xls(mapped)
        except (OSError, ValueError) as exc:
            raise ImportFileError(_("Файл не открывается: %(e)s") % {"e": exc}) from exc
    return "xls"


def _sheet_names(table_file: TableFile) -> list[str]:
    import python_calamine as calamine

    handle = table_file._open_binary()
    try:
        book = calamine.CalamineWorkbook.from_filelike(handle)
        return list(book.sheet_names)
    except Exception as exc:
        raise _broken(table_file.kind, exc) from exc
    finally:
        handle.close()


# -- text detection -----------------------------------------------------------------------------


def _choose_encoding(head: bytes, wanted: str) -> str:
    if wanted and wanted != "auto":
        if wanted.lower().replace("_", "-") == "utf-16" and not head.startswith(
            (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        ):
            return "utf-16-be" if detect_encoding(head) == "utf-16-be" else "utf-16-le"
        try:
            return codecs.lookup(wanted).name.replace("_", "-")
        except LookupError:
            raise ImportFileError(_("Неизвестная кодировка «%(enc)s».") % {"enc": wanted}) from None
    return detect_encoding(head)


def detect_encoding(head: bytes) -> str:
    """The encoding of a text file from its first bytes."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
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
                return name
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        if exc.start >= len(head) - 3 and len(head) >= SAMPLE_BYTES:
            try:
                head[: exc.start].decode("utf-8")
                return "utf-8"
            except UnicodeDecodeError:
                pass
    return _russian_codepage(head)


def _russian_codepage(head: bytes) -> str:
    from charset_normalizer import from_bytes

    try:
        best = from_bytes(head[:65536], cp_isolation=_RUSSIAN_CODEPAGES).best()
    except Exception:  # the detector must never stop an import
        best = None
    if best is None:
        return "cp1251"
    name = best.encoding.lower()
    return _CODEC_NAMES.get(name, name.replace("_", "-"))


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
