"""The generic pages make a fixed number of queries, however many rows they show (no N+1)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kartoteka.core.actor import Actor
from kartoteka.records.services import create_records
from kartoteka.tables.modelfactory import clear_model_cache

SYSTEM = Actor.system("tests")


@pytest.fixture
def client_admin(client, admin_user):
    client.force_login(admin_user)
    return client


def _queries(client, url: str) -> int:
    client.get(url)  # warm the model cache and the session
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _counterparties_with_work(table, admin_user, n: int) -> list:
    parents = create_records(
        SYSTEM,
        table("counterparties"),
        [{"name": f"Клиент {i}", "manager": admin_user.pk} for i in range(n)],
    )
    create_records(
        SYSTEM,
        table("client_work"),
        [
            {
                "counterparty": p.pk,
                "work_type": "call",
                "manager": admin_user.pk,
                "date": "01.11.2026",
            }
            for p in parents
            for _ in range(3)
        ],
    )
    return parents


def test_grid_query_count_does_not_grow_with_rows(client_admin, table, admin_user):
    # given
    _counterparties_with_work(table, admin_user, 3)
    few = _queries(client_admin, "/t/client_work/")
    _counterparties_with_work(table, admin_user, 15)
    clear_model_cache()
    # when
    many = _queries(client_admin, "/t/client_work/")
    # then
    assert many == few


def test_card_query_count_does_not_grow_with_subtable_rows(client_admin, table, admin_user):
    # given
    small, big = _counterparties_with_work(table, admin_user, 2)
    create_records(
        SYSTEM,
        table("client_work"),
        [{"counterparty": big.pk, "work_type": "letter", "date": "02.11.2026"}] * 20,
    )
    # when
    few = _queries(client_admin, f"/t/counterparties/{small.pk}/")
    many = _queries(client_admin, f"/t/counterparties/{big.pk}/")
    # then
    assert many == few


def test_card_history_query_count_does_not_grow_with_manager_changes(
    client_admin, table, admin_user, manager_user
):
    from kartoteka.records.services import create_record, update_record

    # given: two cards, one with many manager changes in its history
    quiet = create_record(SYSTEM, table("counterparties"), {"name": "Тихий"})
    busy = create_record(SYSTEM, table("counterparties"), {"name": "Шумный"})
    for i in range(10):
        who = manager_user if i % 2 == 0 else admin_user
        update_record(SYSTEM, table("counterparties"), busy.pk, {"manager": who.pk})
    update_record(SYSTEM, table("counterparties"), quiet.pk, {"manager": manager_user.pk})
    # when
    few = _queries(client_admin, f"/t/counterparties/{quiet.pk}/")
    many = _queries(client_admin, f"/t/counterparties/{busy.pk}/")
    # then: the history reads the managers' names in one query, and shows them
    assert many == few
    html = client_admin.get(f"/t/counterparties/{busy.pk}/").content.decode()
    assert 'Менеджер: <span class="text-muted">Иванов Иван</span> → Петров Пётр' in html
