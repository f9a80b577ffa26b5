"""«Воронка продаж» over the hand-made history of ``conftest.py`` (March 2026).

The history covers skipped stages (D: cold → invoice, A: proposal → invoice), refusals at three
stages (H at cold, B at interested, G at proposal), a row that changes nothing (D: cold → cold), a
planned row (F), a counterparty in the trash (X), and the period's edges: rows on 28.02 and
01.04 and counterparties created an hour around local midnight of 01.03 and 01.04 (C, A, E).
"""

from __future__ import annotations

import datetime as dt

import pytest

from kartoteka.core.actor import Actor
from kartoteka.reports.errors import ReportError
from kartoteka.reports.funnel import (
    ALL_MANAGERS,
    _FunnelQuery,
    compute_funnel,
    funnel_members,
    median_of_histogram,
)

MARCH = {"date_from": dt.date(2026, 3, 1), "date_to": dt.date(2026, 3, 31)}
SYSTEM = Actor.system("tests")

# Columns: count, refused, conversion from the previous stage, from the first, median days to
# the next stage ("-": nobody moved on), then the count of Иванов (I) and Петрова (P).
#
# Passed in March: cold = created in March (A, B, D, F, H; not C, E, X); interested = A, B and D
# (D passes it by skipping); proposal = A, C (01.03), D; negotiation = A (skipped), C (31.03), D
# (skipped); invoice = A, D; paid = D (A paid on 02.04).
EXPECTED_PERIOD = """
stage        count refused prev  first median  I  P
cold             5       1 100.0 100.0    2.0  3  2
interested       3       1  60.0  60.0    2.5  2  1
proposal         3       1 100.0  60.0   10.0  1  2
negotiation      3       0 100.0  60.0    0.0  1  2
invoice          2       0  66.7  40.0   14.0  1  1
paid             1       0  50.0  20.0      -  0  1
"""

# The March cohort: A, B, D, F, H, each up to its furthest stage to date — A and D paid, B
# refused at interested, H refused at cold, F still cold. Refusals of the cohort: H and B.
EXPECTED_COHORT = """
stage        count refused prev  first median  I  P
cold             5       1 100.0 100.0    2.0  3  2
interested       3       1  60.0  60.0    2.5  2  1
proposal         2       0  66.7  40.0    5.0  1  1
negotiation      2       0 100.0  40.0    0.0  1  1
invoice          2       0 100.0  40.0   14.0  1  1
paid             2       0 100.0  40.0      -  1  1
"""

# Петрова alone, passed in March: C was created in February, so more counterparties entered
# «proposal» than «interested» — the flows are shown as they are (200 %).
EXPECTED_PETROVA = """
stage        count refused prev  first median  P
cold             2       0 100.0 100.0    2.0  2
interested       1       0  50.0  50.0    0.0  1
proposal         2       1 200.0 100.0   15.0  2
negotiation      2       0 100.0 100.0    0.0  2
invoice          1       0  50.0  50.0   15.0  1
paid             1       0 100.0  50.0      -  1
"""


def table_of(funnel, managers: dict[str, int]) -> str:
    """The funnel in the layout of the expected tables above."""
    lines = ["stage        count refused prev  first median  " + "  ".join(managers)]
    for row in funnel.rows:
        median = "-" if row.median_days is None else f"{row.median_days:.1f}"
        cells = "  ".join(str(row.by_manager[pk]) for pk in managers.values())
        lines.append(
            f"{row.stage.key:<12}{row.count:>6}{row.refused:>8} {row.conversion_prev:>5.1f}"
            f" {row.conversion_first:>5.1f} {median:>6}  {cells}"
        )
    return "\n" + "\n".join(lines) + "\n"


def test_passed_in_period(history):
    # when
    funnel = compute_funnel(SYSTEM, **MARCH)
    # then
    assert table_of(funnel, history.managers) == EXPECTED_PERIOD
    assert [c.label for c in funnel.managers] == ["Иванов Иван", "Петрова Анна"]


def test_cohort(history):
    # when
    funnel = compute_funnel(SYSTEM, **MARCH, mode="cohort")
    # then
    assert table_of(funnel, history.managers) == EXPECTED_COHORT


def test_one_manager(history):
    # when
    funnel = compute_funnel(SYSTEM, **MARCH, managers=[history.managers["P"]])
    # then
    assert table_of(funnel, {"P": history.managers["P"]}) == EXPECTED_PETROVA
    assert [c.id for c in funnel.managers] == [history.managers["P"]]


