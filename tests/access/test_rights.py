"""Rights in the selectors and the records service: row filters as SQL (subtables through the
parent), writes confined to the actor's rows, hidden and read-only fields, groups and the audit."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kartoteka.access import rights
from kartoteka.access import services as access
from kartoteka.access.models import AuditEvent
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import NotFound, PermissionDenied, RecordValidationError
from kartoteka.records import selectors
from kartoteka.records.selectors import Condition, get_history, get_record, list_records
from kartoteka.records.services import create_record, update_record
from kartoteka.tables.models import Field, Table
from tests.access.conftest import SECRET_INN, World, dump


def T(key: str) -> Table:
    return Table.objects.get(key=key)


def actor_of(world: World, who: str) -> Actor:
    return Actor.for_user(world.users[who])


def test_managers_see_their_own_clients_and_their_subtables_only(world):
    me = actor_of(world, "own")
    own = world.targets["own"]
    assert list(list_records(me, T("counterparties")).values_list("name", flat=True)) == [own.name]
    assert list(list_records(me, T("client_work")).values_list("pk", flat=True)) == [own.work.pk]
    assert list(list_records(me, T("invoices")).values_list("pk", flat=True)) == [own.invoice.pk]
    # two levels down: invoice items → invoices → counterparties
    items = list_records(me, T("invoice_items"))
    assert {i.invoice_id for i in items} == {own.invoice.pk}
    with pytest.raises(NotFound):
        get_record(me, T("invoices"), world.targets["peer"].invoice.pk)


def test_the_row_filter_is_one_sql_query_with_a_subquery(world):
    me = actor_of(world, "own")
    rights.table_access(me, T("counterparties"))  # rights are read once per user
    qs = list_records(me, T("invoice_items"))
    with CaptureQueriesContext(connection) as queries:
        rows = list(qs)
    assert len(rows) == 1
    assert len(queries) == 1
    sql = queries[0]["sql"].lower()
    assert sql.count("select") >= 3  # items ⊂ (invoices ⊂ (counterparties of mine))
    assert "kt_counterparties" in sql


def test_a_group_token_confines_to_the_group_s_users(world):
    staff = Actor.for_user(world.admin)
    managers = Group.objects.get(name="Менеджеры")
    access.set_table_rights(
        staff,
        managers,
        T("counterparties"),
        verbs=["view", "edit"],
        row_filter={"conditions": [["manager", "eq", "{current user's group}"]]},
    )
    me = actor_of(world, "own")
    names = set(list_records(me, T("counterparties")).values_list("name", flat=True))
    assert names == {world.targets["own"].name, world.targets["peer"].name}


def test_a_manager_cannot_create_a_client_for_another_manager(world):
    me = actor_of(world, "own")
    before = dump()
    with pytest.raises(PermissionDenied):
        create_record(me, T("counterparties"), {"name": "Чужой", "manager": world.users["peer"].pk})
    assert dump() == before


def test_a_manager_cannot_hand_his_client_to_another(world):
    me = actor_of(world, "own")
    before = dump()
    with pytest.raises(PermissionDenied):
        update_record(
            me,
            T("counterparties"),
            world.targets["own"].counterparty.pk,
            {"manager": world.users["peer"].pk},
        )
    assert dump() == before


def test_a_subtable_row_for_another_s_client_is_refused(world):
    me = actor_of(world, "own")
    before = dump()
    with pytest.raises(RecordValidationError) as refused:
        create_record(
            me,
            T("client_work"),
            {"counterparty": world.targets["peer"].counterparty.pk, "work_type": "call"},
        )
    assert [(e.field, e.code) for e in refused.value.errors] == [("counterparty", "link_not_found")]
    assert dump() == before


def test_a_hidden_field_is_refused_in_filters_sorts_and_writes(world):
    me = actor_of(world, "hidden")
    table = T("counterparties")
    assert "inn" not in [f.key for f in rights.visible_fields(me, table)]
    with pytest.raises(RecordValidationError) as refused:
        list_records(me, table, conditions=[Condition("inn", "eq", SECRET_INN)])
    assert refused.value.errors[0].code == "hidden_field"
    with pytest.raises(RecordValidationError):
        list_records(me, table, ordering=["inn"])
    assert not list_records(me, table, search=SECRET_INN).exists()
    before = dump()
    with pytest.raises(RecordValidationError) as refused:
        update_record(me, table, world.targets["hidden"].counterparty.pk, {"inn": "7736050003"})
    assert refused.value.errors[0].code == "unknown_field"
    assert dump() == before


def test_history_leaves_hidden_fields_out(world):
    me = actor_of(world, "hidden")
    cp = world.targets["hidden"].counterparty
    entries = get_history(me, T("counterparties"), cp.pk)
    assert entries and all("inn" not in e.changes for e in entries)
    full = get_history(Actor.for_user(world.admin), T("counterparties"), cp.pk)
    assert any("inn" in e.changes for e in full)


def test_documents_and_loaded_records_blank_hidden_fields(world):
    from kartoteka.crm.documents import build_invoice_document

    me = actor_of(world, "hidden")
    doc = build_invoice_document(me, world.targets["hidden"].invoice.pk)
    assert doc.buyer.inn == ""
    record = selectors.mask_hidden(me, T("counterparties"), world.targets["hidden"].counterparty)
    assert record.inn is None


def test_export_leaves_hidden_and_unexported_fields_out(world):
    from kartoteka.exports.errors import ExportError
    from kartoteka.exports.services import export_records

    me = actor_of(world, "hidden")
    text = b"".join(export_records(me, T("counterparties"), fmt="csv", encoding="utf-8").chunks)
    assert SECRET_INN.encode() not in text
    assert world.targets["hidden"].name.encode() in text
    with pytest.raises(ExportError):
        export_records(me, T("counterparties"), fmt="csv", fields=["inn"])


def test_read_only_fields_of_a_group(world):
    me = actor_of(world, "own")
    invoice = world.targets["own"].invoice
    before = dump()
    with pytest.raises(RecordValidationError) as refused:
        update_record(me, T("invoices"), invoice.pk, {"paid": True})
    assert refused.value.errors[0].code == "read_only"
    assert dump() == before


def test_managers_cannot_mark_invoices_paid_but_accounting_can(world, accountant):
    from kartoteka.crm.services import mark_invoices_paid

    invoice = world.targets["own"].invoice
    before = dump()
    with pytest.raises(PermissionDenied):
        mark_invoices_paid(actor_of(world, "own"), [invoice.pk])
    assert dump() == before
    assert mark_invoices_paid(accountant, [invoice.pk]) == 1


def test_the_default_configuration(world):
    managers = Group.objects.get(name="Менеджеры")
    me = actor_of(world, "own")
    assert rights.can(me, T("counterparties"), "edit")
    assert not rights.can(me, T("companies"), "edit")
    assert not rights.can_action(me, T("invoices"), "mark_paid")
    assert rights.can_action(me, T("counterparties"), "issue_invoice")
    assert managers.table_rights.get(table=T("counterparties")).row_filter["conditions"] == [
        ["manager", "eq", "{current user}"]
    ]
    assert Group.objects.filter(name="Бухгалтерия").exists()


def test_groups_are_added_copied_deleted_and_audited(world):
    staff = Actor.for_user(world.admin)
    managers = Group.objects.get(name="Менеджеры")
    copy = access.create_group(staff, "Менеджеры-2", copy_from=managers)
    assert copy.table_rights.count() == managers.table_rights.count()
    empty = access.create_group(staff, "Пустая")
    assert not rights.can(Actor.for_user(_member(empty)), T("counterparties"), "view")
    access.delete_group(staff, copy)
    with pytest.raises(access.AccessError):
        access.delete_group(staff, Group.objects.get(name="Администратор"))
    with pytest.raises(access.AccessError):
        access.delete_group(staff, managers)  # it has users
    with pytest.raises(PermissionDenied):
        access.create_group(actor_of(world, "own"), "Своя")
    kinds = list(AuditEvent.objects.filter(kind="rights").values_list("message", flat=True))
    assert "Создана группа «Менеджеры-2»" in kinds
    assert "Удалена группа «Менеджеры-2»" in kinds


def _member(group: Group):
    from kartoteka.accounts.services import create_user

    return create_user(
        Actor.system("test"),
        username="member",
        password="x",
        group=group.name,
        check_password=False,
    )


def test_a_bad_row_filter_is_refused(world):
    staff = Actor.for_user(world.admin)
    managers = Group.objects.get(name="Менеджеры")
    before = dump()
    with pytest.raises(access.AccessError):
        access.set_table_rights(
            staff,
            managers,
            T("counterparties"),
            verbs=["view"],
            row_filter={"conditions": [["nope", "eq", "1"]]},
        )
    assert dump() == before


def test_a_field_right_change_is_audited_with_before_and_after(world):
    staff = Actor.for_user(world.admin)
    managers = Group.objects.get(name="Менеджеры")
    city = Field.objects.get(table__key="counterparties", key="city")
    access.set_field_rights(staff, managers, city, access="read_only")
    event = AuditEvent.objects.filter(kind="rights").latest("id")
    assert event.data["field"] == "city"
    assert event.data["before"] is None
    assert event.data["after"] == ["read_only", True, True, True]
    assert event.username == world.admin.username


def test_moving_a_user_to_another_group(world):
    staff = Actor.for_user(world.admin)
    user = world.users["read_only"]
    access.set_user_group(staff, user, Group.objects.get(name="Менеджеры"))
    assert [g.name for g in user.groups.all()] == ["Менеджеры"]
    names = set(
        list_records(Actor.for_user(user), T("counterparties")).values_list("name", flat=True)
    )
    assert names == {world.targets["read_only"].name}


def test_uploaded_files_follow_the_rights_of_their_record(world, client, settings, tmp_path):
    from tests.builders import make_table

    # given: a table of scans, each with an owner; managers see only their own scans
    settings.MEDIA_ROOT = str(tmp_path)
    own, peer = world.users["own"], world.users["peer"]
    scans = make_table(
        [
            {"key": "title", "label": "Название", "type": "text"},
            {"key": "scan", "label": "Скан", "type": "file"},
            {"key": "owner", "label": "Владелец", "type": "user"},
        ],
        [
            {"title": "мой", "scan": "scans/scan/mine.pdf", "owner": own.pk},
            {"title": "чужой", "scan": "scans/scan/peer.pdf", "owner": peer.pk},
        ],
        key="scans",
        label="Сканы",
    )
    (tmp_path / "scans" / "scan").mkdir(parents=True)
    for name in ("mine.pdf", "peer.pdf", "stray.pdf"):
        (tmp_path / "scans" / "scan" / name).write_bytes(b"%PDF-1.4 " + name.encode())
    access.set_table_rights(
        Actor.for_user(world.admin),
        Group.objects.get(name="Менеджеры"),
        scans,
        verbs=["view"],
        row_filter={"conditions": [["owner", "eq", "{current user}"]]},
    )
    mine, theirs = (
        list_records(Actor.for_user(world.admin), scans).order_by("id").values_list("pk", flat=True)
    )

    def opened(path: str) -> tuple[int, bytes]:
        # A file answer is streamed from the open file: reading it whole closes the file (the
        # test client closes the answer at the end of its content; closing it again would send
        # «request finished» a second time, which on PostgreSQL closes the test's connection).
        response = client.get(path)
        body = response.getvalue() if response.streaming else b""
        return response.status_code, body

    client.force_login(own)
    # then: his own record's file opens; another's record, a field that is no file field, or a
    # field of the record with no file, is a 404
    assert opened(f"/t/scans/{mine}/files/scan/") == (200, b"%PDF-1.4 mine.pdf")
    assert opened(f"/t/scans/{theirs}/files/scan/") == (404, b"")
    assert opened(f"/t/scans/{mine}/files/title/") == (404, b"")
    assert opened(f"/t/scans/{mine}/files/owner/") == (404, b"")
    client.force_login(world.admin)
    assert opened(f"/t/scans/{theirs}/files/scan/") == (200, b"%PDF-1.4 peer.pdf")
    # and the old address by path serves nothing
    assert opened("/media/scans/scan/peer.pdf") == (404, b"")


def test_pages_offer_only_what_the_group_may_do(world, client):
    # a read-only group: no add, edit, archive, delete, bulk or export buttons
    client.force_login(world.users["read_only"])
    grid = client.get("/t/counterparties/").content.decode()
    card = client.get(f"/t/counterparties/{world.targets['read_only'].counterparty.pk}/")
    card_html = card.content.decode()
    assert "/t/counterparties/new/" not in grid
    assert 'value="edit" data-bulk' not in grid
    assert 'data-testid="export"' not in grid
    assert "/edit/" not in card_html
    assert 'value="archive"' not in card_html and 'value="trash"' not in card_html
    # a manager: everything but «Счёт оплачен»
    client.force_login(world.users["own"])
    grid = client.get("/t/invoices/").content.decode()
    assert 'data-action="mark_paid"' not in grid
    assert 'data-testid="export"' in grid and 'value="edit" data-bulk' in grid


def test_a_link_to_an_unreadable_record_shows_no_title(world, client):
    from tests.access.conftest import SYSTEM

    # given: a task of the manager about another manager's client
    peer = world.targets["peer"]
    task = create_record(
        SYSTEM,
        T("tasks"),
        {
            "title": "Позвонить",
            "counterparty": peer.counterparty.pk,
            "assignee": world.users["own"].pk,
        },
    )
    client.force_login(world.users["own"])
    # then: the task is there, the client's name is not
    grid = client.get("/t/tasks/").content.decode()
    card = client.get(f"/t/tasks/{task.pk}/").content.decode()
    assert "Позвонить" in grid and "Позвонить" in card
    assert peer.name not in grid and peer.name not in card
    # and the administrator sees it
    client.force_login(world.admin)
    assert peer.name in client.get(f"/t/tasks/{task.pk}/").content.decode()


def test_the_settings_pages_change_rights_and_preview_them(world, client):
    from kartoteka.access.models import FieldRight, TableRight

    group = Group.objects.get(name="Без ИНН")
    client.force_login(world.admin)
    fields = [
        f.key for f in rights.visible_fields(Actor.for_user(world.admin), T("counterparties"))
    ]
    data = {
        "verb:view": "1",
        "verb:edit": "1",
        "action:issue_invoice": "1",
        "rf-match": "all",
        "rf-field-0": "city",
        "rf-op-0": "eq",
        "rf-value-0": "Тула",
    }
    for key in fields:
        data[f"field:{key}:access"] = "read_only" if key == "phone" else "editable"
        data[f"field:{key}:grid"] = "1"
        data[f"field:{key}:export"] = "1"
        data[f"field:{key}:import"] = "1"
    # when
    response = client.post(f"/settings/access/g/{group.pk}/t/counterparties/", data)
    # then
    assert response.status_code == 302
    tr = TableRight.objects.get(group=group, table=T("counterparties"))
    assert (tr.verbs, tr.actions) == (["view", "edit"], ["issue_invoice"])
    assert tr.row_filter == {"match": "all", "conditions": [["city", "eq", "Тула"]]}
    assert FieldRight.objects.get(group=group, field__key="phone").access == "read_only"
    assert (
        FieldRight.objects.get(
            group=group, field__table__key="counterparties", field__key="inn"
        ).access
        == "editable"
    )
    # and: the preview shows the table as the group's user sees it (every Тула client now)
    preview = client.get(f"/settings/access/g/{group.pk}/t/counterparties/preview/")
    html = preview.content.decode()
    assert all(t.name in html for t in world.targets.values())
    assert "5 записей" in html
    # and: the audit log lists the change, filtered by kind
    log = client.get("/settings/access/audit/", {"kind": "rights"}).content.decode()
    assert "Права группы «Без ИНН» на таблицу «Контрагенты» изменены" in log
