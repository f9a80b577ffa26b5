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
    :class:`FunnelFactsState`; when the options change the facts are rebuilt.
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


class FunnelFactsState(models.Model):
    """One row: the stage keys, in order, the facts were written with (comma-separated).

    Facts are current when this equals the stages now; otherwise the report computes from the
    work log directly until the facts are rebuilt."""

    stages = models.TextField()

    class Meta:
        db_table = "crm_funnel_facts_state"

    def __str__(self) -> str:
        return self.stages
