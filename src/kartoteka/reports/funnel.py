"""«Воронка продаж» — the sales funnel report (SPEC §5), counted by SQL aggregation.

**Stages** are the options of «Контрагенты → Статус» in their order, without «Отказ» (key
``refused``). They are read from the metadata on every call, so stages an administrator renamed,
added or reordered are reported as they now stand; counting uses each stage's *position*, injected
into the SQL as a small derived table ``(key, position)`` joined to the rows, or as a ``CASE
status WHEN 'cold' THEN 0 …`` expression where a value is read once (a key that is no longer an
option, an empty status and «Отказ» get no position).

**Which work rows count.** Rows of «Работа с клиентом» that are done and active (archived and
deleted rows change no status, so they pass no stage either); a planned row (done = no) counts
when it is completed, at its date. A row *enters* stage S when its resulting status is S and its
«Статус до» is an earlier stage; it *passes S instantly* when it goes from a stage before S to a
stage after S (skipped stages count as passed on that row's date). A row with an empty or unknown
«Статус до» enters only the stage it results in. Rows that stay at the same stage change nothing.

**Mode «Прошли этап за период»** (``period``, the default). A counterparty counts at stage S if
during the period it entered S: the first stage counts counterparties *created* in the period
(``created_at`` between local midnights, time zone ``settings.TIME_ZONE``, Europe/Moscow by
default); every later stage counts counterparties with a row dated in the period that enters or
passes it. Each counterparty counts once per stage. The stages are flows, not a nested cohort: a
counterparty created last month that reached «Заинтересован» this month counts at
«Заинтересован» but not at the first stage, so a conversion above 100 % is possible and is shown
as it is.

**Mode «Когорта»** (``cohort``). The counterparties created in the period, each counted at every
stage up to the furthest it has reached to date — the highest position among its current status,
the results of its rows and the «Статус до» of its refusal rows (any date). A refused
counterparty thus counts up to the stage it refused at; one that reached «Выписан счёт» and
refused counts at every stage through «Выписан счёт».

**Refusals at a stage.** Counterparties with a done row whose result is «Отказ» and whose «Статус
до» is that stage: dated in the period (``period`` mode); at any date, among the cohort
(``cohort`` mode). A counterparty refused at a stage is still counted at that stage.

**Managers.** A counterparty is attributed to its *current* manager («Контрагенты → Менеджер»),
not to whoever wrote the rows: the report answers «how is each manager's client base moving».
``managers`` keeps only the counterparties of those users; counterparties without a manager are a
column of their own («Без менеджера», key ``none`` in the API) when no filter is given.

**Conversion**: count(S) / count(previous stage) × 100 and count(S) / count(first stage) × 100,
rounded to 0.1; 0 when the base is 0. The first stage's conversions are 100 % (0 % when empty).

**Median days to the next stage.** Over the counterparties counted at S that have moved on: the
whole days from entering S to first entering the next stage on or after that (at any date up to
now, also after the period). Entering the first stage is the local day of creation; a row that
skips stages enters all of them the same day, so those contribute 0 days. In ``period`` mode the
day S was entered is the first such day in the period; in ``cohort`` mode the first ever.

**Which counterparties**: those :func:`~kartoteka.records.selectors.base_queryset` gives the
actor (access rights plug in there), active or archived — an archived counterparty's history
happened — but not those in the trash.

**How it is read.** From the stage-entered facts the work-log rules keep
(:mod:`kartoteka.crm.funnel_facts`): the numbers from their per-day tally, the drill-down lists
from the facts, by :class:`_FactsQuery` — a range scan of a few hundred thousand tally rows for a
year, however many counterparties and work rows there are. The facts repeat what they need of
the counterparty (manager, creation day, trash) and are rewritten with every write, so they
give exactly the numbers of the work log; the tests compare the two on a random history. The
facts hold every counterparty not in the trash, so :meth:`_FactsQuery.usable` sends an actor
whose group confines him to some rows (a manager to his own clients) to the work log; the
drill-down lists start from the selector's queryset either way.

**From the work log.** While the facts are out of date (the stage options changed since they
were written, until ``kartoteka rebuild-funnel`` or ``kartoteka init``), the funnel is computed
from the work log directly. One SQL statement whose row sources are the selector's querysets
(compiled, so access rights hold), in layers (see :class:`_FunnelQuery`):

- ``y`` — one ``GROUP BY counterparty`` over the rows that *move* a counterparty (result ≠
  «Статус до»; most rows are calls that move nothing and are dropped by the cheapest test first):
  the first day it entered each stage; ``z`` — the same over refusal rows (few);
- ``x`` — counterparties (the selector's, filtered by manager / cohort) joined to ``y`` and ``z``:
  a row per counterparty that counts anywhere, with a 0/1 flag per stage for «counted» and
  «refused», and per stage the days to the next stage;
- ``x`` is materialised once and grouped twice: by manager (the counts) and, per stage, by the
  number of days (a histogram). The database returns at most managers + stages × distinct day
  counts rows, however many counterparties there are; Python adds the counts up and reads the
  exact median off the histogram (the mean of the two middle values for an even count, as
  ``percentile_cont(0.5)`` would) — the same statement on SQLite and PostgreSQL, no sort of every
  value, no row ever loaded into Python.

Planning notes. SQLite keeps no histograms and would walk a whole year of rows through the date
index with a lookup per row — several times slower than a plain scan — so on SQLite the span of
the data decides between an index range and a scan (:attr:`_FunnelQuery.narrow`). PostgreSQL
runs the statement without JIT (:func:`~kartoteka.reports.sql.analytic_session`): compiling its
expressions costs more than it saves. :func:`funnel_members` — the drill-down — applies the same
conditions to the same row sources as ``EXISTS`` subqueries, so a page of 50 counterparties costs
milliseconds and lists exactly the counterparties a number counts (the tests hold every number
against its list).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db import connection
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from kartoteka.access import rights
from kartoteka.core.actor import Actor
from kartoteka.crm.funnel_facts import ENTERED, NO_MANAGER, REFUSED_AT, facts_current
from kartoteka.crm.models import FunnelFact, FunnelTally
from kartoteka.crm.rules import REFUSED
from kartoteka.records.selectors import base_queryset, get_table
from kartoteka.reports.errors import ReportError
from kartoteka.reports.managers import ManagerColumn, manager_columns
from kartoteka.reports.period import Period
from kartoteka.reports.sql import (
    LocalDate,
    WithoutIndex,
    compile_queryset,
    day_param,
    days_between,
    fetch,
    stage_index,
)
from kartoteka.tables.fieldtypes.choice import choices_of
from kartoteka.tables.modelfactory import STATE_DELETED, field_of

MODE_PERIOD = "period"
MODE_COHORT = "cohort"
MODES = (MODE_PERIOD, MODE_COHORT)


class _All:
    def __repr__(self) -> str:
        return "ALL_MANAGERS"


#: ``manager=`` of :func:`funnel_members`: every manager of the report (the «Всего» column).
ALL_MANAGERS: Any = _All()


@dataclass(frozen=True)
class Stage:
    """A sales stage: the option's key, label and colour, and its position in the order."""

    key: str
    label: str
    color: str
    index: int


