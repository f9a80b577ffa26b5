"""The desktop's requests: one widget's contents (loaded by HTMX), add, remove, reorder, a group's
default desktop and the sales plans. Thin views over :mod:`.desktop`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kartoteka.core.actor import MANAGERS_GROUP, Actor
from kartoteka.core.exceptions import KartotekaError, NotFound, PermissionDenied
from kartoteka.reports import desktop, selectors
from kartoteka.reports.models import WIDGETS, SalesPlan


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, source="desktop")


def desktop_context(request: HttpRequest) -> dict[str, Any]:
    """What the home page needs to draw the desktop's frame (no widget is computed here)."""
    actor = _actor(request)
    slots = desktop.desktop(actor)
    return {
        "slots": list(enumerate(slots)),
        "widget_kinds": [(k, label) for k, label in WIDGETS if k != "report"],
        "own_reports": list(selectors.list_reports(actor)),
        "groups": Group.objects.order_by("name") if actor.is_admin else [],
    }


@login_required
def widget(request: HttpRequest) -> HttpResponse:
    """One widget's contents: ``?kind=…`` (and ``&report=N``), for the desktop's lazy load."""
    kind = request.GET.get("kind", "")
    report = request.GET.get("report", "")
    slot = desktop.Slot(kind, int(report) if report.isdigit() else None)
    if kind not in desktop.KIND_LABELS:
        raise Http404
    try:
        context = desktop.widget_context(_actor(request), slot)
    except NotFound:
        context = {"unavailable": True}
    context["slot"] = slot
    return render(request, "reports/_widget.html", context)


def _done(request: HttpRequest, call: Any, *args: Any) -> HttpResponse:
    try:
        call(_actor(request), *args)
    except KartotekaError as exc:
        messages.error(request, exc.message)
    return redirect("home")


@login_required
@require_POST
def add(request: HttpRequest) -> HttpResponse:
    """Add a widget: ``widget=tasks_today`` or ``widget=report:N`` (a saved report)."""
    kind, _colon, report = request.POST.get("widget", "").partition(":")
    return _done(request, desktop.add_widget, kind, int(report) if report.isdigit() else None)


@login_required
@require_POST
def remove(request: HttpRequest, index: int) -> HttpResponse:
    return _done(request, desktop.remove_widget, index)


@login_required
@require_POST
def move(request: HttpRequest) -> HttpResponse:
    """The new order after a drag and drop: ``order=2,0,1`` (current positions). Answers 204."""
    text = request.POST.get("order", "")
    try:
        order = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        order = None  # the message of int() would echo what was sent
    if order is None:
        return HttpResponse(_("Порядок виджетов не понят."), status=400, content_type="text/plain")
    try:
        desktop.move_widgets(_actor(request), order)
    except KartotekaError as exc:
        return HttpResponse(
            getattr(exc, "message", str(exc)), status=400, content_type="text/plain"
        )
    return HttpResponse(status=204)


@login_required
@require_POST
def set_default(request: HttpRequest) -> HttpResponse:
    """Administrators: make their own desktop the default of a group."""
    actor = _actor(request)
    group = Group.objects.filter(pk=request.POST.get("group") or 0).first()
    if group is None:
        raise Http404
    try:
        desktop.set_desktop(actor, desktop.desktop(actor), group=group)
    except PermissionDenied:
        return HttpResponse(status=403)
    except KartotekaError as exc:
        messages.error(request, exc.message)
        return redirect("home")
    messages.success(
        request, _("Рабочий стол по умолчанию для группы «%(group)s» сохранён.") % {"group": group}
    )
    return redirect("home")


def _month(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(f"{text}-01") if text else timezone.localdate().replace(day=1)
    except ValueError:
        return timezone.localdate().replace(day=1)


@login_required
def plans(request: HttpRequest) -> HttpResponse:
    """«План продаж»: administrators set each manager's plan for a month."""
    actor = _actor(request)
    if not actor.is_admin:
        return HttpResponse(status=403)
    month = _month(request.GET.get("month") or request.POST.get("month", ""))
    managers = list(
        get_user_model()
        .objects.filter(groups__name=MANAGERS_GROUP, is_active=True)
        .order_by("last_name", "first_name")
    )
    if request.method == "POST":
        try:
            for manager in managers:
                text = request.POST.get(f"plan-{manager.pk}", "").replace(" ", "").replace(",", ".")
                amount = Decimal(text) if text else None
                desktop.set_sales_plan(actor, manager, month, amount)
        except (InvalidOperation, KartotekaError) as exc:
            messages.error(request, getattr(exc, "message", _("Введите сумму числом.")))
        else:
            messages.success(request, _("Планы продаж сохранены."))
            return redirect(f"{request.path}?month={month:%Y-%m}")
    current = dict(SalesPlan.objects.filter(month=month).values_list("manager_id", "amount"))
    rows = [(m, current.get(m.pk)) for m in managers]
    return render(request, "reports/plans.html", {"rows": rows, "month": month})
