"""Pages of the web UI through Django's test client: every page works, bad input gets a message
at the field and changes nothing."""

from __future__ import annotations

import pytest

from kartoteka.core.actor import Actor
from kartoteka.records.models import RecordChange
from kartoteka.records.services import create_record, create_records, trash_records
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


def _link(html: str, label: str) -> str:
    """The href of the pagination link whose text starts with ``label``."""
    import html as html_lib
    import re

    match = re.search(r'<a class="page-link" href="([^"]*)">' + re.escape(label), html)
    assert match, f"no link {label!r}"
    return "/t/counterparties/" + html_lib.unescape(match.group(1))


def test_list_is_paginated_by_keyset_both_ways(client_admin, table):
    # given: 120 counterparties, 50 a page, sorted by name
    create_records(
        SYSTEM, table("counterparties"), [{"name": f"Клиент {i:03d}"} for i in range(120)]
    )
    # when
    first = client_admin.get("/t/counterparties/?o=name").content.decode()
    second = client_admin.get(_link(first, "Вперёд")).content.decode()
    last = client_admin.get(_link(first, "Последняя")).content.decode()
    before_last = client_admin.get(_link(last, "‹ Назад")).content.decode()
    # then
    assert "Всего: 120" in first
    assert "Клиент 000" in first and "Клиент 049" in first and "Клиент 050" not in first
    assert "Клиент 050" in second and "Клиент 099" in second and "Клиент 049" not in second
    assert "Клиент 070" in last and "Клиент 119" in last and "Клиент 069" not in last
    assert "Клиент 020" in before_last and "Клиент 069" in before_last
    assert "Клиент 019" not in before_last and "Клиент 070" not in before_last


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


@pytest.fixture
def supply(crm):
    from tests.builders import make_table

    return make_table(
        [
            {"key": "item", "label": "Товар", "type": "text", "options": {"max_length": 10}},
            {"key": "qty", "label": "Количество", "type": "integer"},
            {"key": "price", "label": "Цена", "type": "money"},
            {
                "key": "state",
                "label": "Состояние",
                "type": "choice",
                "choices": [("new", "Новый"), ("done", "Готово")],
            },
            {"key": "date", "label": "Дата", "type": "date"},
        ],
        [{"item": "Бумага", "qty": 5, "price": "120.50", "state": "new", "date": "2026-03-15"}],
        key="supply",
    )


def field_errors(html: str) -> dict[str, list[str]]:
    """The messages shown under each form field, by field name (only fields with messages)."""
    import re

    errors = {}
    for block in html.split('<div class="mb-2 ')[1:]:
        name = re.search(r'name="([^"]+)"', block)
        messages = re.findall(r'<div class="invalid-feedback d-block">([^<]*)</div>', block)
        if name and messages:
            errors[name.group(1)] = messages
    return errors


BAD_INPUT = [
    ({"qty": "много"}, "qty", "«много» — не число."),
    ({"qty": "1.5"}, "qty", "«1.5» — не целое число."),
    ({"price": "дорого"}, "price", "«дорого» — не число."),
    (
        {"state": "lost"},
        "state",
        "Выберите корректный вариант. lost нет среди допустимых значений.",
    ),
    (
        {"item": "Бумага офисная"},
        "item",
        "Слишком длинный текст: 14 символов, допустимо не больше 10.",
    ),
    ({"date": "31.02.2026"}, "date", "Введите правильную дату."),
]
GOOD_INPUT = {"item": "Скрепки", "qty": "3", "price": "10", "state": "done", "date": "01.04.2026"}


def supply_rows(supply):
    return list(
        model_for(supply)
        .objects.order_by("id")
        .values_list("item", "qty", "price", "state", "date")
    )


