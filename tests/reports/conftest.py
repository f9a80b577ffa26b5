"""Fixtures of report tests: a second manager and a hand-made sales history.

Records are written through the records service with a system actor, row by row in date order,
so the work-log rule fills «Статус до» from the status the previous row left — exactly as if
managers had worked day by day. ``created_at`` is a system column the service sets to «now»; the
history needs it in the past, so it is set with a direct UPDATE afterwards: that is test set-up
of a system column, not a write of domain data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from kartoteka.core.actor import MANAGERS_GROUP, Actor
from kartoteka.crm import funnel_facts
from kartoteka.records.services import create_records, trash_records, update_records
from kartoteka.tables.modelfactory import model_for

SYSTEM = Actor.system("tests")

#: The counterparties of the funnel history: name → (manager, created at, local time).
#: «I» is Иванов (``manager_user``), «P» Петрова (``petrova``); the period under test is March 2026.
COUNTERPARTIES = {
    "G": ("P", "2026-01-10 10:00"),
    "C": ("P", "2026-02-28 23:30"),  # 20:30 UTC: the day before the period, locally
    "A": ("I", "2026-03-01 00:30"),  # 21:30 UTC on 28.02: inside the period, locally
    "B": ("I", "2026-03-03 12:00"),
    "X": ("I", "2026-03-05 12:00"),  # moved to the trash: never counted
    "D": ("P", "2026-03-10 09:00"),
    "F": ("P", "2026-03-15 09:00"),
    "H": ("I", "2026-03-20 09:00"),
    "E": ("I", "2026-04-01 00:10"),  # 21:10 UTC on 31.03: the day after the period, locally
}

#: The work log in date order: (date, counterparty, work type, resulting status, done).
WORK = [
    ("2026-01-15", "G", "call", "interested", True),
    ("2026-02-20", "G", "letter", "proposal", True),
    ("2026-02-28", "C", "call", "interested", True),  # one day before the period
    ("2026-03-01", "C", "letter", "proposal", True),  # the first day of the period
    ("2026-03-04", "B", "call", "interested", True),
    ("2026-03-05", "A", "call", "interested", True),
    ("2026-03-05", "G", "call", "refused", True),  # refused at «proposal»
    ("2026-03-06", "X", "call", "interested", True),
    ("2026-03-10", "A", "letter", "proposal", True),
    ("2026-03-11", "D", "call", "cold", True),  # stays where it is: passes nothing
    ("2026-03-12", "D", "meeting", "invoice", True),  # skips interested, proposal, negotiation
    ("2026-03-15", "B", "call", "refused", True),  # refused at «interested»
    ("2026-03-20", "A", "meeting", "invoice", True),  # skips negotiation
    ("2026-03-20", "F", "call", "interested", False),  # planned: changes nothing
    ("2026-03-21", "H", "call", "refused", True),  # refused at «cold»
    ("2026-03-27", "D", "payment", "paid", True),
    ("2026-03-31", "C", "meeting", "negotiation", True),  # the last day of the period
    ("2026-04-01", "E", "call", "interested", True),  # the day after the period
    ("2026-04-02", "A", "payment", "paid", True),  # after the period
]


@pytest.fixture
def petrova(crm):
    from kartoteka.accounts.services import create_user

    return create_user(
        SYSTEM,
        username="petrova",
        password="Xk2#pLq9!vR",
        group=MANAGERS_GROUP,
        full_name="Петрова Анна",
        email="petrova@example.ru",
    )


def local(text: str) -> dt.datetime:
    """``"2026-03-01 00:30"`` as an aware datetime in the installation's time zone."""
    naive = dt.datetime.strptime(text, "%Y-%m-%d %H:%M")
    return timezone.make_aware(naive, timezone.get_default_timezone())


def set_created(table: Any, pk: int, when: dt.datetime) -> None:
    # Test set-up of a system column (see the module docs), not a domain write; the funnel's
    # facts repeat the creation day, so they are written again as a write would.
    model_for(table).objects.filter(pk=pk).update(created_at=when)
    funnel_facts.refresh([pk])


