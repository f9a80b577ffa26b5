"""Quick search in a table through the index: case, «ё», phones, e-mails, INNs, states, upkeep."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kartoteka.records.services import (
    archive_records,
    create_records,
    purge_records,
    trash_records,
    update_record,
    update_records,
)
from kartoteka.search.models import SearchEntry
from kartoteka.search.text import normalize
from tests.builders import SYSTEM, make_table
from tests.search.conftest import INN, found


@pytest.mark.parametrize("text", ["ромашк", "РОМАШК", "Ромашка", "«ромашка»", "ооо ромашка"])
def test_cyrillic_search_ignores_case(counterparties, firms, text):
    assert found(counterparties, text) == ["ООО «Ромашка»"]


@pytest.mark.parametrize("text", ["королев", "Королёв", "КОРОЛЁВ"])
def test_yo_and_ye_are_the_same_letter_both_ways(counterparties, firms, text):
    assert found(counterparties, text) == ["ИП Королёв", "АО Королев и партнёры"]


def test_yo_in_the_query_finds_ye_in_the_record_and_back(counterparties, firms):
    assert found(counterparties, "партнеры") == ["АО Королев и партнёры"]
    assert found(counterparties, "ПАРТНЁРЫ") == ["АО Королев и партнёры"]


@pytest.mark.parametrize(
    "text",
    ["8 (912) 345-67-89", "+7 912 345 67 89", "89123456789", "+79123456789", "912-345"],
)
def test_phone_in_any_written_form(counterparties, firms, text):
    assert found(counterparties, text) == ["ООО «Ромашка»"]


def test_phone_fragment_with_a_leading_eight(counterparties, firms):
    assert found(counterparties, "8912345") == ["ООО «Ромашка»"]
    assert found(counterparties, "8495") == ["ИП Королёв"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("romashka", "ООО «Ромашка»"),
        ("INFO@ROMASHKA", "ООО «Ромашка»"),
        ("@romashka.ru", "ООО «Ромашка»"),
        ("office@kor", "АО Королев и партнёры"),
    ],
)
def test_email_fragment(counterparties, firms, text, expected):
    assert found(counterparties, text) == [expected]


def test_inn_fragment(counterparties, firms):
    assert found(counterparties, INN[2:8]) == ["ООО «Ромашка»"]
    assert found(counterparties, INN) == ["ООО «Ромашка»"]


def test_every_word_must_match_in_some_field(counterparties, firms):
    assert found(counterparties, "казань") == ["ООО «Ромашка»", "Лютик"]
    assert found(counterparties, "Казань лют") == ["Лютик"]
    assert found(counterparties, "казань королев") == []
    assert found(counterparties, "обеда звонить") == ["Лютик"]


def test_words_of_one_or_two_letters_work(counterparties, firms):
    assert found(counterparties, "ип") == ["ИП Королёв"]
    assert found(counterparties, "ик") == ["Лютик"]
    assert found(counterparties, "и королев") == ["ИП Королёв", "АО Королев и партнёры"]


def test_a_number_finds_the_record_with_that_id(db):
    # given
    table = make_table([{"key": "name", "label": "Имя", "type": "text"}])
    anna, _boris = create_records(SYSTEM, table, [{"name": "Анна"}, {"name": "Борис"}])
    # then
    assert found(table, str(anna.pk)) == ["Анна"]
    assert found(table, f" {anna.pk} ") == ["Анна"]
    # in a query of several words a number is text like any other
    assert found(table, f"анна {anna.pk}") == []


def test_query_syntax_is_taken_literally(counterparties, firms):
    for text in ['"', 'ромашка"', "ром*", "NEAR(a b)", "a OR b", "100%", "_", "\\"]:
        assert found(counterparties, text) == [], text


def test_update_replaces_the_indexed_text(counterparties, firms):
    # given
    romashka = firms["ООО «Ромашка»"]
    # when
    update_record(SYSTEM, counterparties, romashka.pk, {"name": "ООО «Василёк»", "phone": ""})
    # then
    assert found(counterparties, "ромашка") == []
    assert found(counterparties, "василек") == ["ООО «Василёк»"]
    assert found(counterparties, "912 345 67 89") == []
    assert found(counterparties, "romashka.ru") == ["ООО «Василёк»"]


def test_update_of_unsearchable_fields_leaves_the_index_alone(counterparties, firms):
    # given
    romashka = firms["ООО «Ромашка»"]
    before = list(SearchEntry.objects.filter(record_id=romashka.pk).values_list("id", "text"))
    # when
    update_record(SYSTEM, counterparties, romashka.pk, {"status": "interested"})
    # then
    after = list(SearchEntry.objects.filter(record_id=romashka.pk).values_list("id", "text"))
    assert after == before


def test_purge_removes_the_records_from_the_index(counterparties, firms, admin):
    # given
    ids = [firms["ООО «Ромашка»"].pk, firms["Лютик"].pk]
    # when
    trash_records(admin, counterparties, ids)
    purge_records(admin, counterparties, ids)
    # then
    assert not SearchEntry.objects.filter(table=counterparties, record_id__in=ids).exists()
    assert found(counterparties, "казань", state=None) == []


def test_states_still_filter_search_results(counterparties, firms):
    # given
    archive_records(SYSTEM, counterparties, [firms["Лютик"].pk])
    # when
    active = found(counterparties, "казань")
    archived = found(counterparties, "казань", state="archived")
    # then
    assert active == ["ООО «Ромашка»"]
    assert archived == ["Лютик"]


def test_index_rows_hold_normalised_text(counterparties, firms):
    # when
    text = SearchEntry.objects.get(table=counterparties, record_id=firms["ИП Королёв"].pk).text
    # then
    assert text == "ип королев 74951234567 королев"
    assert text == normalize(text)


def test_records_with_nothing_to_find_get_no_index_row(db):
    # given
    table = make_table(
        [
            {"key": "name", "label": "Имя", "type": "text"},
            {"key": "n", "label": "N", "type": "integer"},
        ],
        [{"name": "Анна", "n": 1}, {"n": 2}],
    )
    # then
    assert SearchEntry.objects.filter(table=table).count() == 1


def test_a_batch_is_indexed_with_one_insert_per_500_records(db):
    # given
    table = make_table([{"key": "name", "label": "Имя", "type": "text"}])
    rows = [{"name": f"Клиент №{i}"} for i in range(1200)]
    # when
    with CaptureQueriesContext(connection) as ctx:
        create_records(SYSTEM, table, rows)
    # then
    sqls = [q["sql"] for q in ctx.captured_queries if "search_entry" in q["sql"]]
    assert len(sqls) == 3 and all("INSERT INTO search_entry" in sql for sql in sqls)
    assert SearchEntry.objects.filter(table=table).count() == 1200
    assert found(table, "№1199") == ["Клиент №1199"]


def test_an_updated_batch_is_reindexed_in_place_with_one_select_and_one_update_per_500(db):
    # given
    table = make_table([{"key": "name", "label": "Имя", "type": "text"}])
    records = create_records(SYSTEM, table, [{"name": f"Клиент {i}"} for i in range(1200)])
    ids = set(SearchEntry.objects.filter(table_id=table.pk).values_list("id", flat=True))
    # when
    with CaptureQueriesContext(connection) as ctx:
        update_records(SYSTEM, table, {r.pk: {"name": f"Партнёр {r.pk}"} for r in records})
    # then
    sqls = [q["sql"] for q in ctx.captured_queries if "search_entry" in q["sql"]]
    # An ``executemany`` is captured as «<n> times: <sql>».
    assert [sql.split(" times: ")[-1].split()[0] for sql in sqls] == ["SELECT", "UPDATE"] * 3
    assert found(table, "клиент") == []
    assert len(found(table, "партнер")) == 1200
    assert set(SearchEntry.objects.filter(table_id=table.pk).values_list("id", flat=True)) == ids


def test_an_update_that_leaves_the_index_text_as_it_was_writes_no_index_row(db):
    # given
    table = make_table([{"key": "name", "label": "Имя", "type": "text"}])
    record = create_records(SYSTEM, table, [{"name": "Клиент Ёлкин"}])[0]
    # when: case and «ё» are folded, so the index text stays «клиент елкин»
    with CaptureQueriesContext(connection) as ctx:
        update_record(SYSTEM, table, record.pk, {"name": "КЛИЕНТ Елкин"})
    # then
    sqls = [q["sql"] for q in ctx.captured_queries if "search_entry" in q["sql"]]
    assert [sql.split()[0] for sql in sqls] == ["SELECT"]
    assert found(table, "клиент елкин") == ["КЛИЕНТ Елкин"]


def test_a_record_emptied_of_searchable_values_loses_its_index_row_and_gets_it_back(db):
    # given
    table = make_table([{"key": "name", "label": "Имя", "type": "text"}])
    first, second = create_records(SYSTEM, table, [{"name": "Клиент"}, {"name": "Партнёр"}])
    # when
    update_records(SYSTEM, table, {first.pk: {"name": None}, second.pk: {"name": "Клиент 2"}})
    # then
    assert list(SearchEntry.objects.filter(table_id=table.pk).values_list("record_id", "text")) == [
        (second.pk, "клиент 2")
    ]
    # when
    update_record(SYSTEM, table, first.pk, {"name": "Снова клиент"})
    # then
    assert found(table, "клиент") == ["Снова клиент", "Клиент 2"]