@pytest.mark.parametrize(("bad", "field", "message"), BAD_INPUT)
def test_add_form_with_bad_input_shows_the_message_at_the_field_and_writes_nothing(
    client_admin, supply, bad, field, message
):
    # given
    rows_before = supply_rows(supply)
    history_before = RecordChange.objects.count()
    # when
    response = client_admin.post("/t/supply/new/", {**GOOD_INPUT, **bad})
    # then
    assert response.status_code == 200
    assert field_errors(response.content.decode()) == {field: [message]}
    assert supply_rows(supply) == rows_before
    assert RecordChange.objects.count() == history_before


@pytest.mark.parametrize(("bad", "field", "message"), BAD_INPUT)
def test_edit_form_with_bad_input_shows_the_message_at_the_field_and_changes_nothing(
    client_admin, supply, bad, field, message
):
    # given
    record = model_for(supply).objects.get()
    rows_before = supply_rows(supply)
    history_before = RecordChange.objects.count()
    # when
    response = client_admin.post(f"/t/supply/{record.pk}/edit/", {**GOOD_INPUT, **bad})
    # then
    assert response.status_code == 200
    assert field_errors(response.content.decode()) == {field: [message]}
    assert supply_rows(supply) == rows_before
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


def test_delete_for_good_from_the_card_of_a_trashed_record(client_admin, romashka, table):
    # given: the record is in the trash; its card offers «Удалить навсегда»
    counterparties = table("counterparties")
    client_admin.post(f"/t/counterparties/{romashka.pk}/state/", {"action": "trash"})
    card = client_admin.get(f"/t/counterparties/{romashka.pk}/").content.decode()
    assert 'name="action" value="purge"' in card and "Удалить навсегда" in card
    # when
    response = client_admin.post(
        f"/t/counterparties/{romashka.pk}/state/", {"action": "purge"}, follow=True
    )
    # then
    assert response.redirect_chain == [("/t/counterparties/", 302)]
    assert "Запись удалена навсегда." in response.content.decode()
    assert not model_for(counterparties).objects.filter(pk=romashka.pk).exists()
    changes = RecordChange.objects.filter(table=counterparties, record_id=romashka.pk)
    assert list(changes.order_by("id").values_list("action", flat=True)) == [
        "create",
        "delete",
        "purge",
    ]
    assert client_admin.get(f"/t/counterparties/{romashka.pk}/").status_code == 404


def test_a_managers_delete_for_good_from_the_card_is_refused(client, manager_user, table):
    # given: his own client, in the trash
    counterparties = table("counterparties")
    record = create_record(
        SYSTEM, counterparties, {"name": "ООО «Своя»", "manager": manager_user.pk}
    )
    trash_records(SYSTEM, counterparties, [record.pk])
    history_before = RecordChange.objects.count()
    client.force_login(manager_user)
    # when
    response = client.post(f"/t/counterparties/{record.pk}/state/", {"action": "purge"})
    # then
    assert response.status_code == 403
    assert model_for(counterparties).objects.get(pk=record.pk).record_state == "deleted"
    assert RecordChange.objects.count() == history_before


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


