"""The funnel's stage-entered facts follow every write of counterparties and work rows.

After each write the facts in the table must equal the facts written from scratch
(:func:`funnel_facts.facts_of` over everything), and the tests spell out the facts that matter.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Q

from kartoteka.core.actor import Actor
from kartoteka.crm import funnel_facts
from kartoteka.crm.models import FunnelFact, FunnelTally
from kartoteka.records.services import (
    archive_records,
    create_record,
    create_records,
    purge_records,
    restore_records,
    trash_records,
    update_record,
    update_records,
)

SYSTEM = Actor.system("tests")
D = dt.date
E, R = funnel_facts.ENTERED, funnel_facts.REFUSED_AT


def ordered(rows):
    """Sorted, ``None`` first in every column."""
    return sorted(rows, key=lambda row: tuple((v is not None, v or 0) for v in row))


def stored(pk=None):
    """The facts in the table: (kind, stage, day, prev_day, to_next, next_before, furthest,
    manager)."""
    qs = FunnelFact.objects.all() if pk is None else FunnelFact.objects.filter(counterparty_id=pk)
    return ordered(
        qs.values_list(
            "kind", "stage", "day", "prev_day", "to_next", "next_before", "furthest", "manager_id"
        )
    )


def assert_in_step():
    """The table holds exactly the facts a rebuild would write."""
    written = ordered(
        (f[0], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[1], f[2])
        for f in funnel_facts.facts_of(funnel_facts.stage_keys(), Q(), Q())
    )
    in_table = ordered(
        FunnelFact.objects.values_list(
            "counterparty_id",
            "kind",
            "stage",
            "day",
            "prev_day",
            "to_next",
            "next_before",
            "furthest",
            "manager_id",
            "created_day",
        )
    )
    assert in_table == written
    # and the tally holds exactly what those facts add up to
    expected = funnel_facts.tallies(funnel_facts.facts_of(funnel_facts.stage_keys(), Q(), Q()))
    tally = {
        row[:-1]: row[-1]
        for row in FunnelTally.objects.exclude(n=0).values_list(*funnel_facts.TALLY_COLUMNS, "n")
    }
    assert tally == dict(expected)


@pytest.fixture(autouse=True)
def _facts_current(crm):
    # The session's sync writes the facts state; a transactional test elsewhere may have
    # flushed it, and then the facts are stale until written again.
    funnel_facts.ensure_current()


@pytest.fixture
def cp(table, manager_user):
    return create_record(
        SYSTEM, table("counterparties"), {"name": "Шоколадная фабрика", "manager": manager_user.pk}
    )


def work(table, cp, status, day, *, done=True, actor=SYSTEM):
    return create_record(
        actor,
        table("client_work"),
        {"counterparty": cp.pk, "date": day, "work_type": "call", "done": done, "status": status},
    )


def created_day(cp):
    from django.utils import timezone

    return timezone.localtime(cp.created_at).date()


def test_a_new_counterparty_has_its_creation_fact(cp, manager_user):
    # then: stage 0 on the day of creation, nothing further
    assert stored(cp.pk) == [(E, 0, created_day(cp), None, None, None, 0, manager_user.pk)]
    assert_in_step()


def test_work_rows_enter_stages_and_skips_enter_every_stage_jumped(table, cp, manager_user):
    # given: today is after these dates, so the creation day comes after them
    today, m = created_day(cp), manager_user.pk
    # when: cold → interested, then a skip to «Выписан счёт» (proposal and negotiation passed)
    work(table, cp, "interested", today)
    work(table, cp, "invoice", today + dt.timedelta(days=3))
    # then
    later = today + dt.timedelta(days=3)
    assert stored(cp.pk) == [
        (E, 0, today, None, 0, None, 4, m),
        (E, 1, today, None, 3, None, None, m),
        (E, 2, later, None, 0, None, None, m),
        (E, 3, later, None, 0, None, None, m),
        (E, 4, later, None, None, None, None, m),
    ]
    assert_in_step()


def test_edit_complete_and_delete_of_rows_rewrite_the_facts(table, cp, manager_user):
    # given: a planned row changes nothing
    today, m = created_day(cp), manager_user.pk
    planned = work(table, cp, "interested", today + dt.timedelta(days=2), done=False)
    assert stored(cp.pk) == [(E, 0, today, None, None, None, 0, m)]
    # when: completed
    update_record(SYSTEM, table("client_work"), planned.pk, {"done": True})
    # then
    assert [f[:3] for f in stored(cp.pk)] == [(E, 0, today), (E, 1, today + dt.timedelta(2))]
    # when: its date changes
    update_record(SYSTEM, table("client_work"), planned.pk, {"date": today + dt.timedelta(5)})
    assert [f[:3] for f in stored(cp.pk)] == [(E, 0, today), (E, 1, today + dt.timedelta(5))]
    assert stored(cp.pk)[0][4] == 5  # days to the next stage
    # when: a further row, and then the latest row goes to the trash
    latest = work(table, cp, "proposal", today + dt.timedelta(days=7))
    assert [f[1] for f in stored(cp.pk)] == [0, 1, 2]
    trash_records(SYSTEM, table("client_work"), [latest.pk])
    # then: back to cold → interested
    assert [f[:3] for f in stored(cp.pk)] == [(E, 0, today), (E, 1, today + dt.timedelta(5))]
    assert stored(cp.pk)[0][6] == 1  # furthest: the status is «Заинтересован» again
    assert_in_step()


def test_archive_restore_and_purge_of_rows(table, cp, admin):
    # given
    row = work(table, cp, "proposal", created_day(cp))
    assert [f[1] for f in stored(cp.pk)] == [0, 1, 2]
    # when / then: an archived row passes no stage
    archive_records(SYSTEM, table("client_work"), [row.pk])
    assert [f[1] for f in stored(cp.pk)] == [0]
    restore_records(SYSTEM, table("client_work"), [row.pk])
    assert [f[1] for f in stored(cp.pk)] == [0, 1, 2]
    purge_records(admin, table("client_work"), [row.pk])
    assert [f[1] for f in stored(cp.pk)] == [0]
    assert_in_step()


def test_refusal_and_reopening(table, cp, admin, manager_user):
    # given
    today, m = created_day(cp), manager_user.pk
    work(table, cp, "interested", today)
    # when: refused at «Заинтересован», reopened by an administrator, interested again
    work(table, cp, "refused", today + dt.timedelta(days=1))
    # (planned by the administrator, done on its day: a done row is never dated in the future)
    reopening = work(table, cp, "cold", today + dt.timedelta(days=2), actor=admin, done=False)
    update_record(SYSTEM, table("client_work"), reopening.pk, {"done": True})
    work(table, cp, "interested", today + dt.timedelta(days=4))
    # then: two entries into «Заинтересован», the second pointing back at the first
    assert stored(cp.pk) == [
        (E, 0, today, None, 0, None, 1, m),
        (E, 1, today, None, None, None, None, m),
        (E, 1, today + dt.timedelta(4), today, None, None, None, m),
        (R, 1, today + dt.timedelta(1), None, None, None, None, m),
    ]
    assert_in_step()


def test_manager_change_and_bulk_edit(table, cp, manager_user, admin_user):
    # given: a second counterparty and rows for both
    other = create_record(SYSTEM, table("counterparties"), {"name": "Кондитерская"})
    work(table, cp, "interested", created_day(cp))
    work(table, other, "proposal", created_day(cp))
    # when: one manager changes on the card, then both by bulk edit
    update_record(SYSTEM, table("counterparties"), cp.pk, {"manager": admin_user.pk})
    assert {f[7] for f in stored(cp.pk)} == {admin_user.pk}
    update_records(
        SYSTEM,
        table("counterparties"),
        {cp.pk: {"manager": manager_user.pk}, other.pk: {"manager": manager_user.pk}},
    )
    # then
    assert {f[7] for f in stored()} == {manager_user.pk}
    assert_in_step()


def test_bulk_update_of_work_rows(table, cp):
    # given: rows of two counterparties, planned
    other = create_record(SYSTEM, table("counterparties"), {"name": "Кондитерская"})
    day = created_day(cp)
    rows = create_records(
        SYSTEM,
        table("client_work"),
        [
            {"counterparty": c.pk, "date": day, "work_type": "call", "status": s, "done": False}
            for c, s in ((cp, "interested"), (other, "negotiation"))
        ],
    )
    assert [f[1] for f in stored()] == [0, 0]
    # when: all completed in one bulk edit
    update_records(SYSTEM, table("client_work"), {r.pk: {"done": True} for r in rows})
    # then
    assert [f[1] for f in stored(cp.pk)] == [0, 1]
    assert [f[1] for f in stored(other.pk)] == [0, 1, 2, 3]
    assert_in_step()


def test_counterparty_trash_restore_and_purge(table, cp, admin):
    # given
    work(table, cp, "interested", created_day(cp))
    # when / then: in the trash — no facts; restored — all back; purged — gone
    trash_records(SYSTEM, table("counterparties"), [cp.pk])
    assert stored(cp.pk) == []
    restore_records(SYSTEM, table("counterparties"), [cp.pk])
    assert [f[1] for f in stored(cp.pk)] == [0, 1]
    archive_records(SYSTEM, table("counterparties"), [cp.pk])
    assert [f[1] for f in stored(cp.pk)] == [0, 1]  # an archived one's history still counts
    trash_records(SYSTEM, table("counterparties"), [cp.pk])
    purge_records(admin, table("counterparties"), [cp.pk])
    assert stored(cp.pk) == []
    assert_in_step()


def test_rebuild_writes_what_the_rules_kept(table, cp):
    # given
    work(table, cp, "negotiation", created_day(cp))
    before = stored()
    # when
    written = funnel_facts.rebuild()
    # then
    assert written == len(before) == 4
    assert stored() == before
    assert_in_step()


def test_changed_stages_make_the_facts_out_of_date_until_rebuilt(table, cp, admin):
    # given: a stage added
    from kartoteka.tables.modelfactory import field_of
    from kartoteka.tables.services import ChoiceSpec, change_field

    status = field_of(table("counterparties"), "status")
    choices = [ChoiceSpec(c.key, c.label, c.color) for c in status.choices.all()]
    change_field(admin, status, choices=[ChoiceSpec("lead", "Лид"), *choices])
    assert not funnel_facts.facts_current()
    # when: a write meanwhile leaves the facts alone; the rebuild writes them for the new order
    work(table, cp, "interested", created_day(cp))
    assert [f[1] for f in stored(cp.pk)] == [0]
    funnel_facts.rebuild()
    # then: «Холодный» is stage 1 now, «Заинтересован» stage 2
    assert funnel_facts.facts_current()
    assert [f[1] for f in stored(cp.pk)] == [0, 2]
    assert_in_step()


def test_cli_rebuilds(cp, capsys):
    from kartoteka.cli import main

    assert main(["rebuild-funnel"]) == 0
    assert "Факты воронки продаж перестроены: 1" in capsys.readouterr().out
