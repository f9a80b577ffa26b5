"""The grid's footer totals: the page's sums come with the grid; the whole filter's sums are loaded
afterwards by HTMX (``?part=totals``), with the grid's filter and the reader's access rights."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from kartoteka.core.actor import Actor
from kartoteka.records.services import create_records

SYSTEM = Actor.system("tests")
NBSP = "\u00a0"


@pytest.fixture
def invoices(table, manager_user):
    """60 invoices of 1 ₽ to a manager's client and 5 of 100 ₽ to nobody's client."""
    mine, others = create_records(
        SYSTEM,
        table("counterparties"),
        [{"name": "Свой", "manager": manager_user.pk}, {"name": "Чужой"}],
    )
    create_records(
        SYSTEM,
        table("invoices"),
        [{"number": f"М{i}", "counterparty": mine.pk, "total": Decimal(1)} for i in range(60)]
        + [{"number": f"Ч{i}", "counterparty": others.pk, "total": Decimal(100)} for i in range(5)],
    )


def footer_totals(html: str) -> list[str]:
    row = re.search(r'<tr data-testid="filter-totals">.*?</tr>', html, re.S)
    assert row, html
    return [c.strip() for c in re.findall(r"<td[^>]*>([^<]*)</td>", row.group(0)) if c.strip()]


def test_the_grid_does_not_wait_for_the_whole_filters_totals(client, admin_user, invoices):
    client.force_login(admin_user)
    # when
    html = client.get("/t/invoices/?o=id").content.decode()
    # then: the page's sum is there, the whole filter's sum is asked for once the grid is shown
    assert f"560,00{NBSP}₽" not in html
    row = re.search(r'<tr data-testid="filter-totals" ([^>]*)>', html)
    assert row
    assert 'hx-trigger="load"' in row.group(1)
    assert "part=totals" in row.group(1) and "o=id" in row.group(1)


def test_the_totals_part_sums_the_whole_filter(client, admin_user, invoices):
    client.force_login(admin_user)
    # when
    everything = client.get("/t/invoices/?part=totals").content.decode()
    filtered = client.get("/t/invoices/?part=totals&qf_number=Ч").content.decode()
    # then: only the «Всего» row comes back
    assert f"560,00{NBSP}₽" in footer_totals(everything)
    assert f"500,00{NBSP}₽" in footer_totals(filtered)
    assert "<html" not in everything and "На странице" not in everything


def test_the_totals_part_sums_only_the_rows_the_reader_may_see(client, manager_user, invoices):
    client.force_login(manager_user)
    # when
    html = client.get("/t/invoices/?part=totals").content.decode()
    # then: the manager's own client's invoices only
    assert f"60,00{NBSP}₽" in footer_totals(html)


def test_the_totals_part_of_a_bad_filter_is_empty(client, admin_user, invoices):
    client.force_login(admin_user)
    response = client.get("/t/invoices/?part=totals&ff=nosuch&fo=eq&fv=1&fv2=")
    assert response.status_code == 200
    assert footer_totals(response.content.decode()) == []
