"""«Рабочий стол», the home page: a user's widgets, each computed on its own request.

The page draws only the frame — one card per widget with an ``hx-get`` that loads it — so a slow
widget never holds the page. A user's desktop is his own widgets; until he changes it, his
group's default (set by an administrator), and without one :data:`DEFAULT_KINDS`. Every widget
reads through the records selectors with the viewer's rights.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, NotFound, PermissionDenied
from kartoteka.records.selectors import Condition, get_table, list_records, readable_record_ids
from kartoteka.reports import selectors
from kartoteka.reports.models import WIDGETS, DesktopWidget, SalesPlan

DEFAULT_KINDS = ("tasks_today", "tasks_overdue", "invoices_due", "events")
KIND_LABELS = dict(WIDGETS)
LIST_SIZE = 8
OPEN_TASK_STATES = ("new", "in_progress")


class DesktopError(KartotekaError):
    code = "desktop"


@dataclass
class Slot:
    """A widget on a desktop: what it is and (for a report) which report."""

    kind: str
    report_id: int | None = None
    report_name: str = ""

    @property
    def label(self) -> str:
        return self.report_name if self.kind == "report" else str(KIND_LABELS[self.kind])


def _slots(widgets: list[DesktopWidget]) -> list[Slot]:
    return [
        Slot(w.kind, w.report_id, w.report.name if w.report_id and w.report else "")
        for w in widgets
    ]


def desktop(actor: Actor) -> list[Slot]:
    """The actor's widgets in order: his own, else his group's default, else the built-in one."""
    user = actor.user
    own = list(DesktopWidget.objects.filter(user=user).select_related("report"))
    if own:  # an emptied desktop keeps one blank row: it stays empty
        return _slots([w for w in own if w.kind])
    group = user.groups.order_by("id").first() if user is not None else None
    if group is not None:
        defaults = list(DesktopWidget.objects.filter(group=group).select_related("report"))
        if defaults:
            return _slots(defaults)
    return [Slot(kind) for kind in DEFAULT_KINDS]


def _check(actor: Actor, slot: Slot) -> None:
    if slot.kind not in KIND_LABELS:
        raise DesktopError(_("Неизвестный виджет «%(kind)s».") % {"kind": slot.kind})
    if slot.kind == "report":
        if slot.report_id is None:
            raise DesktopError(_("Выберите отчёт для виджета."))
        selectors.get_report(actor, slot.report_id)


def set_desktop(actor: Actor, slots: list[Slot], *, group: Group | None = None) -> list[Slot]:
    """Replace the actor's desktop (or, for an administrator, ``group``'s default) with
    ``slots`` in this order. Each report must be one the actor may open."""
    if group is not None and not actor.is_admin:
        raise PermissionDenied(_("Рабочий стол группы настраивает администратор."))
    for slot in slots:
        _check(actor, slot)
    owner = {"group": group} if group is not None else {"user": actor.user}
    with transaction.atomic():
        DesktopWidget.objects.filter(**owner).delete()
        rows = [
            DesktopWidget(kind=s.kind, report_id=s.report_id, position=i, **owner)
            for i, s in enumerate(slots)
        ]
        if not rows and group is None:
            rows = [DesktopWidget(kind="", **owner)]
        DesktopWidget.objects.bulk_create(rows)
    return slots


def add_widget(actor: Actor, kind: str, report_id: int | None = None) -> list[Slot]:
    slots = desktop(actor)
    new = Slot(kind, report_id if kind == "report" else None)
    _check(actor, new)
    if any(s.kind == new.kind and s.report_id == new.report_id for s in slots):
        raise DesktopError(_("Этот виджет уже на рабочем столе."))
    return set_desktop(actor, [*slots, new])


def remove_widget(actor: Actor, index: int) -> list[Slot]:
    slots = desktop(actor)
    if not 0 <= index < len(slots):
        raise NotFound(_("Виджета нет на рабочем столе."))
    return set_desktop(actor, slots[:index] + slots[index + 1 :])


def move_widgets(actor: Actor, order: list[int]) -> list[Slot]:
    """Reorder: ``order`` lists the current positions in their new order (drag and drop)."""
    slots = desktop(actor)
    if sorted(order) != list(range(len(slots))):
        raise DesktopError(_("Порядок виджетов не совпадает с рабочим столом: обновите страницу."))
    return set_desktop(actor, [slots[i] for i in order])


# -- the widgets' contents -----------------------------------------------------------------------


def _today_bounds() -> tuple[dt.datetime, dt.datetime]:
    today = timezone.localdate()
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    return start, start + dt.timedelta(days=1)


def _records(actor: Actor, key: str, conditions: list[Condition], order: str) -> dict[str, Any]:
    table = get_table(actor, key)
    qs = list_records(actor, table, conditions=conditions, ordering=[order])
    rows = list(qs[: LIST_SIZE + 1])
    return {"table": table, "records": rows[:LIST_SIZE], "more": len(rows) > LIST_SIZE}


def widget_context(actor: Actor, slot: Slot) -> dict[str, Any]:
    """What a widget shows; ``NotFound`` when its table (or report) is not the actor's."""
    now = timezone.now()
    if slot.kind == "report":
        from kartoteka.reports import own
        from kartoteka.reports.builder import ReportDefinitionError, run_report
        from kartoteka.reports.own_views import saved_definition

        assert slot.report_id is not None
        report = selectors.get_report(actor, slot.report_id)
        try:
            result = run_report(actor, saved_definition(report))
        except ReportDefinitionError as exc:
            return {"report": report, "problems": exc.problems}
        return {
            "report": report,
            "chart": own.report_chart(result, testid=f"widget-chart-{report.pk}"),
        }
    mine = Condition("assignee", "current_user")
    if slot.kind == "tasks_today":
        start, end = _today_bounds()
        return _records(
            actor,
            "tasks",
            [
                mine,
                Condition("deadline", "gte", start.isoformat()),
                Condition("deadline", "lt", end.isoformat()),
                Condition("state", "in", list(OPEN_TASK_STATES)),
            ],
            "deadline",
        )
    if slot.kind == "tasks_overdue":
        return _records(
            actor,
            "tasks",
            [
                mine,
                Condition("deadline", "lt", now.isoformat()),
                Condition("state", "in", list(OPEN_TASK_STATES)),
            ],
            "deadline",
        )
    if slot.kind == "events":
        return _records(actor, "events", [Condition("start", "gte", now.isoformat())], "start")
    if slot.kind == "invoices_due":
        return _records(
            actor,
            "invoices",
            [Condition("paid", "eq", "0"), Condition("due_date", "not_empty")],
            "due_date",
        )
    if slot.kind == "web_leads":
        return _web_leads(actor)
    if slot.kind == "sales_plan":
        return sales_plan(actor, timezone.localdate().replace(day=1))
    raise NotFound(_("Неизвестный виджет."))


