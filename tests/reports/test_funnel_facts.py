"""The funnel read from the stage-entered facts equals the funnel computed from the work log.

A random but rule-abiding history — skips, refusals, an administrator reopening refused
counterparties (so stages are entered twice), rows dated out of order and before the
counterparty's creation, planned rows, trashed rows and counterparties, a counterparty without a
manager — and many periods: both ways must give the same counts, refusals, histograms of days
and drill-down lists.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import RuleViolation
from kartoteka.crm import funnel_facts
from kartoteka.crm.models import FunnelFact
from kartoteka.records.services import create_records, trash_records
from kartoteka.reports.funnel import (
    ALL_MANAGERS,
    MODES,
    _FactsQuery,
    _FunnelQuery,
    _tally_work_log,
    compute_funnel,
    funnel_members,
)
from kartoteka.reports.period import Period
from tests.builders import built_for_module

from .conftest import local, set_created

SYSTEM = Actor.system("tests")
STAGES = ["cold", "interested", "proposal", "negotiation", "invoice", "paid"]
PERIODS = [
    (dt.date(2026, 3, 1), dt.date(2026, 3, 31)),
    (dt.date(2026, 2, 15), dt.date(2026, 3, 10)),
    (dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    (dt.date(2026, 3, 5), dt.date(2026, 3, 5)),
    (dt.date(2026, 4, 1), dt.date(2026, 4, 30)),
]


def plain(tally):
    return [[{k: v for k, v in per.items() if v} for per in part] for part in tally]


@pytest.fixture(autouse=True)
def _facts_current(crm):
    # The session's sync writes the facts state; a transactional test elsewhere may have
    # flushed it, and then the facts are stale until written again.
    funnel_facts.ensure_current()


@pytest.fixture(scope="module")
def random_history(django_db_setup, django_db_blocker):
    """A random sales history of 40 counterparties, built once for the module's tests, which
    only read it (see ``built_for_module``); the ids of its two managers."""
    yield from built_for_module(django_db_blocker, _random_history)


def _random_history() -> list[int]:
    from kartoteka.core.actor import ADMIN_GROUP, MANAGERS_GROUP
    from kartoteka.tables.models import Table
    from tests.conftest import _user

    manager_user = _user("ivanov", MANAGERS_GROUP, "Иванов Иван")
    petrova = _user("petrova", MANAGERS_GROUP, "Петрова Анна")
    admin = Actor.for_user(_user("boss", ADMIN_GROUP, "Петров Пётр"))

    def table(key: str) -> Table:
        return Table.objects.get(key=key)

    rnd = random.Random(2026)
    managers = [manager_user.pk, petrova.pk, None]
    counterparties = table("counterparties")
    work = table("client_work")
    people = create_records(
        SYSTEM,
        counterparties,
        [{"name": f"ООО «{i}»", "manager": rnd.choice(managers)} for i in range(40)],
    )
    for person in people:
        day = dt.date(2026, 2, 1) + dt.timedelta(days=rnd.randrange(80))
        set_created(
            counterparties, person.pk, local(f"{day.isoformat()} {rnd.randrange(24):02}:30")
        )
        current = "cold"
        for _ in range(rnd.randrange(8)):
            day += dt.timedelta(days=rnd.choice((-6, -1, 0, 0, 1, 2, 3, 5, 9, 14)))
            actor = SYSTEM
            if current == "refused":
                status = rnd.choice(["refused", *STAGES[:4]])
                actor = admin
            else:
                at = STAGES.index(current)
                roll = rnd.random()
                if roll < 0.3:
                    status = current
                elif roll < 0.65:
                    status = STAGES[min(at + 1, 5)]
                elif roll < 0.8:
                    status = STAGES[min(at + rnd.randint(2, 4), 5)]
                else:
                    status = "refused" if current != "paid" else current
            done = rnd.random() > 0.1
            try:
                row = create_records(
                    actor,
                    work,
                    [
                        {
                            "counterparty": person.pk,
                            "date": day,
                            "work_type": rnd.choice(["call", "letter", "meeting"]),
                            "status": status,
                            "done": done,
                        }
                    ],
                )[0]
            except RuleViolation:
                continue
            if rnd.random() < 0.05:
                trash_records(SYSTEM, work, [row.pk])
            current = (
                type(person).objects.values_list("status", flat=True).get(pk=person.pk) or "cold"
            )
    trash_records(SYSTEM, counterparties, [people[0].pk])
    return [manager_user.pk, petrova.pk]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("period", PERIODS, ids=lambda p: f"{p[0]}..{p[1]}")
def test_facts_give_the_work_logs_funnel(random_history, mode, period):
    # given: the history has stages entered twice and next stages entered before a stage
    assert funnel_facts.facts_current()
    assert FunnelFact.objects.filter(prev_day__isnull=False).exists()
    assert FunnelFact.objects.filter(next_before__isnull=False).exists()
    for managers in (None, [random_history[0]], random_history):
        query = _FunnelQuery(SYSTEM, Period(*period), managers, mode)
        # when
        from_facts = _FactsQuery(query).tally()
        from_work_log = _tally_work_log(query)
        # then
        assert plain(from_facts) == plain(from_work_log), managers


@pytest.mark.parametrize("mode", MODES)
def test_drill_down_from_facts_lists_the_counted(random_history, mode):
    # given
    date_from, date_to = PERIODS[1]
    funnel = compute_funnel(SYSTEM, date_from=date_from, date_to=date_to, mode=mode)
    assert funnel.rows[1].count > 0
    for row in funnel.rows:
        for manager in [ALL_MANAGERS, None, *random_history]:
            for refused in (False, True):
                # when
                members = funnel_members(
                    SYSTEM,
                    date_from=date_from,
                    date_to=date_to,
                    mode=mode,
                    stage=row.stage.key,
                    manager=manager,
                    refused=refused,
                )
                # then: the same list as the work log's conditions give
                query = _FunnelQuery(SYSTEM, Period(date_from, date_to), None, mode)
                direct = query.members(row.stage.index, manager, refused)
                assert sorted(members.values_list("pk", flat=True)) == sorted(
                    direct.values_list("pk", flat=True)
                ), (row.stage.key, manager, refused)
                if manager is ALL_MANAGERS:
                    assert members.count() == (row.refused if refused else row.count)
