"""Stage-entered facts: the sales funnel's own compact table (SPEC §5).

The funnel report (:mod:`kartoteka.reports.funnel`) counts, for a period, the counterparties
that *entered* each stage. Working that out from «Работа с клиентом» means grouping millions of
work rows by counterparty on every request; instead the work-log rules keep these facts in the
same transaction as every write (:mod:`kartoteka.crm.funnel_facts`), and the report reads them
with one range scan. They are derived data: ``kartoteka rebuild-funnel`` makes them again from
the work log at any time.
"""

from __future__ import annotations

from django.db import models


class FunnelFact(models.Model):
    """A counterparty entering a stage (``kind`` 0) or refusing at it (``kind`` 1) on ``day``.

    One row per counterparty, kind, stage and distinct day:

    - ``stage`` 0, kind 0, is the counterparty's creation (``day`` = ``created_day``, its local
      calendar day); that row alone carries ``furthest``, the furthest stage reached to date
      (the cohort mode counts every stage up to it);
    - a work row that moves the counterparty enters every stage above its «Статус до» up to
      its result, so a skip writes a fact for each stage it jumps over;
    - a refusal row («Отказ») is a kind-1 fact at the stage of its «Статус до».

    ``prev_day`` is the previous day the same counterparty entered the same stage (``NULL`` for
    the first): a fact is the counterparty's first entry on or after a day ``F`` exactly when
    ``day >= F`` and ``prev_day`` is ``NULL`` or before ``F`` — each counterparty is counted once
    per stage without a ``DISTINCT``. ``to_next`` is the whole days to the first entry of the
    next stage on or after ``day``, and ``next_before`` the last entry of the next stage before
    ``day`` (``NULL`` when none): the days to the next stage, as the report defines them for a
    period starting ``F``, are ``to_next`` when ``next_before`` is ``NULL`` or before ``F``.

    ``manager_id`` and ``created_day`` repeat the counterparty's current manager and creation
    day so the report never joins the counterparties. Counterparties in the trash have no facts.
    Stage numbers are positions in the order of the status options recorded in
    :class:`FunnelFactsState`; when the options change the facts must be rebuilt.
    """

    counterparty_id = models.BigIntegerField()
    manager_id = models.BigIntegerField(null=True)
    created_day = models.DateField()
    kind = models.SmallIntegerField()
    stage = models.SmallIntegerField()
    day = models.DateField()
    prev_day = models.DateField(null=True)
    to_next = models.IntegerField(null=True)
    next_before = models.DateField(null=True)
    furthest = models.SmallIntegerField(null=True)

    class Meta:
        db_table = "crm_funnel_fact"
        indexes = [
            models.Index(fields=["day", "kind", "stage"], name="crm_funnel_fact_day"),
            models.Index(fields=["created_day", "kind", "stage"], name="crm_funnel_fact_cohort"),
            models.Index(fields=["counterparty_id", "kind", "stage"], name="crm_funnel_fact_cp"),
        ]

    def __str__(self) -> str:
        return f"{self.counterparty_id}:{self.kind}:{self.stage}@{self.day}"


class FunnelTally(models.Model):
    """How many facts share one set of values — the funnel's numbers summed per day.

    A year of facts is millions of rows; the funnel for a year needs only their counts per day,
    stage and manager and, for the medians, per number of days to the next stage: a few
    hundred thousand rows at most however many counterparties there are. Each fact adds one to
    up to three ``basis`` rows for each mode (:func:`kartoteka.crm.funnel_facts.tallies`):

    - 0 — «passed in period», the counts: by ``day`` (the fact's), kind, stage, manager and
      ``prev_day``;
    - 1 and 2 — «passed in period», days to the next stage (entries with a next stage): as 0,
      plus ``next_before`` and ``to_next``; 1 per manager, 2 for all managers together;
    - 3 — «cohort», the counts: by ``day`` = the creation day, kind, stage, manager and, on the
      creation fact, ``furthest`` (first entries and refusals only);
    - 4 and 5 — «cohort», days to the next stage of first entries whose next stage was not
      entered earlier: 4 per manager, 5 for all.

    Unused values are stored as sentinels rather than ``NULL`` so that the unique key holds:
    ``0001-01-01`` for no date (it compares like ``NULL`` does in «``NULL`` or before the
    period»), ``-1`` for no number, manager ``0`` for no manager and ``-1`` for all managers.
    The rules keep it by adding the differences of the facts they rewrite (``n`` may fall to 0);
    a rebuild writes it from the facts.
    """

    basis = models.SmallIntegerField()
    day = models.DateField()
    kind = models.SmallIntegerField()
    stage = models.SmallIntegerField()
    manager_id = models.BigIntegerField()
    furthest = models.SmallIntegerField()
    prev_day = models.DateField()
    next_before = models.DateField()
    to_next = models.IntegerField()
    n = models.BigIntegerField()

    class Meta:
        db_table = "crm_funnel_tally"
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "basis",
                    "day",
                    "kind",
                    "stage",
                    "manager_id",
                    "furthest",
                    "prev_day",
                    "next_before",
                    "to_next",
                ],
                name="crm_funnel_tally_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.basis}@{self.day}:{self.kind}:{self.stage}={self.n}"


class FunnelFactsState(models.Model):
    """One row: the layout version and the stage keys, in order, the facts and the tally were
    written with (``"2:cold,interested,…"``).

    They are current when this equals the layout and stages now; otherwise the report computes
    from the work log directly until they are rebuilt (``kartoteka init`` does it)."""

    stages = models.TextField()

    class Meta:
        db_table = "crm_funnel_facts_state"

    def __str__(self) -> str:
        return self.stages