def funnel_stages(actor: Actor | None = None) -> list[Stage]:
    """The stages in order, from the options of «Контрагенты → Статус», without «Отказ»."""
    actor = actor or Actor.system("report")
    status = field_of(get_table(actor, "counterparties"), "status")
    options = [c for c in choices_of(status) if c.key != REFUSED]
    return [Stage(c.key, c.label, c.color or "#0d6efd", i) for i, c in enumerate(options)]


@dataclass
class FunnelRow:
    """One stage of the funnel: the «Всего» figures and the count per manager."""

    stage: Stage
    count: int = 0
    refused: int = 0
    conversion_prev: float = 0.0
    conversion_first: float = 0.0
    median_days: float | None = None
    by_manager: dict[int | None, int] = field(default_factory=dict)
    refused_by_manager: dict[int | None, int] = field(default_factory=dict)


@dataclass
class Funnel:
    """The computed funnel: stages in order (``rows``) × manager columns and the total."""

    period: Period
    mode: str
    managers: list[ManagerColumn]
    rows: list[FunnelRow]

    @property
    def refused(self) -> int:
        return sum(r.refused for r in self.rows)

    def as_api(self) -> dict[str, Any]:
        """The API's shape: ``{"stages": [{"key", "label", "count", "refused",
        "conversion_prev", "conversion_first", "by_manager": {"<user id>": n}}]}``;
        ``by_manager`` has every manager column of the report (``"none"``: no manager)."""
        return {
            "stages": [
                {
                    "key": row.stage.key,
                    "label": row.stage.label,
                    "count": row.count,
                    "refused": row.refused,
                    "conversion_prev": row.conversion_prev,
                    "conversion_first": row.conversion_first,
                    "by_manager": {m.key: row.by_manager.get(m.id, 0) for m in self.managers},
                }
                for row in self.rows
            ]
        }