@dataclass
class History:
    ids: dict[str, int]
    managers: dict[str, int]

    def names(self, pks: Any) -> set[str]:
        by_id = {pk: name for name, pk in self.ids.items()}
        return {by_id[pk] for pk in pks}


@pytest.fixture
def history(table, manager_user, petrova) -> History:
    """The funnel history above, March 2026 being the period under test."""
    managers = {"I": manager_user.pk, "P": petrova.pk}
    counterparties = table("counterparties")
    created = create_records(
        SYSTEM,
        counterparties,
        [
            {"name": f"ООО «{name}»", "manager": managers[manager]}
            for name, (manager, _when) in COUNTERPARTIES.items()
        ],
    )
    ids = {name: record.pk for name, record in zip(COUNTERPARTIES, created, strict=True)}
    for name, (_manager, when) in COUNTERPARTIES.items():
        set_created(counterparties, ids[name], local(when))
    work = table("client_work")
    for day, name, work_type, status, done in WORK:
        create_records(
            SYSTEM,
            work,
            [
                {
                    "counterparty": ids[name],
                    "date": dt.date.fromisoformat(day),
                    "work_type": work_type,
                    "status": status,
                    "done": done,
                    "manager": managers[COUNTERPARTIES[name][0]],
                }
            ],
        )
    trash_records(SYSTEM, counterparties, [ids["X"]])
    return History(ids=ids, managers=managers)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def invoice(
    table,
    counterparty: int,
    manager: int,
    number: str,
    issued: str,
    amount: str,
    paid: str | None = None,
) -> int:
    """An invoice with one line of ``amount``; paid on ``paid`` when given."""
    values = {
        "number": number,
        "date": day(issued),
        "counterparty": counterparty,
        "manager": manager,
    }
    if paid:
        values |= {"paid": True, "paid_date": day(paid)}
    record = create_records(SYSTEM, table("invoices"), [values])[0]
    create_records(
        SYSTEM,
        table("invoice_items"),
        [{"invoice": record.pk, "name": "Услуга", "quantity": 1, "price": Decimal(amount)}],
    )
    return record.pk


@pytest.fixture
def clients(table, manager_user, petrova):
    i, p = manager_user.pk, petrova.pk
    k1, k2 = create_records(
        SYSTEM,
        table("counterparties"),
        [{"name": "ООО «Первый»", "manager": i}, {"name": "ООО «Второй»", "manager": p}],
    )
    return {"I": i, "P": p, "K1": k1.pk, "K2": k2.pk}


@pytest.fixture
def sales_history(table, clients):
    i, p, k1, k2 = clients["I"], clients["P"], clients["K1"], clients["K2"]
    employees = table("employees")
    found = dict(
        model_for(employees).objects.filter(user_id__in=[i, p]).values_list("user_id", "pk")
    )
    update_records(
        SYSTEM,
        employees,
        {found[i]: {"bonus_percent": Decimal("5")}, found[p]: {"bonus_percent": Decimal("10")}},
    )
    invoice(table, k1, i, "1", "2026-02-01", "1000.00", paid="2026-02-10")
    invoice(table, k1, i, "2", "2026-03-01", "2000.00", paid="2026-03-20")
    invoice(table, k1, i, "3", "2026-03-02", "333.30", paid="2026-03-31")
    invoice(table, k1, i, "4", "2026-03-05", "900.00")  # never paid
    invoice(table, k2, p, "5", "2026-02-20", "1500.00", paid="2026-03-01")
    invoice(table, k2, p, "6", "2026-03-20", "700.00", paid="2026-04-01")  # after the period
    invoice(table, k2, p, "7", "2026-01-20", "800.00", paid="2026-01-31")  # before the period
    trashed = invoice(table, k2, p, "8", "2026-03-01", "400.00", paid="2026-03-05")
    trash_records(SYSTEM, table("invoices"), [trashed])
    return clients
