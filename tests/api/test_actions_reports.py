"""Table actions and the funnel report through the API: the same rules and rights as the pages."""

from __future__ import annotations

import datetime as dt

import pytest

from kartoteka.reports.funnel import compute_funnel
from kartoteka.tables.modelfactory import model_for
from tests.crm.test_invoices import make_company, make_counterparty
from tests.reports.conftest import history, petrova  # noqa: F401 (fixtures)


def _action(key: str, action: str) -> str:
    return f"/api/v1/tables/{key}/actions/{action}/"


@pytest.fixture
def firm(crm):
    make_company()
    return make_counterparty()


def test_issue_invoice_returns_the_invoice_id(api, firm, table, admin_user):
    # when
    response = api.post(
        _action("counterparties", "issue_invoice"), {"ids": [firm.pk]}, format="json"
    )
    # then
    assert response.status_code == 200
    invoice = model_for(table("invoices")).objects.get()
    assert response.json() == {
        "message": f"Выписан счёт №{invoice.number}. Добавьте позиции счёта.",
        "invoice_id": invoice.pk,
    }
    assert (invoice.counterparty_id, invoice.created_by_id) == (firm.pk, admin_user.pk)
    assert model_for(table("counterparties")).objects.get(pk=firm.pk).status == "invoice"


def test_mark_paid_with_a_paid_date(api, firm, table):
    # given
    invoice_id = api.post(
        _action("counterparties", "issue_invoice"), {"ids": [firm.pk]}, format="json"
    ).json()["invoice_id"]
    # when
    response = api.post(
        _action("invoices", "mark_paid"),
        {"ids": [invoice_id], "paid_date": "2026-11-20"},
        format="json",
    )
    again = api.post(_action("invoices", "mark_paid"), {"ids": [invoice_id]}, format="json")
    # then
    assert response.status_code == 200
    assert response.json() == {"message": "1 счёт отмечен оплаченным.", "paid": 1}
    invoice = model_for(table("invoices")).objects.get(pk=invoice_id)
    assert (invoice.paid, invoice.paid_date) == (True, dt.date(2026, 11, 20))
    assert again.json() == {"message": "Счёт уже отмечен как оплаченный.", "paid": 0}


def test_mark_paid_with_a_bad_date_changes_nothing(api, firm, table):
    # given
    invoice_id = api.post(
        _action("counterparties", "issue_invoice"), {"ids": [firm.pk]}, format="json"
    ).json()["invoice_id"]
    # when
    response = api.post(
        _action("invoices", "mark_paid"),
        {"ids": [invoice_id], "paid_date": "вчера"},
        format="json",
    )
    # then
    assert response.status_code == 400
    assert response.json()["code"] == "bad_date"
    assert model_for(table("invoices")).objects.get(pk=invoice_id).paid is not True


def test_an_action_refused_by_its_rules(api, crm, table):
    # given: no «Моя компания» yet
    firm = make_counterparty()
    # when
    response = api.post(
        _action("counterparties", "issue_invoice"), {"ids": [firm.pk]}, format="json"
    )
    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": "no_company",
        "message": "Заполните «Моя компания»: без неё счёт выписать нельзя.",
        "fields": {},
    }
    assert not model_for(table("invoices")).objects.exists()


@pytest.mark.parametrize(
    ("url", "body", "status", "code"),
    [
        (_action("counterparties", "fly"), {"ids": [1]}, 404, "not_found"),
        (_action("nothing", "issue_invoice"), {"ids": [1]}, 404, "not_found"),
        (_action("counterparties", "issue_invoice"), {}, 400, "validation"),
        (_action("counterparties", "issue_invoice"), {"ids": ["1"]}, 400, "validation"),
        (_action("counterparties", "issue_invoice"), {"ids": [999999]}, 404, "not_found"),
    ],
)
def test_wrong_action_requests(api, firm, url, body, status, code):
    # when
    response = api.post(url, body, format="json")
    # then
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_a_one_record_action_refuses_several(api, firm, table):
    # given
    other = make_counterparty(name="Лютик", inn=None)
    # when
    response = api.post(
        _action("counterparties", "issue_invoice"), {"ids": [firm.pk, other.pk]}, format="json"
    )
    # then
    assert response.status_code == 400
    assert response.json()["code"] == "one_record"
    assert not model_for(table("invoices")).objects.exists()


# -- the funnel ----------------------------------------------------------------------------------


def test_funnel_in_the_api_shape(api, history):  # noqa: F811
    # when
    response = api.get("/api/v1/reports/funnel/?date_from=2026-03-01&date_to=2026-03-31")
    # then
    assert response.status_code == 200
    body = response.json()
    i, p = str(history.managers["I"]), str(history.managers["P"])
    assert body["stages"][0] == {
        "key": "cold",
        "label": "Холодный",
        "count": 5,
        "refused": 1,
        "conversion_prev": 100.0,
        "conversion_first": 100.0,
        "by_manager": {i: 3, p: 2},
    }
    assert [s["key"] for s in body["stages"]] == [
        "cold",
        "interested",
        "proposal",
        "negotiation",
        "invoice",
        "paid",
    ]


def test_funnel_by_manager_and_mode(api, history):  # noqa: F811
    # given
    from kartoteka.core.actor import Actor

    i = history.managers["I"]
    expected = compute_funnel(
        Actor.system("tests"),
        date_from=dt.date(2026, 3, 1),
        date_to=dt.date(2026, 3, 31),
        managers=[i],
        mode="cohort",
    ).as_api()
    # when
    response = api.get(
        f"/api/v1/reports/funnel/?date_from=2026-03-01&date_to=2026-03-31&managers={i}&mode=cohort"
    )
    # then
    assert response.json() == expected
    assert set(response.json()["stages"][0]["by_manager"]) == {str(i)}


@pytest.mark.parametrize(
    ("query", "code", "fields"),
    [
        ("date_from=01.03.2026", "validation", ["date_from"]),
        ("managers=1,x", "validation", ["managers"]),
        ("date_from=2026-04-01&date_to=2026-03-01", "bad_period", []),
        ("mode=sideways", "bad_mode", []),
    ],
)
def test_funnel_bad_parameters(api, crm, query, code, fields):
    # when
    response = api.get(f"/api/v1/reports/funnel/?{query}")
    # then
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert list(response.json()["fields"]) == fields
