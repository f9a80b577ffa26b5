"""Fixtures of search tests: a few counterparties with every searchable kind of value."""

from __future__ import annotations

import pytest

from kartoteka.core.validators import inn_control_digits
from kartoteka.records.selectors import list_records
from kartoteka.records.services import create_records
from tests.builders import SYSTEM

INN = inn_control_digits("770123456")


@pytest.fixture
def counterparties(table):
    return table("counterparties")


@pytest.fixture
def firms(counterparties):
    """Name → record of four counterparties."""
    records = create_records(
        SYSTEM,
        counterparties,
        [
            {
                "name": "ООО «Ромашка»",
                "phone": "+7 912 345-67-89",
                "email": "Info@Romashka.ru",
                "inn": INN,
                "city": "Казань",
            },
            {"name": "ИП Королёв", "city": "Королёв", "phone": "+7 495 123-45-67"},
            {"name": "АО Королев и партнёры", "city": "Москва", "email": "office@korolev.ru"},
            {"name": "Лютик", "city": "Казань", "comment": "Звонить после обеда"},
        ],
    )
    return {str(r): r for r in records}


def found(table, text: str, **kwargs) -> list[str]:
    """Titles of the records the quick search finds, oldest first."""
    return [str(r) for r in list_records(SYSTEM, table, search=text, ordering=["id"], **kwargs)]
