"""The rules of the sales process (SPEC §4) on every path, refusals changing nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import RecordValidationError, RuleViolation
from kartoteka.crm import services as sales
from kartoteka.records.models import RecordChange
from kartoteka.records.services import (
    create_record,
    trash_records,
    update_record,
    update_records,
)
from kartoteka.tables.modelfactory import model_for

SYSTEM = Actor.system("tests")
D = dt.date


@pytest.fixture
def manager(manager_user):
    return Actor.for_user(manager_user)


@pytest.fixture
def company(table):
    return create_record(
        SYSTEM, table("companies"), {"name": "ООО «Картотека»", "is_default": True}
    )


@pytest.fixture
def fabrika(table, manager_user):
    return create_record(
        SYSTEM, table("counterparties"), {"name": "Шоколадная фабрика", "manager": manager_user.pk}
    )


NOV_2 = D(2026, 11, 2)


def work(table, actor, counterparty, status=None, *, day=NOV_2, done=True, kind="call"):
    return create_record(
        actor,
        table("client_work"),
        {
            "counterparty": counterparty.pk,
            "date": day,
            "work_type": kind,
            "done": done,
            "status": status,
        },
    )


def status_of(table, record) -> str:
    return model_for(table("counterparties")).objects.get(pk=record.pk).status


def snapshot(table) -> tuple:
    cp = model_for(table("counterparties"))
    rows = model_for(table("client_work"))
    return (
        list(cp.objects.order_by("id").values_list("id", "status", "type")),
        list(rows.objects.order_by("id").values_list("id", "status", "record_state")),
        RecordChange.objects.count(),
    )


def test_status_before_is_filled_from_the_counterparty_and_status_follows_done_rows(
    table, manager, fabrika
):
    # when
    first = work(table, manager, fabrika, "interested", day=D(2026, 11, 1))
    second = work(table, manager, fabrika, "negotiation", day=D(2026, 11, 3))  # skips a stage
    # then
    assert (first.status_before, second.status_before) == ("cold", "interested")
    assert status_of(table, fabrika) == "negotiation"


def test_planned_rows_change_nothing_until_done(table, manager, fabrika):
    # given
    planned = work(table, manager, fabrika, "proposal", done=False)
    assert status_of(table, fabrika) == "cold"
    # when
    update_record(manager, table("client_work"), planned.pk, {"done": True})
    # then
    assert status_of(table, fabrika) == "proposal"


def test_deleting_the_latest_row_recomputes_the_status(table, manager, fabrika):
    # given
    work(table, manager, fabrika, "interested", day=D(2026, 11, 1))
    latest = work(table, manager, fabrika, "proposal", day=D(2026, 11, 5))
    # when
    trash_records(manager, table("client_work"), [latest.pk])
    # then
    assert status_of(table, fabrika) == "interested"


def test_deleting_every_row_returns_the_status_from_before_the_work(table, manager, fabrika):
    only = work(table, manager, fabrika, "interested")
    trash_records(manager, table("client_work"), [only.pk])
    assert status_of(table, fabrika) == "cold"


def test_a_later_date_wins_over_a_later_id(table, manager, fabrika):
    work(table, manager, fabrika, "proposal", day=D(2026, 11, 10))
    work(table, manager, fabrika, "negotiation", day=D(2026, 11, 1))
    assert status_of(table, fabrika) == "proposal"


def test_going_back_a_stage_is_refused_and_nothing_changes(table, manager, fabrika):
    # given
    work(table, manager, fabrika, "proposal")
    before = snapshot(table)
    # when
    with pytest.raises(RuleViolation) as refused:
        work(table, manager, fabrika, "interested", day=D(2026, 11, 4))
    # then
    assert refused.value.rule == "forward_only"
    assert "только вперёд" in refused.value.message
    assert snapshot(table) == before


def test_refusal_at_any_stage_before_payment_and_it_sticks(table, manager, admin, fabrika):
    # given
    work(table, manager, fabrika, "interested", day=D(2026, 11, 1))
    # when: refused at «Заинтересован»
    work(table, manager, fabrika, "refused", day=D(2026, 11, 2))
    # then
    assert status_of(table, fabrika) == "refused"
    before = snapshot(table)
    with pytest.raises(RuleViolation) as refused:
        work(table, manager, fabrika, "proposal", day=D(2026, 11, 3))
    assert refused.value.rule == "refused_stays_refused"
    assert snapshot(table) == before
    # when: the administrator reopens the client
    reopened = work(table, admin, fabrika, "interested", day=D(2026, 11, 4))
    # then: the status follows and history keeps who did it
    assert status_of(table, fabrika) == "interested"
    change = RecordChange.objects.filter(
        table=table("counterparties"), record_id=fabrika.pk, action="update"
    ).latest("id")
    assert change.changes == {"status": ["refused", "interested"]}
    assert change.user_id == admin.user_id
    assert reopened.status_before == "refused"


def test_a_person_cannot_pick_a_system_work_type(table, manager, fabrika):
    before = snapshot(table)
    with pytest.raises(RuleViolation) as refused:
        work(table, manager, fabrika, "invoice", kind="invoice")
    assert refused.value.rule == "system_work_type"
    assert snapshot(table) == before


def test_status_before_cannot_be_typed(table, manager, fabrika):
    with pytest.raises(RecordValidationError) as refused:
        create_record(
            manager,
            table("client_work"),
            {"counterparty": fabrika.pk, "work_type": "call", "status_before": "paid"},
        )
    assert [e.code for e in refused.value.errors] == ["read_only"]


def test_the_status_of_a_counterparty_is_not_set_by_hand_even_in_bulk(table, manager, fabrika):
    before = snapshot(table)
    with pytest.raises(RuleViolation) as refused:
        update_records(
            manager.via("bulk"), table("counterparties"), {fabrika.pk: {"status": "paid"}}
        )
    assert refused.value.rule == "status_follows_work"
    assert snapshot(table) == before


def test_issue_invoice_creates_the_invoice_and_the_work_row(
    table, manager, fabrika, company, manager_user
):
    # given
    work(table, manager, fabrika, "proposal", day=D(2026, 11, 1))
    # when
    invoice = sales.issue_invoice(manager, fabrika.pk)
    second = sales.issue_invoice(manager, fabrika.pk)
    # then
    today = timezone.localdate()
    assert invoice.number == f"{today.year}-0001" and second.number == f"{today.year}-0002"
    assert (invoice.date, invoice.company_id, invoice.counterparty_id, invoice.manager_id) == (
        today,
        company.pk,
        fabrika.pk,
        manager_user.pk,
    )
    rows = model_for(table("client_work")).objects.filter(work_type="invoice").order_by("id")
    assert [(r.status_before, r.status, r.done) for r in rows] == [
        ("proposal", "invoice", True),
        ("invoice", "invoice", True),
    ]
    assert status_of(table, fabrika) == "invoice"


def test_invoice_numbers_continue_after_existing_ones(table, manager, fabrika, company):
    year = timezone.localdate().year
    create_record(
        SYSTEM,
        table("invoices"),
        {"number": f"{year}-0041", "counterparty": fabrika.pk, "company": company.pk},
    )
    assert sales.issue_invoice(manager, fabrika.pk).number == f"{year}-0042"


def test_issue_invoice_without_our_company_is_refused_and_changes_nothing(table, manager, fabrika):
    before = snapshot(table)
    with pytest.raises(sales.SalesError) as refused:
        sales.issue_invoice(manager, fabrika.pk)
    assert refused.value.code == "no_company"
    assert snapshot(table) == before
    assert model_for(table("invoices")).objects.count() == 0


def test_invoice_paid_makes_a_client_and_locks_the_potential_rows(
    table, manager, accountant, fabrika, company
):
    # given
    call = work(table, manager, fabrika, "interested", day=D(2026, 11, 1))
    invoice = sales.issue_invoice(manager, fabrika.pk)
    # when: «Бухгалтерия» marks it paid (managers may not, see tests/access)
    today = timezone.localdate()
    changed = sales.mark_invoices_paid(accountant, [invoice.pk], paid_date=today)
    # then
    stored = model_for(table("invoices")).objects.get(pk=invoice.pk)
    cp = model_for(table("counterparties")).objects.get(pk=fabrika.pk)
    payment = model_for(table("client_work")).objects.get(work_type="payment")
    assert changed == 1
    assert (stored.paid, stored.paid_date) == (True, today)
    assert (cp.type, cp.status) == ("client", "paid")
    assert (payment.status_before, payment.status, payment.done, payment.date) == (
        "invoice",
        "paid",
        True,
        today,
    )
    # and: marking it paid again changes nothing
    before = snapshot(table)
    assert sales.mark_invoices_paid(accountant, [invoice.pk]) == 0
    assert snapshot(table) == before
    # and: the rows of the potential period are locked
    with pytest.raises(RuleViolation) as refused:
        update_record(manager, table("client_work"), call.pk, {"description": "правка"})
    assert refused.value.rule == "locked_after_payment"
    with pytest.raises(RuleViolation):
        trash_records(manager, table("client_work"), [call.pk])
    assert snapshot(table) == before
    # and: new rows carry no status
    later = work(table, manager, fabrika, None, day=today)
    assert (later.status_before, later.status) == (None, None)
    with pytest.raises(RuleViolation) as refused:
        work(table, manager, fabrika, "paid", day=today)
    assert refused.value.rule == "client_rows_no_status"
    assert status_of(table, fabrika) == "paid"


def test_paying_several_invoices_of_one_client_at_once(
    table, manager, accountant, fabrika, company
):
    first = sales.issue_invoice(manager, fabrika.pk)
    second = sales.issue_invoice(manager, fabrika.pk)
    assert sales.mark_invoices_paid(accountant, [first.pk, second.pk]) == 2
    payments = model_for(table("client_work")).objects.filter(work_type="payment").order_by("id")
    assert [p.status for p in payments] == ["paid", None]


def test_ticking_paid_in_the_form_follows_the_same_rule(
    table, manager, accountant, fabrika, company
):
    invoice = sales.issue_invoice(manager, fabrika.pk)
    update_record(accountant, table("invoices"), invoice.pk, {"paid": True})
    assert model_for(table("counterparties")).objects.get(pk=fabrika.pk).type == "client"
    stored = model_for(table("invoices")).objects.get(pk=invoice.pk)
    assert stored.paid_date == timezone.localdate()


def test_only_an_administrator_undoes_a_payment(
    table, manager, accountant, admin, fabrika, company
):
    invoice = sales.issue_invoice(manager, fabrika.pk)
    sales.mark_invoices_paid(accountant, [invoice.pk])
    with pytest.raises(RuleViolation) as refused:
        update_record(accountant, table("invoices"), invoice.pk, {"paid": False})
    assert refused.value.rule == "payment_undo_admin_only"
    update_record(admin, table("invoices"), invoice.pk, {"paid": False})
    assert model_for(table("invoices")).objects.get(pk=invoice.pk).paid is False


def test_actions_run_from_the_card(client_admin_page, table, fabrika, company):
    response = client_admin_page.post(f"/t/counterparties/{fabrika.pk}/action/issue_invoice/")
    invoice = model_for(table("invoices")).objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/t/invoices/{invoice.pk}/"
    client_admin_page.post(f"/t/invoices/{invoice.pk}/action/mark_paid/")
    assert model_for(table("invoices")).objects.get().paid is True


@pytest.fixture
def client_admin_page(client, admin_user):
    client.force_login(admin_user)
    return client


def test_concurrent_invoice_numbers_never_repeat(django_db_setup, django_db_blocker):
    # Two transactions at once on a real server: SQLite's single writer makes this trivially
    # true, so the test means something on PostgreSQL; it runs on both all the same. It commits
    # for real (outside the usual rolled-back transaction, without flushing the database that
    # later tests share) and removes exactly the counter it wrote.
    import threading
    import uuid

    from django.db import connection, connections, transaction

    from kartoteka.tables.models import Sequence

    company_id = 10**9 + uuid.uuid4().int % 10**6  # a company of its own: a counter of its own
    numbers: list[str] = []
    errors: list[BaseException] = []

    def take() -> None:
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                numbers.append(sales.next_invoice_number(company_id, 2026))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    with django_db_blocker.unblock():
        try:
            # The in-memory SQLite test database is one connection: one taker there, two elsewhere.
            takers = 1 if connection.vendor == "sqlite" else 2
            barrier = threading.Barrier(takers)
            threads = [threading.Thread(target=take) for _ in range(takers)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
            assert errors == []
            assert len(numbers) == len(set(numbers)) == len(threads)
            assert sorted(numbers) == [f"2026-{n:04d}" for n in range(1, takers + 1)]
        finally:
            Sequence.objects.filter(key=f"invoice:{company_id}:2026").delete()


def test_invoice_paid_on_a_grid_selection(client_admin_page, table, fabrika, company, manager):
    first = sales.issue_invoice(manager, fabrika.pk)
    second = sales.issue_invoice(manager, fabrika.pk)
    grid = client_admin_page.get("/t/invoices/").content.decode()
    assert 'data-action="mark_paid"' in grid
    response = client_admin_page.post(
        "/t/invoices/action/mark_paid/", {"ids": [str(first.pk), str(second.pk)], "query": ""}
    )
    assert response.status_code == 302
    paid = model_for(table("invoices")).objects.filter(paid=True).count()
    assert paid == 2


def test_work_row_texts_are_written_in_the_installation_language(table, manager, fabrika, company):
    from django.utils import translation

    # when: a person using the English interface issues an invoice
    with translation.override("en"):
        invoice = sales.issue_invoice(manager, fabrika.pk)
    # then: the stored description is Russian, like the rest of the base
    row = model_for(table("client_work")).objects.get(work_type="invoice")
    assert row.description == f"Выписан счёт №{invoice.number}"


# -- «Выписан счёт», «Получена оплата» and «Тип» by hand (issue 20, hole 8) --------------------


@pytest.mark.parametrize("stage", ["invoice", "paid"])
def test_a_person_cannot_reach_the_invoice_stages_with_a_work_row(table, manager, fabrika, stage):
    # given
    before = snapshot(table)
    # when: a done call with the stage only an action sets
    with pytest.raises(RuleViolation) as refused:
        work(table, manager, fabrika, stage)
    # then
    assert refused.value.rule == "system_stage"
    assert refused.value.field == "status"
    assert snapshot(table) == before
    assert status_of(table, fabrika) == "cold"


def test_a_person_cannot_edit_a_row_into_the_paid_stage(table, manager, admin, fabrika):
    # given: a done call at «Переговоры»
    row = work(table, manager, fabrika, "negotiation")
    before = snapshot(table)
    # when: the manager (and even the administrator) edits it to «Получена оплата»
    for actor in (manager, admin, manager.via("bulk")):
        with pytest.raises(RuleViolation) as refused:
            update_record(actor, table("client_work"), row.pk, {"status": "paid"})
        assert refused.value.rule == "system_stage"
    # then
    assert snapshot(table) == before
    assert status_of(table, fabrika) == "negotiation"


def test_the_actions_still_reach_the_invoice_stages(table, manager, accountant, fabrika, company):
    invoice = sales.issue_invoice(manager, fabrika.pk)
    assert status_of(table, fabrika) == "invoice"
    sales.mark_invoices_paid(accountant, [invoice.pk])
    assert status_of(table, fabrika) == "paid"


def test_the_type_is_changed_by_hand_by_an_administrator_only(table, manager, admin, fabrika):
    # given
    before = snapshot(table)
    # when: the manager makes the potential counterparty a client, in the form and in bulk
    for actor in (manager, manager.via("bulk")):
        with pytest.raises(RuleViolation) as refused:
            update_records(actor, table("counterparties"), {fabrika.pk: {"type": "client"}})
        assert refused.value.rule == "type_admin_only"
        assert refused.value.field == "type"
    # then: nothing changed; an administrator may
    assert snapshot(table) == before
    update_record(admin, table("counterparties"), fabrika.pk, {"type": "partner"})
    assert model_for(table("counterparties")).objects.get(pk=fabrika.pk).type == "partner"


def test_an_unchanged_type_in_a_managers_form_is_no_change(table, manager, fabrika):
    update_record(
        manager, table("counterparties"), fabrika.pk, {"type": "potential", "city": "Орёл"}
    )
    stored = model_for(table("counterparties")).objects.get(pk=fabrika.pk)
    assert (stored.type, stored.city) == ("potential", "Орёл")


def test_the_api_refuses_the_paid_stage_and_a_type_change(table, manager_user, fabrika):
    from tests.api.conftest import token_client

    # given
    api = token_client(manager_user)
    before = snapshot(table)
    # when: a done call with «Получена оплата», and a PATCH of the type
    posted = api.post(
        "/api/v1/tables/client_work/records/",
        {
            "counterparty": fabrika.pk,
            "date": "2026-11-02",
            "work_type": "call",
            "done": True,
            "status": "paid",
        },
        format="json",
    )
    patched = api.patch(
        f"/api/v1/tables/counterparties/records/{fabrika.pk}/", {"type": "client"}, format="json"
    )
    # then
    assert (posted.status_code, posted.json()["rule"]) == (422, "system_stage")
    assert (patched.status_code, patched.json()["rule"]) == (422, "type_admin_only")
    assert snapshot(table) == before


def test_an_import_reports_the_paid_stage_and_a_type_change_per_row(
    tmp_path, table, manager, fabrika
):
    from kartoteka.imports.options import ImportSettings
    from kartoteka.imports.services import run_import
    from tests.imports.files import inn, write_csv

    # given: the counterparty with an INN to match it by
    update_record(SYSTEM, table("counterparties"), fabrika.pk, {"inn": inn(1)})
    before = snapshot(table)
    clients = write_csv(
        tmp_path / "c.csv", [["Название", "ИНН", "Тип"], ["Шоколадная фабрика", inn(1), "Клиент"]]
    )
    work_rows = write_csv(
        tmp_path / "w.csv",
        [
            ["Контрагент", "Дата", "Вид работы", "Выполнено", "Статус после"],
            ["Шоколадная фабрика", "02.11.2026", "Звонок", "Да", "Получена оплата"],
        ],
    )
    # when
    typed = run_import(manager, table("counterparties"), str(clients), "c.csv", ImportSettings())
    paid = run_import(manager, table("client_work"), str(work_rows), "w.csv", ImportSettings())
    # then: each a row error naming its rule; nothing written
    assert [(e.row, e.column) for e in typed.errors] == [(2, "Тип")]
    assert "тип контрагента" in typed.errors[0].message
    assert [(e.row, e.column) for e in paid.errors] == [(2, "Статус после")]
    assert "системные статусы" in paid.errors[0].message
    assert (typed.updated, paid.created) == (0, 0)
    assert snapshot(table)[:2] == before[:2]
