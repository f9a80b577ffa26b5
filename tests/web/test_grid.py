"""The grid: filters, quick filters, saved views with counts, columns, totals, bulk actions."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from kartoteka.core.actor import Actor
from kartoteka.grids.models import ColumnPreference, SavedView
from kartoteka.records.models import RecordChange
from kartoteka.records.services import create_records
from kartoteka.tables.modelfactory import model_for

SYSTEM = Actor.system("tests")


@pytest.fixture
def client_admin(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def clients(table, manager_user):
    return create_records(
        SYSTEM,
        table("counterparties"),
        [
            {"name": "Альфа", "city": "Москва", "status": "interested"},
            {"name": "Бета", "city": "Москва", "status": "cold"},
            {"name": "Гамма", "city": "Тверь", "status": "interested", "manager": manager_user.pk},
            {"name": "Дельта", "city": None, "status": "cold"},
        ],
    )


def names(html: str) -> list[str]:
    found = re.findall(r'<a href="/t/counterparties/\d+/">([^<]+)</a></td>', html)
    return [name for name in found if not name.isdigit()]


def test_filter_conditions_combine_with_and_or(client_admin, clients):
    # when
    both = client_admin.get(
        "/t/counterparties/?o=name&ff=city&fo=eq&fv=Москва&fv2=&ff=status&fo=eq&fv=interested&fv2="
    ).content.decode()
    either = client_admin.get(
        "/t/counterparties/?o=name&m=any&ff=city&fo=eq&fv=Москва&fv2=&ff=status&fo=eq"
        "&fv=interested&fv2="
    ).content.decode()
    empty_city = client_admin.get(
        "/t/counterparties/?o=name&ff=city&fo=empty&fv=&fv2="
    ).content.decode()
    # then
    assert names(both) == ["Альфа"]
    assert names(either) == ["Альфа", "Бета", "Гамма"]
    assert names(empty_city) == ["Дельта"]


def test_quick_filters_by_column(client_admin, clients, manager_user):
    html = client_admin.get(
        f"/t/counterparties/?o=name&qf_manager={manager_user.pk}"
    ).content.decode()
    assert names(html) == ["Гамма"]
    html = client_admin.get("/t/counterparties/?o=name&qf_status=cold").content.decode()
    assert names(html) == ["Бета", "Дельта"]


def test_a_bad_filter_shows_a_message_not_an_error_page(client_admin, clients):
    response = client_admin.get("/t/counterparties/?ff=nosuch&fo=eq&fv=1&fv2=")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="grid-error"' in html
    assert names(html) == []


def test_saved_view_lists_its_count_and_reapplies_its_filter(client_admin, clients, table):
    # when: the current filter is saved under a name
    response = client_admin.post(
        "/t/counterparties/views/",
        {"name": "Интересные", "query": "ff=status&fo=eq&fv=interested&fv2="},
    )
    view = SavedView.objects.get(name="Интересные")
    # then
    assert response.status_code == 302
    assert view.conditions == [["status", "eq", "interested"]]
    grid = client_admin.get("/t/counterparties/").content.decode()
    assert re.search(r"Интересные.*?<span class=\"badge text-bg-light\">2</span>", grid, re.S)
    opened = client_admin.get(f"/t/counterparties/?view={view.pk}&o=name").content.decode()
    assert names(opened) == ["Альфа", "Гамма"]


def test_columns_are_chosen_and_ordered_per_user(client_admin, clients, admin_user, table):
    # when
    client_admin.post(
        "/t/counterparties/columns/",
        {"col": ["city", "name"], "order": ["city", "inn", "name", "phone"]},
    )
    # then
    pref = ColumnPreference.objects.get(user=admin_user, table=table("counterparties"))
    assert pref.columns == ["city", "name"]
    html = client_admin.get("/t/counterparties/").content.decode()
    headers = re.findall(r'<th scope="col"><a class="text-nowrap"[^>]*>([^<↑↓]+)', html)
    assert [h.strip() for h in headers] == ["Город", "Название"]


def column_headers(html: str) -> list[str]:
    found = re.findall(r'<th scope="col">(?:<a class="text-nowrap"[^>]*>)?([^<↑↓]+)', html)
    return [h.strip() for h in found]


def test_one_users_columns_do_not_change_another_users_grid(
    client, clients, admin_user, manager_user, table
):
    # given: both see the default columns
    client.force_login(manager_user)
    manager_default = column_headers(client.get("/t/counterparties/").content.decode())
    client.force_login(admin_user)
    admin_default = column_headers(client.get("/t/counterparties/").content.decode())
    # when: the administrator picks and orders his columns
    client.post(
        "/t/counterparties/columns/",
        {"col": ["city", "name"], "order": ["city", "inn", "name", "phone"]},
    )
    client.force_login(manager_user)
    manager_after = column_headers(client.get("/t/counterparties/").content.decode())
    # then: the manager's grid is as it was, and he has no preference of his own
    assert manager_after == manager_default
    assert "Название" in manager_default and len(manager_default) > 2
    assert not ColumnPreference.objects.filter(user=manager_user).exists()
    # when: the manager picks his own
    client.post("/t/counterparties/columns/", {"col": ["name", "phone"], "order": []})
    manager_own = column_headers(client.get("/t/counterparties/").content.decode())
    client.force_login(admin_user)
    admin_after = column_headers(client.get("/t/counterparties/").content.decode())
    # then: each sees his own choice
    assert manager_own == ["Название", "Телефон"]
    assert admin_after == ["Город", "Название"] != admin_default
    prefs = ColumnPreference.objects.filter(table=table("counterparties"))
    assert sorted(prefs.values_list("user__username", "columns")) == [
        ("boss", ["city", "name"]),
        ("ivanov", ["name", "phone"]),
    ]


def test_totals_of_money_for_the_page_and_the_whole_filter(client_admin, table, clients):
    # given
    create_records(
        SYSTEM,
        table("invoices"),
        [
            {"number": str(i), "counterparty": clients[0].pk, "total": Decimal("1000.50")}
            for i in range(3)
        ],
    )
    # when
    html = client_admin.get("/t/invoices/").content.decode()
    # then
    assert "3\u00a0001,50\u00a0₽" in html


def test_bulk_edit_all_rows_of_a_filter_across_pages(client_admin, clients, table, manager_user):
    # given: 60 more cold clients, so the filter spans two pages
    create_records(
        SYSTEM, table("counterparties"), [{"name": f"Х{i}", "status": "cold"} for i in range(60)]
    )
    query = "ff=status&fo=eq&fv=cold&fv2="
    # when: the confirmation step
    confirm = client_admin.post(
        "/t/counterparties/bulk/", {"action": "edit", "all": "1", "query": query}
    )
    # then
    assert "Будет изменено записей: 62." in confirm.content.decode()
    # when: the change
    done = client_admin.post(
        "/t/counterparties/bulk/",
        {
            "action": "edit",
            "all": "1",
            "query": query,
            "confirm": "1",
            "set": ["manager"],
            "bulk-manager": str(manager_user.pk),
        },
    )
    # then
    assert done.status_code == 302
    model = model_for(table("counterparties"))
    assert model.objects.filter(status="cold", manager_id=manager_user.pk).count() == 62
    assert (
        model.objects.filter(status="interested").exclude(manager_id=manager_user.pk).count() == 1
    )
    changes = RecordChange.objects.filter(
        table=table("counterparties"), action="update", source="bulk"
    )
    assert changes.count() == 62


def test_bulk_edit_with_a_bad_value_changes_nothing(client_admin, clients, table):
    # when
    response = client_admin.post(
        "/t/counterparties/bulk/",
        {
            "action": "edit",
            "ids": [str(clients[0].pk), str(clients[1].pk)],
            "query": "",
            "confirm": "1",
            "set": ["inn"],
            "bulk-inn": "1234567890",
        },
    )
    # then
    assert response.status_code == 200
    assert "неверный ИНН" in response.content.decode()
    model = model_for(table("counterparties"))
    assert list(model.objects.filter(inn__isnull=False)) == []


def test_bulk_archive_and_restore_selected(client_admin, clients, table):
    ids = [str(clients[0].pk), str(clients[1].pk)]
    client_admin.post(
        "/t/counterparties/bulk/", {"action": "archive", "ids": ids, "confirm": "1", "query": ""}
    )
    model = model_for(table("counterparties"))
    assert model.objects.filter(record_state="archived").count() == 2
    client_admin.post(
        "/t/counterparties/bulk/",
        {"action": "restore", "ids": ids, "confirm": "1", "query": "state=archived"},
    )
    assert model.objects.filter(record_state="archived").count() == 0


def states(table) -> dict[str, str]:
    return dict(model_for(table).objects.values_list("name", "record_state"))


def test_bulk_trash_confirms_the_count_then_trashes_exactly_the_selected(
    client_admin, clients, table
):
    # given
    counterparties = table("counterparties")
    ids = [str(clients[0].pk), str(clients[2].pk)]
    # when: the confirmation step
    confirm = client_admin.post(
        "/t/counterparties/bulk/", {"action": "trash", "ids": ids, "query": "o=name"}
    )
    # then: it states the count and changes nothing yet
    html = confirm.content.decode()
    assert confirm.status_code == 200
    assert '<p class="lead" data-testid="bulk-count">Будет изменено записей: 2.</p>' in html
    assert "Подтвердить: Удалить" in html
    assert set(states(counterparties).values()) == {"active"}
    assert not RecordChange.objects.filter(table=counterparties, action="delete").exists()
    # when: confirmed
    done = client_admin.post(
        "/t/counterparties/bulk/",
        {"action": "trash", "ids": ids, "query": "o=name", "confirm": "1"},
        follow=True,
    )
    # then
    assert [code for _url, code in done.redirect_chain] == [302]
    assert done.redirect_chain[0][0].startswith("/t/counterparties/?")
    assert "Изменено записей: 2." in done.content.decode()
    assert states(counterparties) == {
        "Альфа": "deleted",
        "Бета": "active",
        "Гамма": "deleted",
        "Дельта": "active",
    }
    trashed = RecordChange.objects.filter(table=counterparties, action="delete", source="bulk")
    assert sorted(trashed.values_list("record_id", flat=True)) == [clients[0].pk, clients[2].pk]


def test_bulk_purge_by_an_administrator_removes_the_records_for_good(client_admin, clients, table):
    # given: two clients in the trash
    counterparties = table("counterparties")
    ids = [str(clients[1].pk), str(clients[3].pk)]
    client_admin.post(
        "/t/counterparties/bulk/", {"action": "trash", "ids": ids, "query": "", "confirm": "1"}
    )
    # when
    confirm = client_admin.post(
        "/t/counterparties/bulk/", {"action": "purge", "ids": ids, "query": "state=deleted"}
    )
    done = client_admin.post(
        "/t/counterparties/bulk/",
        {"action": "purge", "ids": ids, "query": "state=deleted", "confirm": "1"},
    )
    # then
    assert "Будет изменено записей: 2." in confirm.content.decode()
    assert done.status_code == 302
    assert done["Location"].startswith("/t/counterparties/?state=deleted")
    assert states(counterparties) == {"Альфа": "active", "Гамма": "active"}
    purged = RecordChange.objects.filter(table=counterparties, action="purge", source="bulk")
    assert sorted(purged.values_list("record_id", flat=True)) == [clients[1].pk, clients[3].pk]


def test_bulk_purge_by_a_manager_is_refused_and_changes_nothing(client, manager_user, table):
    # given: two of the manager's own clients, in the trash
    counterparties = table("counterparties")
    mine = create_records(
        SYSTEM,
        counterparties,
        [
            {"name": "Свой 1", "manager": manager_user.pk},
            {"name": "Свой 2", "manager": manager_user.pk},
        ],
    )
    from kartoteka.records.services import trash_records

    trash_records(SYSTEM, counterparties, [r.pk for r in mine])
    history_before = RecordChange.objects.count()
    client.force_login(manager_user)
    # when
    response = client.post(
        "/t/counterparties/bulk/",
        {
            "action": "purge",
            "ids": [str(r.pk) for r in mine],
            "query": "state=deleted",
            "confirm": "1",
        },
    )
    # then
    assert response.status_code == 200
    assert "Удалять записи навсегда может только администратор." in response.content.decode()
    assert states(counterparties) == {"Свой 1": "deleted", "Свой 2": "deleted"}
    assert RecordChange.objects.count() == history_before


def test_lookup_finds_records_by_title(client_admin, clients):
    html = client_admin.get("/lookup/counterparties/?q=Гам").content.decode()
    assert f'data-id="{clients[2].pk}"' in html
    assert "Альфа" not in html


def test_export_of_the_selection_as_russian_excel_csv(client_admin, clients):
    # when
    response = client_admin.post(
        "/t/counterparties/export/",
        {"format": "excel", "ids": [str(clients[0].pk), str(clients[2].pk)], "query": "o=name"},
    )
    # then
    body = b"".join(response.streaming_content).decode("cp1251")
    lines = body.strip().splitlines()
    assert response["Content-Disposition"].startswith('attachment; filename="counterparties-')
    # the columns in the grid's order: the key columns of counterparties first
    assert lines[0].split(";")[:4] == ["№", "Название", "Статус", "Тип"]
    assert [line.split(";")[1] for line in lines[1:]] == ["Альфа", "Гамма"]


def test_export_of_the_whole_filter_as_xlsx(client_admin, clients):
    from io import BytesIO

    from python_calamine import CalamineWorkbook

    # when: nothing ticked — the whole filter «Москва» goes
    response = client_admin.post(
        "/t/counterparties/export/",
        {"format": "xlsx", "query": "o=name&ff=city&fo=eq&fv=Москва&fv2="},
    )
    # then
    data = b"".join(response.streaming_content)
    rows = CalamineWorkbook.from_filelike(BytesIO(data)).get_sheet_by_index(0).to_python()
    assert [row[1] for row in rows[1:]] == ["Альфа", "Бета"]


def test_an_administrator_shares_a_view_with_a_group(client_admin, clients, client, manager_user):
    from django.contrib.auth.models import Group

    # when
    managers = Group.objects.get(name="Менеджеры")
    client_admin.post(
        "/t/counterparties/views/",
        {"name": "Москва", "query": "ff=city&fo=eq&fv=Москва&fv2=", "groups": str(managers.pk)},
    )
    # then: a manager sees it with its count — of his own clients only (row rights: the two
    # Moscow clients are nobody's); it has no single owner
    view = SavedView.objects.get(name="Москва")
    assert view.owner_id is None and list(view.groups.all()) == [managers]
    client.force_login(manager_user)
    html = client.get("/t/counterparties/").content.decode()
    assert re.search(r"Москва 👥 <span class=\"badge text-bg-light\">0</span>", html)


def test_a_broad_filter_counts_up_to_the_cap(client_admin, table, monkeypatch):
    from kartoteka.records import paging

    # given: more matching rows than the cap
    monkeypatch.setattr(paging, "COUNT_CAP", 5)
    create_records(
        SYSTEM, table("counterparties"), [{"name": f"Ф{i}", "city": "Омск"} for i in range(8)]
    )
    # when
    broad = client_admin.get("/t/counterparties/?qf_city=Омск").content.decode()
    narrow = client_admin.get("/t/counterparties/?qf_city=Омск&q=Ф7").content.decode()
    everyone = client_admin.get("/t/counterparties/").content.decode()
    # then
    assert "Всего: более 5" in broad
    assert "Всего: 1<" in narrow
    assert "Всего: 8<" in everyone