def test_a_manager_confined_to_his_clients_sees_only_their_funnel(history, petrova):
    # given: «Менеджеры» read only the counterparties they manage (the default row rights)
    # when: Petrova opens the funnel of all managers
    funnel = compute_funnel(Actor.for_user(petrova), **MARCH)
    # then: it is her clients' funnel, the same as an administrator's funnel of her alone
    assert table_of(funnel, {"P": history.managers["P"]}) == EXPECTED_PETROVA
    assert {row.by_manager.get(history.managers["I"], 0) for row in funnel.rows} == {0}
    members = funnel_members(Actor.for_user(petrova), **MARCH, stage="cold")
    everyone = funnel_members(SYSTEM, **MARCH, stage="cold", managers=[history.managers["P"]])
    assert set(members.values_list("pk", flat=True)) == set(everyone.values_list("pk", flat=True))


def test_period_edges_move_counterparties(history):
    # given: February instead of March
    february = {"date_from": dt.date(2026, 2, 1), "date_to": dt.date(2026, 2, 28)}
    # when
    funnel = compute_funnel(SYSTEM, **february)
    # then: C created at 23:30 on 28.02 local time; its interested and G's proposal rows
    counts = {row.stage.key: row.count for row in funnel.rows}
    assert counts == {
        "cold": 1,
        "interested": 1,
        "proposal": 1,
        "negotiation": 0,
        "invoice": 0,
        "paid": 0,
    }
    members = funnel_members(SYSTEM, **february, stage="cold").values_list("pk", flat=True)
    assert history.names(members) == {"C"}


def test_api_shape(history):
    # when
    api = compute_funnel(SYSTEM, **MARCH).as_api()
    # then
    i, p = str(history.managers["I"]), str(history.managers["P"])
    assert api["stages"][0] == {
        "key": "cold",
        "label": "Холодный",
        "count": 5,
        "refused": 1,
        "conversion_prev": 100.0,
        "conversion_first": 100.0,
        "by_manager": {i: 3, p: 2},
    }
    assert api["stages"][4] == {
        "key": "invoice",
        "label": "Выписан счёт",
        "count": 2,
        "refused": 0,
        "conversion_prev": 66.7,
        "conversion_first": 40.0,
        "by_manager": {i: 1, p: 1},
    }
    assert [s["key"] for s in api["stages"]] == [
        "cold",
        "interested",
        "proposal",
        "negotiation",
        "invoice",
        "paid",
    ]


@pytest.mark.parametrize(
    ("mode", "stage", "manager", "refused", "expected"),
    [
        ("period", "cold", ALL_MANAGERS, False, {"A", "B", "D", "F", "H"}),
        ("period", "cold", "I", False, {"A", "B", "H"}),
        ("period", "interested", ALL_MANAGERS, False, {"A", "B", "D"}),
        ("period", "proposal", "P", False, {"C", "D"}),
        ("period", "negotiation", ALL_MANAGERS, False, {"A", "C", "D"}),
        ("period", "paid", ALL_MANAGERS, False, {"D"}),
        ("period", "cold", ALL_MANAGERS, True, {"H"}),
        ("period", "interested", "I", True, {"B"}),
        ("period", "proposal", "P", True, {"G"}),
        ("period", "proposal", "I", True, set()),
        ("cohort", "paid", ALL_MANAGERS, False, {"A", "D"}),
        ("cohort", "interested", "I", False, {"A", "B"}),
        ("cohort", "proposal", ALL_MANAGERS, True, set()),
    ],
)
def test_drill_down_lists_exactly_the_counted(history, mode, stage, manager, refused, expected):
    # given
    who = history.managers.get(manager, manager) if isinstance(manager, str) else manager
    # when
    members = funnel_members(
        SYSTEM, **MARCH, mode=mode, stage=stage, manager=who, refused=refused
    ).values_list("pk", flat=True)
    # then
    assert history.names(members) == expected


def test_drill_down_without_manager(history, table):
    # given: a March counterparty nobody manages
    from kartoteka.records.services import create_records

    from .conftest import local, set_created

    counterparties = table("counterparties")
    orphan = create_records(SYSTEM, counterparties, [{"name": "ООО «Ничей»"}])[0]
    set_created(counterparties, orphan.pk, local("2026-03-02 10:00"))
    # when
    funnel = compute_funnel(SYSTEM, **MARCH)
    members = funnel_members(SYSTEM, **MARCH, stage="cold", manager=None)
    # then
    assert [c.key for c in funnel.managers][-1] == "none"
    assert funnel.rows[0].count == 6
    assert funnel.rows[0].by_manager[None] == 1
    assert funnel.as_api()["stages"][0]["by_manager"]["none"] == 1
    assert list(members.values_list("pk", flat=True)) == [orphan.pk]


