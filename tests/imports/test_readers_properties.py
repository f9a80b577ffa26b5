"""Property tests: whatever bytes or CSV dialect the readers get, the only exception that
escapes is the import's own :class:`ImportFileError`."""

from __future__ import annotations

import csv
import io
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kartoteka.imports.readers import FileOptions, ImportFileError, open_table_file

ENCODINGS = ["auto", "utf-8", "cp1251", "koi8-r", "cp866", "utf-16"]
DELIMITERS = ["auto", ";", ",", "tab", "|"]
PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read_all(data: bytes, name: str, options: FileOptions) -> None:
    try:
        table_file = open_table_file(data, name, options)
        _headers, rows = table_file.header_and_rows()
        for _row in rows:
            pass
        table_file.count_rows()
    except ImportFileError as exc:
        assert exc.message  # a message for people, never empty


@PROFILE
@given(
    data=st.binary(max_size=4096),
    name=st.sampled_from(["a.csv", "a.txt", "a.xlsx", "a.xls", "a.ods", "a"]),
    encoding=st.sampled_from(ENCODINGS),
    delimiter=st.sampled_from(DELIMITERS),
    header=st.booleans(),
)
def test_random_bytes(data, name, encoding, delimiter, header):
    read_all(data, name, FileOptions(encoding, delimiter, header))


@PROFILE
@given(
    prefix=st.sampled_from(
        [b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\xef\xbb\xbf", b"\xff\xfe"]
    ),
    data=st.binary(max_size=2048),
    sheet=st.integers(min_value=0, max_value=3),
)
def test_random_bytes_behind_magic_numbers(prefix, data, sheet):
    read_all(prefix + data, "a.xlsx", FileOptions(sheet=sheet))


@PROFILE
@given(
    parts=st.dictionaries(
        st.sampled_from(
            [
                "xl/workbook.xml",
                "content.xml",
                "xl/worksheets/sheet1.xml",
                "mimetype",
                "[Content_Types].xml",
            ]
        ),
        st.binary(max_size=512),
        max_size=4,
    )
)
def test_random_zip_archives(parts):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    read_all(buffer.getvalue(), "a.xlsx", FileOptions())


@PROFILE
@given(
    rows=st.lists(st.lists(st.text(max_size=30), min_size=1, max_size=6), max_size=20),
    delimiter=st.sampled_from([";", ",", "\t", "|"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
    lineterminator=st.sampled_from(["\r\n", "\n", "\r"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1251", "utf-16"]),
    read_as=st.sampled_from(ENCODINGS),
    read_delimiter=st.sampled_from(DELIMITERS),
)
def test_random_csv_dialects(
    rows, delimiter, quoting, lineterminator, encoding, read_as, read_delimiter
):
    buffer = io.StringIO()
    csv.writer(
        buffer, delimiter=delimiter, quoting=quoting, lineterminator=lineterminator
    ).writerows(rows)
    data = buffer.getvalue().encode(encoding, errors="replace")
    read_all(data, "a.csv", FileOptions(read_as, read_delimiter))


@PROFILE
@given(
    rows=st.lists(
        st.lists(
            st.text(
                alphabet=st.characters(
                    blacklist_categories=("Cs",), blacklist_characters="\x00\r\n"
                ),
                min_size=1,
                max_size=20,
            ),
            min_size=2,
            max_size=2,
        ),
        min_size=2,
        max_size=10,
    )
)
def test_utf8_round_trip(rows):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\n").writerows(rows)
    table_file = open_table_file(
        buffer.getvalue().encode("utf-8"),
        "a.csv",
        FileOptions(encoding="utf-8", delimiter=";", header=False),
    )
    read = list(table_file.raw_rows())
    expected = [r for r in rows if not (len(r) == 1 and not r[0].strip())]
    assert read == expected
