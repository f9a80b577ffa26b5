"""Fixtures of export tests: the built-in counterparties and a user table of every kind."""

from __future__ import annotations

import pytest

from tests.builders import make_table


@pytest.fixture
def counterparties(table):
    return table("counterparties")


@pytest.fixture
def goods(counterparties):
    """A user table with a field of every kind an export treats differently."""
    return make_table(
        [
            {"key": "name", "label": "Название", "type": "text"},
            {"key": "qty", "label": "Количество", "type": "integer"},
            {"key": "price", "label": "Цена", "type": "decimal"},
            {"key": "total", "label": "Сумма", "type": "money"},
            {"key": "day", "label": "Дата", "type": "date"},
            {"key": "moment", "label": "Отгружено", "type": "datetime"},
            {"key": "flag", "label": "В наличии", "type": "boolean"},
            {
                "key": "kind",
                "label": "Вид",
                "type": "choice",
                "choices": [("retail", "Розница"), ("wholesale", "Опт")],
            },
            {
                "key": "tags",
                "label": "Метки",
                "type": "multi_choice",
                "choices": [("new", "Новинка"), ("sale", "Распродажа")],
            },
            {"key": "partner", "label": "Поставщик", "type": "link", "link_table": counterparties},
            {"key": "owner", "label": "Ответственный", "type": "user"},
            {"key": "phone", "label": "Телефон", "type": "phone"},
            {"key": "note", "label": "Заметка", "type": "long_text"},
        ],
        key="goods",
        label="Товары",
    )