def test_empty_period_gives_zeros_not_errors(history):
    # when
    funnel = compute_funnel(SYSTEM, date_from=dt.date(2025, 6, 1), date_to=dt.date(2025, 6, 30))
    # then
    figures = [(r.count, r.conversion_prev, r.conversion_first, r.median_days) for r in funnel.rows]
    assert figures == [(0, 0.0, 0.0, None)] * 6
    assert funnel.managers == []


def test_stages_come_from_the_metadata(history, table, admin):
    # given: «Заинтересован» renamed and a stage added after «Получена оплата»
    from kartoteka.tables.modelfactory import field_of
    from kartoteka.tables.services import ChoiceSpec, change_field

    status = field_of(table("counterparties"), "status")
    choices = [
        ChoiceSpec(c.key, "Интерес" if c.key == "interested" else c.label, c.color)
        for c in status.choices.all()
        if c.key != "refused"
    ]
    choices += [ChoiceSpec("contract", "Договор"), ChoiceSpec("refused", "Отказ")]
    change_field(admin, status, choices=choices)
    # when
    funnel = compute_funnel(SYSTEM, **MARCH)
    # then
    assert [(r.stage.key, r.stage.label, r.count) for r in funnel.rows] == [
        ("cold", "Холодный", 5),
        ("interested", "Интерес", 3),
        ("proposal", "Отправлено предложение", 3),
        ("negotiation", "Переговоры", 3),
        ("invoice", "Выписан счёт", 2),
        ("paid", "Получена оплата", 1),
        ("contract", "Договор", 0),
    ]
    assert (funnel.rows[-1].conversion_prev, funnel.rows[-1].conversion_first) == (0.0, 0.0)


def test_bad_parameters_are_refused(crm):
    with pytest.raises(ReportError) as bad_mode:
        compute_funnel(SYSTEM, **MARCH, mode="weekly")
    with pytest.raises(ReportError) as bad_period:
        compute_funnel(SYSTEM, date_from=dt.date(2026, 3, 2), date_to=dt.date(2026, 3, 1))
    with pytest.raises(ReportError) as bad_stage:
        funnel_members(SYSTEM, **MARCH, stage="refused")
    assert (bad_mode.value.code, bad_period.value.code, bad_stage.value.code) == (
        "bad_mode",
        "bad_period",
        "unknown_stage",
    )


@pytest.mark.parametrize(
    ("histogram", "median"),
    [
        ({}, None),
        ({4: 1}, 4.0),
        ({1: 1, 2: 1, 4: 1}, 2.0),
        ({0: 1, 5: 1}, 2.5),
        ({0: 3, 10: 1}, 0.0),
        ({0: 2, 10: 2}, 5.0),
        ({1: 1, 7: 2, 30: 1}, 7.0),
    ],
)
def test_median_of_histogram(histogram, median):
    assert median_of_histogram(histogram) == median


@pytest.mark.parametrize("narrow", [True, False])
@pytest.mark.parametrize(
    ("mode", "expected"), [("period", EXPECTED_PERIOD), ("cohort", EXPECTED_COHORT)]
)
def test_both_reading_plans_give_the_same_funnel(history, monkeypatch, narrow, mode, expected):
    # given: the index-range plan and the whole-table plan (SQLite picks one by the data's span)
    monkeypatch.setattr(_FunnelQuery, "narrow", narrow)
    # when
    funnel = compute_funnel(SYSTEM, **MARCH, mode=mode)
    # then
    assert table_of(funnel, history.managers) == expected
    # and every number's drill-down has exactly that many counterparties
    for row in funnel.rows:
        for manager in [ALL_MANAGERS, *history.managers.values()]:
            for refused in (False, True):
                members = funnel_members(
                    SYSTEM,
                    **MARCH,
                    mode=mode,
                    stage=row.stage.key,
                    manager=manager,
                    refused=refused,
                )
                if manager is ALL_MANAGERS:
                    expected_count = row.refused if refused else row.count
                else:
                    per = row.refused_by_manager if refused else row.by_manager
                    expected_count = per[manager]
                assert members.count() == expected_count, (row.stage.key, manager, refused)
