"""The index follows field changes: added, retyped and removed fields."""

from __future__ import annotations

import pytest

from kartoteka.core.exceptions import SchemaError
from kartoteka.records.services import update_records
from kartoteka.search.models import SearchEntry
from kartoteka.tables import services as tables
from kartoteka.tables.models import Field, Table
from tests.builders import SYSTEM, make_table
from tests.search.conftest import found


def _field(table: Table, key: str) -> Field:
    return Field.objects.select_related("table").get(table=table, key=key)


@pytest.fixture
def shops(db):
    return make_table(
        [
            {"key": "name", "label": "Название", "type": "text"},
            {"key": "city", "label": "Город", "type": "text"},
            {"key": "kind", "label": "Вид", "type": "choice", "choices": [("opt", "Оптовик")]},
            {"key": "code", "label": "Код", "type": "text"},
        ],
        [
            {"name": "Ромашка", "city": "Казань", "kind": "opt", "code": "А-1"},
            {"name": "Лютик", "city": "Тверь", "code": "Б-2"},
        ],
        key="shops",
        label="Магазины",
    )


def test_values_of_a_new_searchable_field_are_found_once_set(shops):
    # given: records exist, then a field is added
    tables.add_field(SYSTEM, shops, key="note", label="Заметка", type="text")
    shops.refresh_from_db()
    ids = list(SearchEntry.objects.filter(table=shops).values_list("record_id", flat=True))
    # when
    update_records(SYSTEM, shops, {pk: {"note": "Доставка по средам"} for pk in ids})
    # then
    assert found(shops, "средам") == ["Ромашка", "Лютик"]
    assert found(shops, "ромашка") == ["Ромашка"]


def test_retype_to_a_searchable_type_reindexes(shops):
    # given
    assert found(shops, "оптовик") == []
    # when
    tables.change_field(SYSTEM, _field(shops, "kind"), type="text")
    shops.refresh_from_db()
    # then
    assert found(shops, "оптовик") == ["Ромашка"]


def test_retype_to_an_unsearchable_type_drops_the_values(shops):
    # given
    assert found(shops, "тверь") == ["Лютик"]
    # when
    tables.change_field(SYSTEM, _field(shops, "city"), type="choice")
    shops.refresh_from_db()
    # then
    assert found(shops, "тверь") == []
    assert found(shops, "лютик") == ["Лютик"]


def test_removed_field_is_no_longer_found(shops):
    # when
    tables.remove_field(SYSTEM, _field(shops, "city"))
    shops.refresh_from_db()
    # then
    assert found(shops, "казань") == []
    assert found(shops, "ромашка") == ["Ромашка"]


def test_refused_retype_leaves_the_index_as_it_was(shops):
    # given
    before = sorted(SearchEntry.objects.filter(table=shops).values_list("record_id", "text"))
    # when: «А-1» is not a number
    with pytest.raises(SchemaError):
        tables.change_field(SYSTEM, _field(shops, "code"), type="integer")
    # then
    after = sorted(SearchEntry.objects.filter(table=shops).values_list("record_id", "text"))
    assert after == before
    shops.refresh_from_db()
    assert found(shops, "б-2") == ["Лютик"]


def test_label_change_does_not_touch_the_index(shops):
    # given
    before = list(SearchEntry.objects.filter(table=shops).values_list("id", flat=True))
    # when
    tables.change_field(SYSTEM, _field(shops, "city"), label="Населённый пункт")
    # then
    assert list(SearchEntry.objects.filter(table=shops).values_list("id", flat=True)) == before


def test_deleting_a_table_drops_its_index(shops):
    # when
    tables.delete_table(SYSTEM, shops)
    # then
    assert not SearchEntry.objects.filter(table_id=shops.pk).exists()
