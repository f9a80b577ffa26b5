"""Pages of the web UI through Django's test client: every page works, bad input gets a message
at the field and changes nothing."""

from __future__ import annotations

import pytest

from kartoteka.core.actor import Actor
from kartoteka.records.models import RecordChange
from kartoteka.records.services import create_record, create_records
from kartoteka.tables.modelfactory import model_for

SYSTEM = Actor.system("tests")


@pytest.fixture
def client_admin(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def romashka(table, admin):
    return create_record(
        admin,
        table("counterparties"),
        {"name": "ООО «Ромашка»", "inn": "7707083893", "city": "Москва"},
    )


def test_anonymous_visitor_is_sent_to_log_in(client, crm):
    # when
    response = client.get("/t/counterparties/")
    # then
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/t/counterparties/"


def test_log_in_page_speaks_russian(client, crm):
    response = client.get("/login/")
    assert response.status_code == 200
    assert "Войдите, чтобы продолжить" in response.content.decode()


def test_home_lists_categories_and_tables(client_admin):
    response = client_admin.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    for label in ("Клиенты", "Контрагенты", "Работа с клиентом", "Сотрудники", "Задания"):
        assert label in html


def test_list_is_paginated(client_admin, table):
    # given: 60 counterparties, 50 a page
    create_records(
        SYSTEM, table("counterparties"), [{"name": f"Клиент {i:02d}"} for i in range(60)]
    )
    # when
    first = client_admin.get("/t/counterparties/?o=name").content.decode()
    second = client_admin.get("/t/counterparties/?o=name&page=2").content.decode()
    # then
    assert "Всего: 60" in first
    assert "Клиент 00" in first and "Клиент 49" in first and "Клиент 50" not in first
    assert "Клиент 50" in second and "Клиент 59" in second and "Клиент 49" not in second


def test_card_shows_fields_subtables_and_history(client_admin, romashka):
    html = client_admin.get(f"/t/counterparties/{romashka.pk}/").content.decode()
    assert "ООО «Ромашка»" in html
    assert "7707083893" in html
    assert 'data-testid="subtable-client_work"' in html
    assert 'data-testid="subtable-contacts"' in html
    assert "Создание" in html


def test_add_form_applies_defaults(client_admin, table, admin_user):
    # when
    response = client_admin.post(
        "/t/counterparties/new/", {"name": "ИП Сидоров", "kind": "", "type": ""}
    )
    # then
    record = model_for(table("counterparties")).objects.get(name="ИП Сидоров")
    assert response.status_code == 302
    assert response["Location"] == f"/t/counterparties/{record.pk}/"
    assert (record.type, record.status, record.kind) == ("potential", "cold", "legal")


def test_edit_with_a_bad_inn_shows_the_error_at_the_field_and_changes_nothing(
    client_admin, romashka, table
):
    # given
    history_before = RecordChange.objects.count()
    # when
    response = client_admin.post(
        f"/t/counterparties/{romashka.pk}/edit/",
        {"name": "ООО «Ромашка»", "inn": "1234567890", "city": "Тверь"},
    )
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "«1234567890» — неверный ИНН: проверьте цифры." in html
    stored = model_for(table("counterparties")).objects.get(pk=romashka.pk)
    assert (stored.inn, stored.city) == ("7707083893", "Москва")
    assert RecordChange.objects.count() == history_before


def test_edit_saves_and_records_history(client_admin, romashka, table, admin_user):
    # when
    response = client_admin.post(
        f"/t/counterparties/{romashka.pk}/edit/",
        {
            "name": "ООО «Ромашка»",
            "inn": "7707083893",
            "city": "Тверь",
            "type": "potential",
            "status": "cold",
            "kind": "legal",
            "manager": admin_user.pk,
        },
    )
    # then
    assert response.status_code == 302
    change = RecordChange.objects.filter(
        table=table("counterparties"), record_id=romashka.pk, action="update"
    ).get()
    assert change.changes == {"city": ["Москва", "Тверь"]}
    assert (change.user_id, change.source) == (admin_user.pk, "form")


def test_subtable_row_added_with_htmx_returns_the_subtable(client_admin, romashka, table):
    # when
    response = client_admin.post(
        f"/t/counterparties/{romashka.pk}/sub/client_work/add/",
        {
            "sub-client_work-date": "2026-11-02",
            "sub-client_work-work_type": "call",
            "sub-client_work-description": "Первый звонок",
            "sub-client_work-done": "on",
            "sub-client_work-status": "interested",
        },
        HTTP_HX_REQUEST="true",
    )
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="sub-client_work"' in html and "Первый звонок" in html
    assert "<html" not in html
    parent = model_for(table("counterparties")).objects.get(pk=romashka.pk)
    row = model_for(table("client_work")).objects.get(counterparty_id=romashka.pk)
    assert (row.status_before, row.status, parent.status) == ("cold", "interested", "interested")


def test_subtable_row_with_a_bad_date_is_refused_at_the_field(client_admin, romashka, table):
    # when
    response = client_admin.post(
        f"/t/counterparties/{romashka.pk}/sub/client_work/add/",
        {"sub-client_work-date": "31.02.2026", "sub-client_work-work_type": "call"},
        HTTP_HX_REQUEST="true",
    )
    # then
    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode()
    assert model_for(table("client_work")).objects.count() == 0


def test_archive_then_find_in_archive_then_restore(client_admin, romashka, table):
    # when
    client_admin.post(f"/t/counterparties/{romashka.pk}/state/", {"action": "archive"})
    active = client_admin.get("/t/counterparties/").content.decode()
    archived = client_admin.get("/t/counterparties/?state=archived").content.decode()
    # then
    assert "ООО «Ромашка»" not in active
    assert "ООО «Ромашка»" in archived
    # when
    client_admin.post(f"/t/counterparties/{romashka.pk}/state/", {"action": "restore"})
    # then
    assert "ООО «Ромашка»" in client_admin.get("/t/counterparties/").content.decode()
    changes = RecordChange.objects.filter(table=table("counterparties"), record_id=romashka.pk)
    actions = list(changes.order_by("id").values_list("action", flat=True))
    assert actions == ["create", "archive", "restore"]


def test_unknown_table_and_record_are_404(client_admin, crm):
    assert client_admin.get("/t/nope/").status_code == 404
    assert client_admin.get("/t/counterparties/999999/").status_code == 404


def test_search_finds_a_phone_written_another_way(client_admin, table):
    # given
    create_record(
        SYSTEM, table("counterparties"), {"name": "АО Звонок", "phone": "+7 912 345-67-89"}
    )
    create_record(
        SYSTEM, table("counterparties"), {"name": "АО Тишина", "phone": "+7 999 000-00-00"}
    )
    # when
    html = client_admin.get("/t/counterparties/?q=8(912)3456789").content.decode()
    # then
    assert "АО Звонок" in html and "АО Тишина" not in html