def _web_leads(actor: Actor) -> dict[str, Any]:
    """Records the site's forms made in the last 7 days that the actor may read."""
    from kartoteka.tables.modelfactory import model_for
    from kartoteka.webforms.models import WebFormSubmission

    since = timezone.now() - dt.timedelta(days=7)
    submissions = (
        WebFormSubmission.objects.filter(
            created_at__gte=since, outcome__in=WebFormSubmission.ACCEPTED, record_id__isnull=False
        )
        .select_related("form__table")
        .order_by("-id")[:200]
    )
    leads: list[dict[str, Any]] = []
    by_table: dict[Any, list[WebFormSubmission]] = {}
    for s in submissions:
        by_table.setdefault(s.form.table, []).append(s)
    for table, items in by_table.items():
        try:
            readable = readable_record_ids(actor, table, [s.record_id for s in items])
        except NotFound:
            continue
        records = model_for(table).objects.in_bulk(list(readable))
        for s in items:
            if s.record_id in records:
                leads.append({"submission": s, "record": records[s.record_id], "table": table})
    leads.sort(key=lambda lead: lead["submission"].created_at, reverse=True)
    return {"leads": leads[:LIST_SIZE], "more": len(leads) > LIST_SIZE}


@dataclass
class PlanRow:
    manager: Any
    plan: Decimal
    paid: Decimal

    @property
    def percent(self) -> int:
        return int(self.paid * 100 / self.plan) if self.plan else 0


def sales_plan(actor: Actor, month: dt.date) -> dict[str, Any]:
    """Plans of the month against the invoices paid in it (by «Дата оплаты», per «Менеджер»):
    a manager sees his own plan; whoever reads every invoice sees every plan."""
    from kartoteka.records.selectors import base_queryset

    table = get_table(actor, "invoices")
    end = (month + dt.timedelta(days=32)).replace(day=1)
    plans = SalesPlan.objects.filter(month=month).select_related("manager")
    if not actor.is_admin:
        plans = plans.filter(manager=actor.user)
    paid = dict(
        base_queryset(actor, table)
        .filter(paid=True, paid_date__gte=month, paid_date__lt=end)
        .values("manager_id")
        .annotate(total=Sum("total"))
        .values_list("manager_id", "total")
    )
    rows = [
        PlanRow(
            p.manager, p.amount, Decimal(str(paid.get(p.manager_id) or 0)).quantize(Decimal("0.01"))
        )
        for p in plans
    ]
    return {"plans": rows, "month": month}


def set_sales_plan(actor: Actor, manager: Any, month: dt.date, amount: Decimal | None) -> None:
    """Set (or with ``None`` remove) a manager's plan for a month; administrators only."""
    if not actor.is_admin:
        raise PermissionDenied(_("Планы продаж задаёт администратор."))
    month = month.replace(day=1)
    if amount is None:
        SalesPlan.objects.filter(manager=manager, month=month).delete()
        return
    if amount < 0:
        raise DesktopError(_("План не может быть отрицательным."))
    SalesPlan.objects.update_or_create(manager=manager, month=month, defaults={"amount": amount})
