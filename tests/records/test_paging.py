"""Keyset pages walk every row exactly once, forwards and backwards, empty values last."""

from __future__ import annotations

import pytest

from kartoteka.core.actor import Actor
from kartoteka.records.paging import keyset_page
from kartoteka.records.selectors import list_records
from kartoteka.records.services import create_records

SYSTEM = Actor.system("tests")


def _walk_all(qs, column, desc, size):
    pages, cursor, direction = [], None, "next"
    while True:
        page = keyset_page(
            qs, column=column, descending=desc, size=size, cursor=cursor, direction=direction
        )
        pages.append([r.pk for r in page.rows])
        if not page.has_next:
            return pages
        cursor = page.next_cursor


def _walk_back(qs, column, desc, size):
    pages = []
    page = keyset_page(qs, column=column, descending=desc, size=size, direction="last")
    pages.append([r.pk for r in page.rows])
    while page.has_prev:
        page = keyset_page(
            qs, column=column, descending=desc, size=size, cursor=page.prev_cursor, direction="prev"
        )
        pages.insert(0, [r.pk for r in page.rows])
    return pages


@pytest.mark.parametrize(
    "column,desc",
    [("city", False), ("city", True), ("id", False), ("id", True), ("manager_id", False)],
)
def test_pages_cover_every_row_once_in_order_both_ways(table, admin_user, column, desc):
    # given: 23 rows, duplicated values and empty ones
    cities = ["Тверь", None, "Москва", "Тверь", None, "Казань"]
    create_records(
        SYSTEM,
        table("counterparties"),
        [
            {"name": f"К{i}", "city": cities[i % 6], "manager": admin_user.pk if i % 3 else None}
            for i in range(23)
        ],
    )
    qs = list_records(SYSTEM, table("counterparties"))
    model_rows = list(qs)

    def key(r):
        return getattr(r, column)

    filled = sorted(
        [r for r in model_rows if key(r) is not None], key=lambda r: (key(r), r.pk), reverse=desc
    )
    empty = sorted([r for r in model_rows if key(r) is None], key=lambda r: r.pk, reverse=desc)
    expected = [r.pk for r in filled + empty]
    # when
    forward = _walk_all(qs, column, desc, 5)
    backward = _walk_back(qs, column, desc, 5)
    # then
    assert [pk for page in forward for pk in page] == expected
    assert [pk for page in backward for pk in page] == expected
    assert all(len(page) == 5 for page in forward[:-1])
    assert all(len(page) == 5 for page in backward[1:])
