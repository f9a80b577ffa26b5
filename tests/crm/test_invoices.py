"""Invoice line sums, totals and VAT (SPEC §4.7): computed in Decimal on every write path."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import RecordValidationError
from kartoteka.core.validators import inn_control_digits
from kartoteka.crm.invoices import CompanyVat, compute_totals, line_sum
from kartoteka.records.models import RecordChange
from kartoteka.records.services import (
    create_records,
    restore_records,
    trash_records,
    update_records,
)
from kartoteka.tables.modelfactory import model_for
from kartoteka.tables.models import Table

SYSTEM = Actor.system("tests")
D = Decimal


# -- builders (imported by the other invoice tests) ----------------------------------------------


def _table(key: str) -> Table:
    return Table.objects.get(key=key)


def make_company(**values) -> object:
    row = {
        "name": "ООО «Картотека»",
        "inn": inn_control_digits("770412345"),
        "kpp": "770401001",
        "address": "119021, г. Москва, ул. Льва Толстого, д. 16",
        "phone": "+74951234567",
        "bank": "ПАО Сбербанк",
        "bik": "044525225",
        "account": "40702810938000012345",
        "corr_account": "30101810400000000225",
        "director": "Орлов Сергей Петрович",
        "accountant": "Белова Марина Викторовна",
        "vat_rate": "vat20",
        "vat_included": True,
        "is_default": True,
        **values,
    }
    return create_records(SYSTEM, _table("companies"), [row])[0]


def make_counterparty(**values) -> object:
    row = {
        "name": "ООО «Ромашка»",
        "inn": inn_control_digits("500112345"),
        "kpp": "500101001",
        "address": "141400, г. Химки, ул. Ленина, д. 1",
        "phone": "+74957654321",
        "email": "buh@romashka.example",
        **values,
    }
    return create_records(SYSTEM, _table("counterparties"), [row])[0]


def make_invoice(counterparty, items=(), *, company=None, number="2026-0001", **values) -> object:
    """An invoice with line items ``(name, quantity, unit, price[, vat_rate])``."""
    invoice = create_records(
        SYSTEM,
        _table("invoices"),
        [
            {
                "number": number,
                "counterparty": counterparty.pk,
                "company": company.pk if company is not None else None,
                **values,
            }
        ],
    )[0]
    add_items(invoice, items)
    return reload("invoices", invoice.pk)


def add_items(invoice, items, actor: Actor = SYSTEM) -> list:
    rows = []
    for item in items:
        name, quantity, unit, price, *rest = item
        row = {"invoice": invoice.pk, "name": name, "quantity": quantity, "unit": unit}
        row["price"] = price
        if rest:
            row["vat_rate"] = rest[0]
        rows.append(row)
    return create_records(actor, _table("invoice_items"), rows) if rows else []


def reload(key: str, pk: int):
    return model_for(_table(key)).objects.get(pk=pk)


def items_of(invoice) -> list:
    return list(
        model_for(_table("invoice_items")).objects.filter(invoice_id=invoice.pk).order_by("id")
    )


# -- pure computation ----------------------------------------------------------------------------


def test_line_sum_rounds_to_kopecks_half_up():
    assert line_sum(D("1.5"), D("33.33")) == D("50.00")  # 49.995
    assert line_sum(D("3"), D("0.10")) == D("0.30")
    assert line_sum(D("0.333"), D("1.00")) == D("0.33")
    assert line_sum(None, D("1.00")) is None


def test_compute_totals_vat_included_added_and_none():
    items = [(D("1000.00"), None), (D("200.50"), None)]
    included = compute_totals(items, CompanyVat("vat20", included=True))
    added = compute_totals(items, CompanyVat("vat20", included=False))
    none = compute_totals(items, CompanyVat("none", included=True))
    assert (included.subtotal, included.vat, included.total) == (
        D("1200.50"),
        D("200.08"),
        D("1200.50"),
    )
    assert (added.subtotal, added.vat, added.total) == (D("1200.50"), D("240.10"), D("1440.60"))
    assert (none.vat, none.total, none.without_vat) == (D("0.00"), D("1200.50"), True)


# -- through the records service -----------------------------------------------------------------


def test_item_sum_is_quantity_times_price_and_invoice_totals_include_vat(crm):
    # given
    company = make_company()
    buyer = make_counterparty()
    # when
    invoice = make_invoice(
        buyer,
        [("Настройка CRM", D("1.5"), "ч", D("33.33")), ("Лицензия", 2, "шт", D("575.25"))],
        company=company,
    )
    # then
    assert [i.sum for i in items_of(invoice)] == [D("50.00"), D("1150.50")]
    assert (invoice.total, invoice.vat) == (D("1200.50"), D("200.08"))
    assert isinstance(invoice.total, Decimal)


def test_vat_added_on_top_when_the_company_does_not_include_it(crm):
    # given
    company = make_company(vat_included=False)
    # when
    invoice = make_invoice(
        make_counterparty(),
        [("Лицензия", 1, "шт", D("1000.00")), ("Внедрение", 1, "шт", D("200.50"))],
        company=company,
    )
    # then
    assert (invoice.total, invoice.vat) == (D("1440.60"), D("240.10"))


def test_without_vat_company_gives_zero_vat(crm):
    # given
    company = make_company(vat_rate="none")
    # when
    invoice = make_invoice(make_counterparty(), [("Услуги", 3, "шт", D("333.33"))], company=company)
    # then
    assert (invoice.total, invoice.vat) == (D("999.99"), D("0.00"))


def test_item_vat_rate_overrides_the_company_rate(crm):
    # given
    company = make_company()
    # when
    invoice = make_invoice(
        make_counterparty(),
        [("Книги", 1, "шт", D("1100.00"), "vat10"), ("Услуги", 1, "шт", D("1200.00"))],
        company=company,
    )
    # then: 1100 × 10/110 + 1200 × 20/120
    assert (invoice.total, invoice.vat) == (D("2300.00"), D("300.00"))


def test_invoice_without_company_follows_the_default_company(crm):
    # given
    make_company(name="ООО «Другая»", is_default=False, vat_rate="none")
    make_company(vat_included=False)
    # when
    invoice = make_invoice(make_counterparty(), [("Лицензия", 1, "шт", D("1000.00"))])
    # then
    assert (invoice.total, invoice.vat) == (D("1200.00"), D("200.00"))


def test_new_invoice_without_items_has_zero_totals(crm):
    invoice = make_invoice(make_counterparty(), company=make_company())
    assert (invoice.total, invoice.vat) == (D("0.00"), D("0.00"))


def test_editing_an_item_recomputes_its_sum_and_the_invoice(crm, admin):
    # given
    invoice = make_invoice(
        make_counterparty(),
        [("Лицензия", 1, "шт", D("1000.00")), ("Внедрение", 1, "шт", D("200.50"))],
        company=make_company(),
    )
    first = items_of(invoice)[0]
    # when
    update_records(admin, _table("invoice_items"), {first.pk: {"quantity": "3", "price": "999,99"}})
    # then
    invoice = reload("invoices", invoice.pk)
    assert reload("invoice_items", first.pk).sum == D("2999.97")
    assert (invoice.total, invoice.vat) == (D("3200.47"), D("533.41"))
    change = RecordChange.objects.filter(table=_table("invoices"), record_id=invoice.pk).latest(
        "id"
    )
    assert change.user_id is None
    assert change.source == "form"
    assert change.changes == {"total": ["1200.50", "3200.47"], "vat": ["200.08", "533.41"]}


def test_editing_only_the_name_writes_nothing_to_the_invoice(crm, admin):
    # given
    invoice = make_invoice(
        make_counterparty(), [("Лицензия", 1, "шт", D("1000.00"))], company=make_company()
    )
    item = items_of(invoice)[0]
    before = RecordChange.objects.filter(table=_table("invoices"), record_id=invoice.pk).count()
    # when
    update_records(admin, _table("invoice_items"), {item.pk: {"name": "Лицензия на год"}})
    # then
    after = RecordChange.objects.filter(table=_table("invoices"), record_id=invoice.pk).count()
    assert after == before
    assert reload("invoice_items", item.pk).sum == D("1000.00")


def test_a_person_cannot_type_the_item_sum(crm, admin):
    # given
    invoice = make_invoice(
        make_counterparty(), [("Лицензия", 1, "шт", D("1000.00"))], company=make_company()
    )
    item = items_of(invoice)[0]
    # when
    with pytest.raises(RecordValidationError) as exc:
        update_records(admin, _table("invoice_items"), {item.pk: {"sum": "1"}})
    # then
    assert [e.code for e in exc.value.errors] == ["read_only"]
    assert reload("invoice_items", item.pk).sum == D("1000.00")
    assert reload("invoices", invoice.pk).total == D("1000.00")


def test_a_sum_given_by_the_system_is_replaced_by_the_computed_one(crm):
    # given
    invoice = make_invoice(make_counterparty(), company=make_company())
    # when
    item = create_records(
        SYSTEM,
        _table("invoice_items"),
        [{"invoice": invoice.pk, "name": "X", "quantity": 2, "price": D("10.00"), "sum": 5}],
    )[0]
    # then
    assert reload("invoice_items", item.pk).sum == D("20.00")
    assert reload("invoices", invoice.pk).total == D("20.00")


def test_trashing_and_restoring_an_item_recomputes_the_invoice(crm, admin):
    # given
    invoice = make_invoice(
        make_counterparty(),
        [("Лицензия", 1, "шт", D("1000.00")), ("Внедрение", 1, "шт", D("200.50"))],
        company=make_company(),
    )
    second = items_of(invoice)[1]
    items = _table("invoice_items")
    # when
    trash_records(admin, items, [second.pk])
    trashed = reload("invoices", invoice.pk)
    restore_records(admin, items, [second.pk])
    restored = reload("invoices", invoice.pk)
    # then
    assert (trashed.total, trashed.vat) == (D("1000.00"), D("166.67"))
    assert (restored.total, restored.vat) == (D("1200.50"), D("200.08"))


def test_moving_an_item_to_another_invoice_recomputes_both(crm, admin):
    # given
    company = make_company()
    buyer = make_counterparty()
    first = make_invoice(buyer, [("Лицензия", 1, "шт", D("600.00"))], company=company)
    second = make_invoice(buyer, [("Внедрение", 1, "шт", D("120.00"))], company=company, number="2")
    item = items_of(first)[0]
    # when
    update_records(admin, _table("invoice_items"), {item.pk: {"invoice": second.pk}})
    # then
    assert reload("invoices", first.pk).total == D("0.00")
    assert reload("invoices", second.pk).total == D("720.00")


def test_changing_the_invoice_company_recomputes_the_vat(crm, admin):
    # given
    included = make_company()
    added = make_company(name="ИП Орлов", is_default=False, vat_included=False)
    invoice = make_invoice(
        make_counterparty(), [("Лицензия", 1, "шт", D("1000.00"))], company=included
    )
    # when
    update_records(admin, _table("invoices"), {invoice.pk: {"company": added.pk}})
    # then
    invoice = reload("invoices", invoice.pk)
    assert (invoice.total, invoice.vat) == (D("1200.00"), D("200.00"))


def test_trashing_the_invoice_leaves_its_totals_and_items_are_purged_with_it(crm, admin):
    # given
    invoice = make_invoice(
        make_counterparty(), [("Лицензия", 1, "шт", D("1000.00"))], company=make_company()
    )
    invoices = _table("invoices")
    # when
    trash_records(admin, invoices, [invoice.pk])
    trash_records(admin, _table("invoice_items"), [items_of(invoice)[0].pk])
    # then: an invoice in the trash is not rewritten
    assert reload("invoices", invoice.pk).total == D("1000.00")
    # and when it comes back its totals follow its active lines
    restore_records(admin, invoices, [invoice.pk])
    assert reload("invoices", invoice.pk).total == D("0.00")


def test_recomputing_totals_takes_the_same_queries_for_2_and_40_items(crm):
    # given
    company = make_company()
    buyer = make_counterparty()
    small = make_invoice(buyer, company=company, number="1")
    large = make_invoice(buyer, company=company, number="2")

    def count(invoice, n: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            add_items(invoice, [(f"Позиция {i}", 1, "шт", D("10.00")) for i in range(n)])
        return len(ctx.captured_queries)

    # when
    queries_small = count(small, 2)
    queries_large = count(large, 40)
    # then
    assert queries_small == queries_large
    assert reload("invoices", large.pk).total == D("400.00")