def compute_funnel(
    actor: Actor,
    *,
    date_from: dt.date,
    date_to: dt.date,
    managers: Iterable[int] | None = None,
    mode: str = MODE_PERIOD,
) -> Funnel:
    """The sales funnel for a period (both days included), see the module docs for the rules.

    Args:
        actor: who asks; the counterparties and work rows are those the selector gives him.
        date_from: the first day of the period.
        date_to: the last day of the period.
        managers: user ids to keep (their counterparties only), or ``None`` for everyone.
        mode: ``"period"`` («прошли этап за период») or ``"cohort"`` («когорта»).

    Raises:
        ReportError: an unknown mode or ``date_from`` after ``date_to``.
    """
    from kartoteka.reports.access import FUNNEL_FIELDS, require_fields

    require_fields(actor, FUNNEL_FIELDS)
    query = _FunnelQuery(actor, Period(date_from, date_to), managers, mode)
    stages = query.stages
    tally = _FactsQuery(query).tally() if _FactsQuery.usable(query) else _tally_work_log(query)
    counts, refused, days = tally

    columns = manager_columns(
        query.managers, {m for per in (*counts, *refused) for m, n in per.items() if n}
    )
    rows: list[FunnelRow] = []
    for stage in stages:
        i = stage.index
        row = FunnelRow(
            stage=stage,
            count=sum(counts[i].values()),
            refused=sum(refused[i].values()),
            median_days=median_of_histogram(days[i]),
            by_manager={m.id: counts[i].get(m.id, 0) for m in columns},
            refused_by_manager={m.id: refused[i].get(m.id, 0) for m in columns},
        )
        first = rows[0].count if rows else row.count
        previous = rows[-1].count if rows else row.count
        row.conversion_prev = percent(row.count, previous)
        row.conversion_first = percent(row.count, first)
        rows.append(row)
    return Funnel(period=query.period, mode=mode, managers=columns, rows=rows)


Tally = tuple[list[dict[int | None, int]], list[dict[int | None, int]], list[dict[int, int]]]


def _tally_work_log(query: _FunnelQuery) -> Tally:
    """Counts and refusals per stage and manager, and per stage the histogram of days to the
    next stage, computed from the work log directly."""
    n = len(query.stages)
    counts: list[dict[int | None, int]] = [defaultdict(int) for _ in range(n)]
    refused: list[dict[int | None, int]] = [defaultdict(int) for _ in range(n)]
    days: list[dict[int, int]] = [defaultdict(int) for _ in range(n)]
    sql, params = query.aggregate_sql()
    for kind, key, to_next, *sums in fetch(sql, params):
        if kind == 0:  # a manager's counts: k0…, then refusals r0…
            for i in range(n):
                counts[i][key] += int(sums[i] or 0)
                refused[i][key] += int(sums[n + i] or 0)
        else:  # a histogram bar of stage ``key``: so many moved on after ``to_next`` days
            days[key][int(to_next)] += int(sums[0])
    return counts, refused, days


