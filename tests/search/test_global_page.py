"""The global search page and the navbar box: results per table, links, escaping, query counts."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kartoteka.records.services import archive_records, create_records
from tests.builders import SYSTEM
from tests.search.conftest import found


@pytest.fixture
def client_admin(client, admin_user):
    client.force_login(admin_user)
    return client


def _page(client, query: str) -> str:
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    return response.content.decode()


def _queries(client, url: str) -> int:
    client.get(url)  # warm the model cache and the session
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_results_are_grouped_per_table_with_links(client_admin, firms, table):
    # given
    romashka = firms["ООО «Ромашка»"]
    (anna,) = create_records(
        SYSTEM,
        table("contacts"),
        [{"counterparty": romashka.pk, "full_name": "Ромашкина Анна", "phone": "89123450000"}],
    )
    # when
    html = _page(client_admin, "РОМАШК")
    # then
    assert 'data-testid="search-group-counterparties"' in html
    assert 'data-testid="search-group-contacts"' in html
    assert f'href="/t/counterparties/{romashka.pk}/">ООО «Ромашка»' in html
    assert f'href="/t/contacts/{anna.pk}/">Ромашкина Анна' in html
    assert html.index("search-group-counterparties") < html.index("search-group-contacts")
    assert "Лютик" not in html


def test_phone_typed_any_way_finds_records_of_every_table(client_admin, firms, table):
    # given
    create_records(
        SYSTEM,
        table("contacts"),
        [{"counterparty": firms["Лютик"].pk, "full_name": "Иван", "phone": "+79123456789"}],
    )
    # when
    html = _page(client_admin, "8 (912) 345-67-89")
    # then
    assert 'href="/t/counterparties/' in html and "ООО «Ромашка»" in html
    assert 'href="/t/contacts/' in html and "Иван" in html


def test_ten_records_per_table_and_a_link_to_all(client_admin, counterparties):
    # given
    create_records(SYSTEM, counterparties, [{"name": f"Клиент {i:02d}"} for i in range(12)])
    # when
    html = _page(client_admin, "клиент")
    # then
    assert len(re.findall(r'href="/t/counterparties/\d+/"', html)) == 10
    assert "Клиент 11" in html and "Клиент 01" not in html  # newest first
    assert 'href="/t/counterparties/?q=%D0%BA%D0%BB%D0%B8%D0%B5%D0%BD%D1%82"' in html
    assert "все 12 →" in html
    assert 'data-testid="search-count">12<' in html


def test_archived_and_trashed_records_are_not_listed(client_admin, counterparties, firms):
    # given
    archive_records(SYSTEM, counterparties, [firms["Лютик"].pk])
    # when
    html = _page(client_admin, "казань")
    # then
    assert "ООО «Ромашка»" in html and "Лютик" not in html
    assert 'data-testid="search-count">1<' in html


def test_a_number_is_not_read_as_a_record_id_everywhere(client_admin, firms):
    # given: record ids are small numbers; no value holds the digit run «99999»
    # when
    html = _page(client_admin, "99999")
    # then
    assert 'data-testid="search-empty"' in html


def test_titles_and_the_query_are_escaped(client_admin, counterparties):
    # given
    create_records(SYSTEM, counterparties, [{"name": "<script>alert(1)</script> Злодей"}])
    # when
    html = _page(client_admin, "<script> злодей")
    # then
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Злодей" in html
    assert 'value="&lt;script&gt; злодей"' in html


def test_empty_and_fruitless_queries(client_admin, firms):
    assert 'data-testid="search-group' not in _page(client_admin, "")
    html = _page(client_admin, "несуществующее")
    assert "По запросу «несуществующее» ничего не найдено." in html


def test_one_letter_works_everywhere(client_admin, firms):
    html = _page(client_admin, "ик")
    assert "Лютик" in html and "Ромашка" not in html


def test_navbar_has_the_global_search_box(client_admin, crm):
    html = client_admin.get("/").content.decode()
    assert 'data-testid="global-search"' in html
    assert 'action="/search/"' in html and 'placeholder="Поиск по всей базе"' in html


def test_search_needs_a_login(client, crm):
    response = client.get("/search/", {"q": "ромашка"})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_grid_search_query_count_does_not_grow_with_rows(client_admin, counterparties):
    # given
    create_records(SYSTEM, counterparties, [{"name": f"Клиент {i}"} for i in range(3)])
    few = _queries(client_admin, "/t/counterparties/?q=клиент")
    create_records(SYSTEM, counterparties, [{"name": f"Клиент {i}"} for i in range(30)])
    # when
    many = _queries(client_admin, "/t/counterparties/?q=клиент")
    # then
    assert many == few
    assert len(found(counterparties, "клиент")) == 33


def test_global_search_query_count_does_not_grow_with_rows(client_admin, counterparties, table):
    # given
    create_records(SYSTEM, counterparties, [{"name": f"Клиент {i}"} for i in range(3)])
    few = _queries(client_admin, "/search/?q=клиент")
    create_records(SYSTEM, counterparties, [{"name": f"Клиент {i}"} for i in range(30)])
    # when
    many = _queries(client_admin, "/search/?q=клиент")
    # then
    assert many == few
