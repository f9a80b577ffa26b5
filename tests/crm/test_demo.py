"""The demo company: loaded through the records service, it obeys the sales process (SPEC §4)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from kartoteka.core.actor import MANAGERS_GROUP
from kartoteka.core.validators import inn_is_valid, ogrn_is_valid
from kartoteka.crm.demo import (
    MANAGERS,
    STAGES,
    build_plan,
    has_demo_data,
    line_sum,
    load_demo,
    vat_included,
)
from kartoteka.tables.modelfactory import model_for
from kartoteka.tables.models import Table

COUNT = 30


@pytest.fixture
def demo(crm):
    """The demo company with 30 counterparties; the value is the summary ``load_demo`` returned."""
    return load_demo(seed=7, counterparties=COUNT)


def _objects(key: str):
    return model_for(Table.objects.get(key=key)).objects


def _done_rows_by_counterparty() -> dict[int, list[dict]]:
    rows = defaultdict(list)
    for row in (
        _objects("client_work")
        .filter(done=True)
        .order_by("date", "id")
        .values("counterparty_id", "date", "work_type", "status_before", "status")
    ):
        rows[row["counterparty_id"]].append(row)
    return rows


def test_has_demo_data_is_false_on_an_empty_base_and_true_after_loading(crm):
    # given
    before = has_demo_data()
    # when
    load_demo(seed=1, counterparties=10)
    # then
    assert (before, has_demo_data()) == (False, True)


def test_summary_counts_the_records_created(demo):
    # given
    expected = {
        "менеджеров": 3,
        "контрагентов": COUNT,
        "контактных лиц": _objects("contacts").count(),
        "работ": _objects("client_work").count(),
        "счетов": _objects("invoices").count(),
        "заданий": 8,
        "событий": 6,
    }
    # when
    summary = demo
    # then
    assert summary == expected
    assert _objects("counterparties").count() == COUNT


def test_three_managers_with_employee_records_share_the_counterparties(demo):
    # given
    users = get_user_model().objects.filter(groups__name=MANAGERS_GROUP)
    # when
    employees = dict(
        _objects("employees").filter(user__in=users).values_list("full_name", "bonus_percent")
    )
    managers = Counter(_objects("counterparties").values_list("manager__username", flat=True))
    # then
    assert sorted(users.values_list("username", flat=True)) == ["kuznetsov", "smirnova", "volkova"]
    assert employees == {m[1]: m[3] for m in MANAGERS}
    assert managers == {"smirnova": 10, "kuznetsov": 10, "volkova": 10}


def test_our_company_has_valid_details(demo):
    # when
    company = _objects("companies").get()
    # then
    assert (company.name, company.vat_rate, company.vat_included, company.is_default) == (
        "ООО «Картотека»",
        "vat20",
        True,
        True,
    )
    assert inn_is_valid(company.inn) and len(company.inn) == 10
    assert ogrn_is_valid(company.ogrn)
    assert (company.bik[:2], len(company.bik), len(company.account), len(company.corr_account)) == (
        "04",
        9,
        20,
        20,
    )


def test_counterparty_inns_are_valid_unique_and_sized_by_kind(demo):
    # when
    rows = list(_objects("counterparties").values_list("kind", "inn"))
    # then
    assert [inn for _kind, inn in rows if not inn_is_valid(inn or "")] == []
    assert len({inn for _kind, inn in rows}) == COUNT
    assert {(kind, len(inn)) for kind, inn in rows} <= {
        ("legal", 10),
        ("entrepreneur", 12),
        ("person", 12),
    }


def test_every_stage_and_refusal_occur(demo):
    # when
    statuses = set(_objects("counterparties").values_list("status", flat=True))
    # then
    assert statuses == {*STAGES, "refused"}


def test_status_is_the_status_of_the_latest_done_row_that_has_one(demo):
    # given
    rows = _done_rows_by_counterparty()
    # when
    statuses = dict(_objects("counterparties").values_list("pk", "status"))
    # then
    expected = {
        pk: ([r["status"] for r in rows.get(pk, []) if r["status"]] or ["cold"])[-1]
        for pk in statuses
    }
    assert statuses == expected


def test_done_rows_move_forward_only_and_refusal_comes_last(demo):
    # given
    rows = _done_rows_by_counterparty()
    # when
    broken = []
    for pk, history in rows.items():
        statuses = [r["status"] for r in history if r["status"]]
        stages = [STAGES.index(s) for s in statuses if s != "refused"]
        refused_last = "refused" not in statuses or statuses.index("refused") == len(statuses) - 1
        if stages != sorted(stages) or not refused_last:
            broken.append((pk, statuses))
    # then
    assert broken == []
    assert len(rows) > COUNT // 2


def test_status_before_is_the_status_left_by_the_previous_row(demo):
    # given
    rows = _done_rows_by_counterparty()
    # when
    broken = []
    for pk, history in rows.items():
        current = "cold"
        for row in history:
            if row["status_before"] != current:
                broken.append((pk, row["date"], row["status_before"], current))
            current = row["status"] or current
    # then
    assert broken == []


def test_system_work_types_lead_to_invoice_and_paid(demo):
    # when
    pairs = set(
        _objects("client_work")
        .filter(work_type__in=("invoice", "payment"))
        .values_list("work_type", "status", "done")
    )
    # then
    assert pairs == {("invoice", "invoice", True), ("payment", "paid", True)}


def test_paid_counterparties_are_clients_with_a_paid_invoice(demo):
    # given
    counterparties = _objects("counterparties")
    # when
    clients = set(counterparties.filter(type="client").values_list("pk", flat=True))
    paid_status = set(counterparties.filter(status="paid").values_list("pk", flat=True))
    paid_invoices = set(
        _objects("invoices")
        .filter(paid=True, paid_date__isnull=False)
        .values_list("counterparty_id", flat=True)
    )
    # then
    assert clients == paid_status == paid_invoices
    assert clients


def test_each_invoice_is_dated_by_its_work_row_and_paid_on_the_payment_day(demo):
    # given
    rows = _done_rows_by_counterparty()
    # when
    invoices = list(_objects("invoices").values("counterparty_id", "date", "paid_date", "due_date"))
    # then
    for invoice in invoices:
        days = {r["work_type"]: r["date"] for r in rows[invoice["counterparty_id"]]}
        assert (invoice["date"], invoice["paid_date"]) == (days["invoice"], days.get("payment"))
        assert invoice["due_date"] == invoice["date"] + dt.timedelta(days=10)
    reached = {pk for pk, h in rows.items() if any(r["work_type"] == "invoice" for r in h)}
    assert sorted(i["counterparty_id"] for i in invoices) == sorted(reached)


def test_invoice_totals_are_sums_of_items_with_vat_included(demo):
    # given
    items = defaultdict(list)
    for item in _objects("invoice_items").values("invoice_id", "quantity", "price", "sum"):
        items[item["invoice_id"]].append(item)
    # when
    invoices = list(_objects("invoices").values("pk", "number", "total", "vat"))
    # then
    for invoice in invoices:
        lines = items[invoice["pk"]]
        assert [i["sum"] for i in lines] == [line_sum(i["quantity"], i["price"]) for i in lines]
        assert invoice["total"] == sum((i["sum"] for i in lines), Decimal("0.00"))
        assert invoice["vat"] == vat_included(invoice["total"])
    assert vat_included(Decimal("1000.00")) == Decimal("166.67")
    assert len({i["number"] for i in invoices}) == len(invoices)


def test_planned_rows_are_in_the_future_and_change_no_status(demo):
    # when
    planned = list(_objects("client_work").filter(done=False).values_list("date", "status"))
    # then
    today = timezone.localdate()
    assert planned
    assert [(day, status) for day, status in planned if day <= today or status is not None] == []


def test_tasks_and_events_are_assigned_and_have_aware_times(demo):
    # when
    tasks = list(_objects("tasks").values_list("assignee__username", "deadline"))
    events = list(_objects("events").values_list("start", "end"))
    # then
    assert {username for username, _deadline in tasks} == {"smirnova", "kuznetsov", "volkova"}
    assert all(timezone.is_aware(deadline) for _username, deadline in tasks)
    assert all(start < end for start, end in events)


def test_loading_again_reuses_the_company_and_managers(crm):
    # given
    load_demo(seed=3, counterparties=5)
    # when
    load_demo(seed=3, counterparties=5)
    # then
    inns = list(_objects("counterparties").values_list("inn", flat=True))
    assert (len(inns), len(set(inns)), _objects("companies").count()) == (10, 10, 1)
    assert get_user_model().objects.filter(groups__name=MANAGERS_GROUP).count() == 3


def test_the_same_seed_gives_the_same_counterparties():
    # given
    today = dt.date(2026, 3, 15)
    # when
    first = build_plan(seed=11, counterparties=20, today=today)
    again = build_plan(seed=11, counterparties=20, today=today)
    other = build_plan(seed=12, counterparties=20, today=today)
    # then
    names = [p.values["name"] for p in first.counterparties]
    assert names == [p.values["name"] for p in again.counterparties]
    assert names != [p.values["name"] for p in other.counterparties]
    assert [p.history for p in first.counterparties] == [p.history for p in again.counterparties]


def test_the_funnel_facts_follow_the_demo_history(demo):
    # given: the demo loaded through the services
    from django.db.models import Q

    from kartoteka.core.actor import Actor
    from kartoteka.crm import funnel_facts
    from kartoteka.crm.models import FunnelFact
    from kartoteka.reports.funnel import MODES, _FactsQuery, _FunnelQuery, _tally_work_log
    from kartoteka.reports.period import Period

    # then: a fact per counterparty at least, and exactly those a rebuild writes
    keys = funnel_facts.stage_keys()
    assert FunnelFact.objects.filter(kind=funnel_facts.ENTERED, stage=0).count() == COUNT
    assert FunnelFact.objects.count() == len(list(funnel_facts.facts_of(keys, Q(), Q())))
    # and the funnel of the demo's year from the facts is the work log's
    today = timezone.localdate()
    for mode in MODES:
        query = _FunnelQuery(
            Actor.system("tests"), Period(today - dt.timedelta(days=365), today), None, mode
        )
        facts, work_log = _FactsQuery(query).tally(), _tally_work_log(query)

        def plain(tally):
            return [[{k: v for k, v in p.items() if v} for p in part] for part in tally]

        assert plain(facts) == plain(work_log)
        assert sum(facts[0][0].values()) == COUNT