def funnel_members(
    actor: Actor,
    *,
    date_from: dt.date,
    date_to: dt.date,
    managers: Iterable[int] | None = None,
    mode: str = MODE_PERIOD,
    stage: str,
    manager: int | None = ALL_MANAGERS,
    refused: bool = False,
) -> QuerySet:
    """The counterparties behind one number of the funnel, as a queryset of «Контрагенты».

    ``stage`` is the stage key; ``manager`` a user id, ``None`` (no manager) or
    :data:`ALL_MANAGERS` (the «Всего» column); ``refused`` picks the refusals at the stage instead
    of the count. The conditions are those :func:`compute_funnel` counts by, over the same row
    sources, written as ``EXISTS`` subqueries: a page of 50 does not need the whole funnel.

    Raises:
        ReportError: an unknown mode or stage, or ``date_from`` after ``date_to``.
    """
    from kartoteka.reports.access import FUNNEL_FIELDS, require_fields

    require_fields(actor, FUNNEL_FIELDS)
    query = _FunnelQuery(actor, Period(date_from, date_to), managers, mode)
    index = next((s.index for s in query.stages if s.key == stage), None)
    if index is None:
        raise ReportError(
            _("Нет такого этапа воронки: «%(stage)s».") % {"stage": stage}, code="unknown_stage"
        )
    if _FactsQuery.usable(query):
        members = _FactsQuery(query).members(index, manager, refused)
    else:
        members = query.members(index, manager, refused)
    return members.select_related("manager").order_by("name", "id")


def percent(part: int, base: int) -> float:
    """``part / base × 100`` rounded to 0.1; 0 when the base is 0."""
    return round(part * 100 / base, 1) if base else 0.0