def test_subtable_row_is_edited_in_place(client_admin, romashka, table):
    # given
    row = create_record(
        SYSTEM, table("contacts"), {"counterparty": romashka.pk, "full_name": "Иванов Иван"}
    )
    url = f"/t/counterparties/{romashka.pk}/sub/contacts/{row.pk}/edit/"
    # when: the edit form opens inside the subtable
    form = client_admin.get(url, HTTP_HX_REQUEST="true").content.decode()
    # then
    assert 'data-testid="edit-row-form"' in form and 'value="Иванов Иван"' in form
    # when: it is saved
    saved = client_admin.post(
        url,
        {"edit-contacts-full_name": "Иванов Иван Петрович", "edit-contacts-position": "Директор"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    # then
    stored = model_for(table("contacts")).objects.get(pk=row.pk)
    assert (stored.full_name, stored.position) == ("Иванов Иван Петрович", "Директор")
    assert "Иванов Иван Петрович" in saved and 'data-testid="edit-row-form"' not in saved


def test_subtable_row_of_another_parent_is_404(client_admin, romashka, table):
    other = create_record(SYSTEM, table("counterparties"), {"name": "Другой"})
    row = create_record(SYSTEM, table("contacts"), {"counterparty": other.pk, "full_name": "Чужой"})
    url = f"/t/counterparties/{romashka.pk}/sub/contacts/{row.pk}/edit/"
    assert client_admin.get(url, HTTP_HX_REQUEST="true").status_code == 404
    assert (
        client_admin.post(url.replace("edit", "delete"), HTTP_HX_REQUEST="true").status_code == 404
    )
    assert model_for(table("contacts")).objects.get(pk=row.pk).record_state == "active"


def test_subtable_row_is_deleted_to_the_trash(client_admin, romashka, table):
    row = create_record(
        SYSTEM, table("contacts"), {"counterparty": romashka.pk, "full_name": "Убрать"}
    )
    html = client_admin.post(
        f"/t/counterparties/{romashka.pk}/sub/contacts/{row.pk}/delete/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Убрать" not in html
    assert model_for(table("contacts")).objects.get(pk=row.pk).record_state == "deleted"


def test_subtable_row_deleted_meanwhile_is_404_and_stays_unchanged(client_admin, romashka, table):
    # given: a contact row deleted (say, from another tab) while the card was open
    row = create_record(
        SYSTEM, table("contacts"), {"counterparty": romashka.pk, "full_name": "Удалённый"}
    )
    trash_records(SYSTEM, table("contacts"), [row.pk])
    url = f"/t/counterparties/{romashka.pk}/sub/contacts/{row.pk}/edit/"
    # when: the stale card opens it for editing, saves it or deletes it again
    opened = client_admin.get(url, HTTP_HX_REQUEST="true")
    saved = client_admin.post(url, {"edit-contacts-full_name": "Воскрес"}, HTTP_HX_REQUEST="true")
    deleted = client_admin.post(url.replace("edit", "delete"), HTTP_HX_REQUEST="true")
    # then
    assert (opened.status_code, saved.status_code, deleted.status_code) == (404, 404, 404)
    stored = model_for(table("contacts")).objects.get(pk=row.pk)
    assert (stored.full_name, stored.record_state) == ("Удалённый", "deleted")


@pytest.fixture
def rename_action():
    from kartoteka.records import actions
    from kartoteka.records.services import update_record

    class RenameAction(actions.TableAction):
        table_key = "counterparties"
        key = "mark_vip"
        label = "Отметить VIP"

        def run(self, actor, table, ids, params):
            for pk in ids:
                update_record(actor, table, pk, {"comment": "VIP"})
            return actions.ActionResult(message="Отмечено.")

    actions.register_action(RenameAction())
    yield
    actions.table_actions._items.pop("counterparties.mark_vip")


def test_table_actions_are_buttons_on_the_card_and_run_through_services(
    client_admin, romashka, table, rename_action
):
    # given
    card = client_admin.get(f"/t/counterparties/{romashka.pk}/").content.decode()
    assert 'data-action="mark_vip"' in card and "Отметить VIP" in card
    # when
    response = client_admin.post(f"/t/counterparties/{romashka.pk}/action/mark_vip/")
    # then
    assert response.status_code == 302
    assert model_for(table("counterparties")).objects.get(pk=romashka.pk).comment == "VIP"
    change = RecordChange.objects.filter(table=table("counterparties"), action="update").get()
    assert change.source == "action:mark_vip"


def test_menu_offers_reports_to_all_and_the_designer_to_administrators(
    client, admin_user, manager_user
):
    client.force_login(admin_user)
    admin_html = client.get("/").content.decode()
    client.force_login(manager_user)
    manager_html = client.get("/").content.decode()
    assert 'href="/reports/"' in admin_html and 'href="/reports/"' in manager_html
    assert 'href="/designer/"' in admin_html
    assert 'href="/designer/"' not in manager_html
