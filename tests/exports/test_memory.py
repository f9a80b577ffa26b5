"""Exports run in constant memory.

20,000 records with 500-character notes hold about 70 MB as model instances. A streaming export
peaks at about two fetches of 2,000 records (the one being written and the next being read) —
near 10 MB — whether it writes 4,000 records or 20,000; reading the records with ``list()`` or
building the file in memory would make the peak grow with the number of records. The test checks
both the absolute bound and that the peak does not grow, which is what «constant» means and does
not depend on the machine.
"""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from kartoteka.exports.services import export_records
from kartoteka.records.selectors import Condition
from kartoteka.records.services import create_records
from tests.builders import SYSTEM, make_table

ROWS = 20_000
FEW = 4_000
LIMIT = 30 * 1024 * 1024
NOTE = "Заметка о поставке: " + "длинный текст " * 34  # 496 characters


@pytest.fixture
def big(admin_user):
    table = make_table(
        [
            {"key": "name", "label": "Название", "type": "text"},
            {"key": "qty", "label": "Количество", "type": "integer"},
            {"key": "total", "label": "Сумма", "type": "money"},
            {"key": "day", "label": "Дата", "type": "date"},
            {"key": "owner", "label": "Ответственный", "type": "user"},
            {"key": "note", "label": "Заметка", "type": "long_text"},
        ],
        key="big",
        label="Большая",
    )
    for start in range(0, ROWS, 2000):
        create_records(
            SYSTEM,
            table,
            [
                {
                    "name": f"Товар {i}",
                    "qty": i,
                    "total": i * 10,
                    "day": "01.02.2025",
                    "owner": admin_user.pk,
                    "note": NOTE,
                }
                for i in range(start, start + 2000)
            ],
        )
    return table


def peak_of(table, fmt, conditions=()):
    """(records written, bytes produced, peak of traced memory) of one export."""
    gc.collect()
    tracemalloc.start()
    try:
        export = export_records(SYSTEM, table, fmt=fmt, conditions=conditions)
        size = 0
        for chunk in export.chunks:
            size += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return export.rows, size, peak


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_of_many_rows_stays_in_constant_memory(big, fmt):
    # when
    few_rows, _few_size, few_peak = peak_of(big, fmt, [Condition("qty", "lt", FEW)])
    rows, size, peak = peak_of(big, fmt)
    # then
    assert (few_rows, rows) == (FEW, ROWS)
    assert peak < LIMIT
    assert peak < few_peak * 1.5  # five times the records, not more memory
    if fmt == "csv":
        assert size > 10 * 1024 * 1024
