"""Fixtures of the document tests: media storage in a temporary folder, and an invoice of
128 505,00 ₽ from the default company to «ООО «Ромашка»»."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

D = Decimal


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def deal(crm):
    from tests.crm.test_invoices import make_company, make_counterparty, make_invoice

    company = make_company(is_default=True, director="Орлов Сергей Петрович")
    counterparty = make_counterparty()
    invoice = make_invoice(
        counterparty,
        [("Лицензия", 1, "шт", D("128000.00")), ("Обучение", 1, "ч", D("505.00"))],
        company=company,
        number="2026-0042",
        date=dt.date(2026, 3, 5),
    )
    return company, counterparty, invoice


@pytest.fixture
def logged_in(client, admin_user):
    client.force_login(admin_user)
    return client
