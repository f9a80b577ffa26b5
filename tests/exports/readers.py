"""Read produced files back the way a user's spreadsheet would."""

from __future__ import annotations

import csv
import io
from typing import Any

from python_calamine import CalamineWorkbook


def read(export: Any) -> bytes:
    return b"".join(export.chunks)


def csv_rows(data: bytes, encoding: str = "cp1251", delimiter: str = ";") -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(encoding), newline=""), delimiter=delimiter))


def xlsx_rows(data: bytes) -> list[list[Any]]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