def median_of_histogram(histogram: dict[int, int]) -> float | None:
    """The median of values given as ``{value: how many}``; ``None`` when there are none."""
    total = sum(histogram.values())
    if not total:
        return None
    ordered = sorted((value, n) for value, n in histogram.items() if n)

    def nth(position: int) -> int:
        seen = 0
        for value, n in ordered:
            seen += n
            if position < seen:
                return value
        raise IndexError(position)

    if total % 2:
        return float(nth(total // 2))
    return (nth(total // 2 - 1) + nth(total // 2)) / 2


class _FunnelQuery:
    r"""Builds the funnel's SQL for one set of parameters (see the module docs).

    Three layers, each a derived table of the next:

    1. ``y`` — per counterparty, from its stage-moving work rows: ``a<s>`` the first day it
       entered stage *s* (from the period's start on, in ``period`` mode) and in ``cohort``
       mode ``hmax``, the furthest result; ``z`` — per counterparty, from its refusal rows:
       ``r<s>`` whether it refused at *s*, ``rmax`` the furthest such stage;
    2. ``x`` — one row per counterparty that counts anywhere: ``id``, ``m`` (manager),
       ``k<s>`` (counted at *s*: 0/1), ``r<s>`` (refused at *s*: 0/1), ``dd<s>`` (days from
       entering *s* to entering the next stage, or NULL);
    3. the statement — ``x`` materialised once, then the counts per manager and one histogram of
       ``dd<s>`` per stage, as ``UNION ALL`` of small ``GROUP BY``\ s.

    In ``period`` mode a stage's entry in the period is its first entry from the period's start
    on, when that falls on or before the period's end: the first such day in the period is the
    same day, so one ``MIN`` per stage serves both the count and the median.
    """

    def __init__(
        self, actor: Actor, period: Period, managers: Iterable[int] | None, mode: str
    ) -> None:
        if mode not in MODES:
            raise ReportError(
                _("Неизвестный режим воронки «%(mode)s»: допустимо period или cohort.")
                % {"mode": mode},
                code="bad_mode",
            )
        if period.date_from > period.date_to:
            raise ReportError(_("Начало периода позже его конца."), code="bad_period")
        self.actor = actor
        self.period = period
        self.managers = None if managers is None else sorted({int(m) for m in managers})
        self.mode = mode
        self.counterparties = get_table(actor, "counterparties")
        self.work = get_table(actor, "client_work")
        self.stages = funnel_stages(actor)
        self.keys = [s.key for s in self.stages]

    # -- row sources (the selector's querysets) -------------------------------------------------

    def _counterparty_queryset(self) -> QuerySet:
        qs = base_queryset(self.actor, self.counterparties, state=None).exclude(
            record_state=STATE_DELETED
        )
        if self.managers is not None:
            qs = qs.filter(manager__in=self.managers)
        if self.mode == MODE_COHORT:
            qs = qs.filter(created_at__gte=self.period.start, created_at__lt=self.period.end)
        return qs.order_by()

    def _counterparty_source(self) -> tuple[str, list[Any]]:
        start, end = self.period.start, self.period.end
        if self.mode == MODE_COHORT:
            in_period: Any = Value(1, output_field=IntegerField())
        else:
            created = Q(created_at__gte=start, created_at__lt=end)
            in_period = Case(When(created, then=Value(1)), default=Value(0))
        qs = self._counterparty_queryset().values(
            "id",
            m=F("manager"),
            st=stage_index("status", self.keys),
            cd=LocalDate("created_at", start=start, end=end),
            c0=in_period,
        )
        return compile_queryset(qs)

    def _work_queryset(self) -> QuerySet:
        """Done, active rows that carry a status, through the selector."""
        qs = base_queryset(self.actor, self.work).filter(done=True, status__isnull=False)
        if self.mode == MODE_COHORT and (connection.vendor == "postgresql" or self.narrow):
            # A small cohort: only its counterparties' rows (through the index on the link).
            qs = qs.filter(counterparty__in=self._counterparty_queryset().values("id"))
        return qs

    def _day(self) -> Any:
        """The row's date — through its index when the period is recent, by a plain scan when
        not (see :attr:`narrow`)."""
        return F("date") if self.narrow else WithoutIndex(F("date"))

    def moves(self) -> QuerySet:
        """Rows that change the stage: from the period's start on (``period`` mode), of the
        cohort (``cohort``). A row that stays where it was (most calls) passes nothing, and
        skipping it before any other work is what keeps the funnel fast."""
        qs = self._work_queryset().filter(status__in=self.keys)
        qs = qs.exclude(status=Coalesce(F("status_before"), Value("")))
        if self.mode == MODE_PERIOD:
            qs = qs.alias(day=self._day()).filter(day__gte=self.period.date_from)
        return qs.order_by()

    def refusals(self) -> QuerySet:
        """Refusal rows at a stage — dated in the period (``period`` mode) or any (``cohort``);
        rows of an already refused counterparty («Отказ» → «Отказ») refuse nothing new."""
        qs = self._work_queryset().filter(status=REFUSED, status_before__in=self.keys)
        if self.mode == MODE_PERIOD:
            qs = qs.alias(day=self._day()).filter(
                day__gte=self.period.date_from, day__lte=self.period.date_to
            )
        return qs.order_by()

    def _moves_source(self) -> tuple[str, list[Any]]:
        qs = self.moves().values(
            cp=F("counterparty"), d=F("date"), st=F("status"), sb=F("status_before")
        )
        return compile_queryset(qs)

    def _refusals_source(self) -> tuple[str, list[Any]]:
        """Refusal rows with the position of the stage refused at: they are few, so a ``CASE``
        per row costs nothing."""
        qs = self.refusals().values(
            cp=F("counterparty"), lo=stage_index("status_before", self.keys)
        )
        return compile_queryset(qs)

    def _stage_table(self) -> tuple[str, list[Any]]:
        """The stage positions as a small derived table ``(k, i)``: joined to a row's status,
        it gives the position once per row instead of a ``CASE`` per use."""
        sql = " UNION ALL ".join(f"SELECT %s AS k, {i} AS i" for i in range(len(self.keys)))
        return f"({sql})", list(self.keys)

    @cached_property
    def narrow(self) -> bool:
        """Whether the rows to read are a small part of the table, so that reading them through
        an index beats reading the whole table.

        PostgreSQL's planner knows that from its statistics. SQLite's does not (it keeps no
        histograms), and reading millions of rows through an index, with a row lookup for each,
        costs several times a plain scan — so on SQLite the span of the data decides: the rows
        needed are work rows from the period's start on (``period`` mode) or counterparties
        created in the period (``cohort``); under a quarter of the span is narrow. Two index
        probes (the first and last value) answer it.
        """
        if connection.vendor != "sqlite":
            return True
        if self.mode == MODE_PERIOD:
            table, column = self.work, "date"
            start, end = self.period.date_from, None
        else:
            table, column = self.counterparties, "created_at"
            start, end = self.period.start, self.period.end
        rows = base_queryset(self.actor, table, state=None).values_list(column, flat=True)
        low = rows.order_by(column).first()
        high = rows.order_by(f"-{column}").first()
        if low is None or high is None or high == low:
            return True
        wanted = min(end or high, high) - max(start, low)
        return wanted * 4 < (high - low)

    # -- the per-counterparty rows --------------------------------------------------------------

    def _per_counterparty(self) -> tuple[str, list[Any]]:
        """``y``: the first entry into every stage after the first and, in ``cohort`` mode, the
        furthest stage the rows reached.

        A row enters the stages above its «Статус до» up to its result: ``lo < s <= hi``, with
        ``lo = hi - 1`` when «Статус до» is empty or not a stage (it enters its result only).
        """
        n = len(self.stages)
        moves_sql, moves_params = self._moves_source()
        stages_sql, stages_params = self._stage_table()
        columns = ["w.cp AS cp"]
        columns += [
            f"MIN(CASE WHEN w.lo < {s} AND w.hi >= {s} THEN w.d END) AS a{s}" for s in range(1, n)
        ]
        if self.mode == MODE_COHORT:
            columns.append("MAX(w.hi) AS hmax")
        rows = (
            "SELECT m.cp AS cp, m.d AS d, hi.i AS hi, COALESCE(lo.i, hi.i - 1) AS lo "
            f"FROM ({moves_sql}) m JOIN {stages_sql} hi ON hi.k = m.st "
            f"LEFT JOIN {stages_sql} lo ON lo.k = m.sb"
        )
        sql = f"SELECT {', '.join(columns)} FROM ({rows}) w GROUP BY w.cp"
        return sql, [*moves_params, *stages_params, *stages_params]

    def _refusals(self) -> tuple[str, list[Any]]:
        """``z``: per counterparty, whether it refused at each stage, and the furthest such."""
        n = len(self.stages)
        refusals_sql, params = self._refusals_source()
        columns = ["r.cp AS cp", "MAX(r.lo) AS rmax"]
        columns += [f"MAX(CASE WHEN r.lo = {s} THEN 1 ELSE 0 END) AS r{s}" for s in range(n)]
        return f"SELECT {', '.join(columns)} FROM ({refusals_sql}) r GROUP BY r.cp", params

    def counterparty_rows_sql(self) -> tuple[str, list[Any]]:
        """``x``: one row per counterparty that counts anywhere (see the class docs)."""
        n = len(self.stages)
        cp_sql, cp_params = self._counterparty_source()
        y_sql, y_params = self._per_counterparty()
        z_sql, z_params = self._refusals()
        columns = ["c.id AS id", "c.m AS m"]
        if self.mode == MODE_PERIOD:
            to = _date_literal(self.period.date_to)
            columns.append("c.c0 AS k0")
            columns += [f"CASE WHEN y.a{s} <= {to} THEN 1 ELSE 0 END AS k{s}" for s in range(1, n)]
            # Entering the first stage is the day of creation; a later one, its first day in
            # the period.
            start = ["CASE WHEN c.c0 = 1 THEN c.cd END"]
            start += [f"CASE WHEN y.a{s} <= {to} THEN y.a{s} END" for s in range(1, n)]
            where = " WHERE c.c0 = 1 OR y.cp IS NOT NULL OR z.cp IS NOT NULL"
        else:
            columns.append("1 AS k0")
            columns += [
                f"CASE WHEN c.st >= {s} OR y.hmax >= {s} OR z.rmax >= {s} THEN 1 ELSE 0 END AS k{s}"
                for s in range(1, n)
            ]
            start = ["c.cd", *[f"y.a{s}" for s in range(1, n)]]
            where = ""
        columns += [f"COALESCE(z.r{s}, 0) AS r{s}" for s in range(n)]
        columns += self._days_columns(start, [f"y.a{s}" for s in range(1, n)])
        sql = (
            f"SELECT {', '.join(columns)} FROM ({cp_sql}) c "
            f"LEFT JOIN ({y_sql}) y ON y.cp = c.id LEFT JOIN ({z_sql}) z ON z.cp = c.id"
        )
        return sql + where, [*cp_params, *y_params, *z_params]

    def _days_columns(self, start: list[str], following: list[str]) -> list[str]:
        """``dd<s>``: days from ``start[s]`` to ``following[s]`` (the next stage's entry) when
        the next stage was entered on or after it; the last stage has no next."""
        columns = []
        for s in range(len(self.stages)):
            if s + 1 < len(self.stages):
                begin, end = start[s], following[s]
                columns.append(
                    f"CASE WHEN {end} >= {begin} THEN {days_between(end, begin)} END AS dd{s}"
                )
            else:
                columns.append(f"CAST(NULL AS INTEGER) AS dd{s}")
        return columns

    # -- the statements -------------------------------------------------------------------------

    def aggregate_sql(self) -> tuple[str, list[Any]]:
        """Rows ``(0, manager, NULL, k0…, r0…)`` — the counts and refusals of each manager —
        and ``(1, stage, days, how many, NULL…)`` — the histogram of days to the next stage."""
        n = len(self.stages)
        rows_sql, params = self.counterparty_rows_sql()
        sums = [f"SUM(k{s})" for s in range(n)] + [f"SUM(r{s})" for s in range(n)]
        parts = [f"SELECT 0, m, CAST(NULL AS INTEGER), {', '.join(sums)} FROM x GROUP BY m"]
        blanks = ", ".join(["NULL"] * (2 * n - 1))
        parts += [
            f"SELECT 1, {s}, dd{s}, COUNT(*), {blanks} FROM x "
            f"WHERE dd{s} IS NOT NULL GROUP BY dd{s}"
            for s in range(n - 1)
        ]
        return f"WITH x AS MATERIALIZED ({rows_sql}) {' UNION ALL '.join(parts)}", params

    def members_of(self, manager: Any) -> QuerySet:
        """The report's counterparties of one column: a user id, ``None`` or ALL_MANAGERS."""
        qs = self._counterparty_queryset()
        if manager is None:
            return qs.filter(manager__isnull=True)
        if manager is not ALL_MANAGERS:
            return qs.filter(manager=int(manager))
        return qs

    def members(self, stage: int, manager: Any, refused: bool) -> QuerySet:
        """The counterparties counted at (or refused at) ``stage``, for :func:`funnel_members`.

        The same conditions as ``x``: counted at a later stage in ``period`` mode — a move in
        the period with ``lo < stage <= hi``; in ``cohort`` mode — its status, a move's result or
        a refusal's «Статус до» at ``stage`` or beyond; refused — a refusal row at ``stage``.
        """
        qs = self.members_of(manager)
        hi = stage_index("status", self.keys)
        lo = Coalesce(stage_index("status_before", self.keys), hi - 1)
        moves = self.moves().alias(hi=hi, lo=lo).filter(counterparty=OuterRef("pk"))
        refusals = self.refusals().alias(lo=stage_index("status_before", self.keys))
        refusals = refusals.filter(counterparty=OuterRef("pk"))
        if refused:
            return qs.filter(Exists(refusals.filter(lo=stage)))
        if self.mode == MODE_PERIOD:
            if stage == 0:
                return qs.filter(created_at__gte=self.period.start, created_at__lt=self.period.end)
            entered = moves.filter(lo__lt=stage, hi__gte=stage, date__lte=self.period.date_to)
            return qs.filter(Exists(entered))
        if stage == 0:
            return qs
        return qs.alias(st=stage_index("status", self.keys)).filter(
            Q(st__gte=stage)
            | Exists(moves.filter(hi__gte=stage))
            | Exists(refusals.filter(lo__gte=stage))
        )


class _FactsQuery:
    """The funnel read from the stage-entered facts (:class:`~kartoteka.crm.models.FunnelFact`)
    summed per day (:class:`~kartoteka.crm.models.FunnelTally`) — the same numbers as
    :class:`_FunnelQuery` computes from the work log, by one range scan of the tally.

    ``period`` mode counts the facts dated in the period that are their counterparty's first
    entry into the stage on or after the period's start (``prev_day`` before it) — exactly one
    per counterparty and stage entered in the period, the creation facts being stage 0 — and
    their days to the next stage unless it was entered between the period's start and the fact
    (``next_before``). ``cohort`` mode counts the first facts ever of counterparties created in
    the period, the creation fact's ``furthest`` giving the stages counted. A year is a few
    hundred thousand tally rows at most, whatever the number of counterparties; grouped, the
    database returns a few thousand, and Python adds up the counts and the histograms.
    """

    def __init__(self, query: _FunnelQuery) -> None:
        self.query = query

    @staticmethod
    def usable(query: _FunnelQuery) -> bool:
        """Whether the facts hold the funnel's stages as they now stand, and the actor reads
        every counterparty and work row (the facts know nothing of row rights: an actor confined
        to some rows — a manager to his own clients — is counted from the work log, whose row
        sources are the selector's querysets)."""
        if rights.row_q(query.actor, query.counterparties) is not None:
            return False
        if rights.row_q(query.actor, query.work) is not None:
            return False
        return facts_current(query.keys)

    def tally(self) -> Tally:
        query = self.query
        n = len(query.stages)
        counts: list[dict[int | None, int]] = [defaultdict(int) for _ in range(n)]
        refused: list[dict[int | None, int]] = [defaultdict(int) for _ in range(n)]
        days: list[dict[int, int]] = [defaultdict(int) for _ in range(n)]
        sql, params = self.aggregate_sql()
        for basis, kind, stage, manager, furthest, to_next, number in fetch(sql, params):
            who = None if manager == NO_MANAGER else manager
            number = int(number)
            if basis not in (0, 3):  # a bar of a histogram of days to the next stage
                if to_next is not None:
                    days[stage][int(to_next)] += number
            elif kind == REFUSED_AT:
                refused[stage][who] += number
            elif basis == 0:
                counts[stage][who] += number
            else:  # the cohort counts every stage up to the furthest reached
                for reached in range(min(max(furthest, 0), n - 1) + 1):
                    counts[reached][who] += number
        return counts, refused, days

    def aggregate_sql(self) -> tuple[str, list[Any]]:
        """Rows ``(basis, kind, stage, manager, furthest, days to the next stage, how many)``
        of the tally (see :class:`~kartoteka.crm.models.FunnelTally` for the bases)."""
        query = self.query
        date_from, date_to = day_param(query.period.date_from), day_param(query.period.date_to)
        table = FunnelTally._meta.db_table
        every = query.managers is None
        if query.mode == MODE_PERIOD:
            bases = (0, 2 if every else 1)
            to_next = "CASE WHEN basis > 0 AND next_before < %s THEN to_next END"
            where = "day >= %s AND day <= %s AND prev_day < %s"
            params = [date_from, date_from, date_to, date_from]
        else:
            bases = (3, 5 if every else 4)
            to_next = "CASE WHEN basis > 3 THEN to_next END"
            where = "day >= %s AND day <= %s"
            params = [date_from, date_to]
        where = f"basis IN ({bases[0]}, {bases[1]}) AND {where}"
        if query.managers is not None:
            if query.managers:
                where += f" AND manager_id IN ({', '.join(['%s'] * len(query.managers))})"
                params += query.managers
            else:
                where += " AND 1 = 0"
        sql = (
            f"SELECT basis, kind, stage, manager_id, furthest, {to_next}, SUM(n) FROM {table} "
            f"WHERE {where} GROUP BY 1, 2, 3, 4, 5, 6"
        )
        return sql, params

    def members(self, stage: int, manager: Any, refused: bool) -> QuerySet:
        """The counterparties behind one number, by the same conditions as :meth:`tally`: a
        fact of the stage in the period (``period``), the creation fact's ``furthest``
        (``cohort``), a refusal fact at the stage."""
        query = self.query
        qs = query.members_of(manager)
        period = query.period
        facts = FunnelFact.objects.filter(counterparty_id=OuterRef("pk"))
        in_period = Q(day__gte=period.date_from, day__lte=period.date_to)
        if refused:
            facts = facts.filter(kind=REFUSED_AT, stage=stage)
            return qs.filter(
                Exists(facts.filter(in_period) if query.mode == MODE_PERIOD else facts)
            )
        if query.mode == MODE_PERIOD:
            if stage == 0:
                return qs.filter(created_at__gte=period.start, created_at__lt=period.end)
            return qs.filter(Exists(facts.filter(in_period, kind=ENTERED, stage=stage)))
        if stage == 0:
            return qs
        return qs.filter(Exists(facts.filter(kind=ENTERED, stage=0, furthest__gte=stage)))


def _date_literal(day: dt.date) -> str:
    """A date as an SQL literal (safe: made from a ``date``, digits and dashes only)."""
    text = day.isoformat()
    return f"DATE '{text}'" if connection.vendor == "postgresql" else f"'{text}'"
