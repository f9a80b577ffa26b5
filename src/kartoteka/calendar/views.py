"""«Календарь»: month, week and day views, rescheduling by drag and drop, the personal ICS feed."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kartoteka.access.rights import visible_fields
from kartoteka.calendar import services
from kartoteka.calendar.ics import build_feed
from kartoteka.calendar.sources import (
    available_sources,
    choose_sources,
    count_by_day,
    items_between,
)
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, NotFound, PermissionDenied
from kartoteka.records.selectors import get_table

VIEWS = {
    "month": gettext_lazy("Месяц"),
    "week": gettext_lazy("Неделя"),
    "day": gettext_lazy("День"),
}
WEEKDAYS = (
    gettext_lazy("Пн"),
    gettext_lazy("Вт"),
    gettext_lazy("Ср"),
    gettext_lazy("Чт"),
    gettext_lazy("Пт"),
    gettext_lazy("Сб"),
    gettext_lazy("Вс"),
)
MONTHS = (
    gettext_lazy("Январь"),
    gettext_lazy("Февраль"),
    gettext_lazy("Март"),
    gettext_lazy("Апрель"),
    gettext_lazy("Май"),
    gettext_lazy("Июнь"),
    gettext_lazy("Июль"),
    gettext_lazy("Август"),
    gettext_lazy("Сентябрь"),
    gettext_lazy("Октябрь"),
    gettext_lazy("Ноябрь"),
    gettext_lazy("Декабрь"),
)


def _actor(request: HttpRequest, source: str = "calendar") -> Actor:
    return Actor.for_user(request.user, source=source)


def _parse_day(text: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(text or "")
    except ValueError:
        return timezone.localdate()


def _range(view: str, day: dt.date) -> tuple[dt.date, dt.date]:
    if view == "day":
        return day, day
    if view == "week":
        start = day - dt.timedelta(days=day.weekday())
        return start, start + dt.timedelta(days=6)
    first = day.replace(day=1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return first - dt.timedelta(days=first.weekday()), last + dt.timedelta(days=6 - last.weekday())


def _step(view: str, day: dt.date, direction: int) -> dt.date:
    if view == "day":
        return day + dt.timedelta(days=direction)
    if view == "week":
        return day + dt.timedelta(days=7 * direction)
    month = day.month - 1 + direction
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def _title(view: str, day: dt.date, start: dt.date, end: dt.date) -> str:
    if view == "month":
        return f"{MONTHS[day.month - 1]} {day.year}"
    if view == "week":
        return f"{start:%d.%m.%Y} — {end:%d.%m.%Y}"
    return f"{WEEKDAYS[day.weekday()]}, {day:%d.%m.%Y}"


@login_required
def calendar_page(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    view = request.GET.get("view", "month")
    if view not in VIEWS:
        view = "month"
    day = _parse_day(request.GET.get("date"))
    keys = request.GET.getlist("source")
    colors = {}
    for raw in request.GET.getlist("color"):
        table_key, _sep, field_key = raw.partition(".")
        colors[table_key] = field_key
    sources = choose_sources(actor, keys, colors)
    user_param = request.GET.get("user", "me")
    user_id: int | None
    if user_param == "all":
        user_id = None
    elif user_param.isdigit():
        user_id = int(user_param)
    else:
        user_id, user_param = request.user.pk, "me"
    start, end = _range(view, day)
    items = items_between(actor, sources, start, end, user_id=user_id)
    by_day: dict[dt.date, list[Any]] = defaultdict(list)
    for item in items:
        by_day[item.day].append(item)
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    weeks = [days[i : i + 7] for i in range(0, len(days), 7)]
    today = timezone.localdate()
    query = request.GET.copy()
    nav = {}
    for name, target in (("prev", _step(view, day, -1)), ("next", _step(view, day, 1))):
        query["date"] = target.isoformat()
        nav[name] = "?" + query.urlencode()
    query["date"] = today.isoformat()
    nav["today"] = "?" + query.urlencode()
    view_links = []
    for key, label in VIEWS.items():
        q = request.GET.copy()
        q["view"] = key
        q["date"] = day.isoformat()
        view_links.append((key, label, "?" + q.urlencode()))
    context = {
        "view": view,
        "view_links": view_links,
        "day": day,
        "title": _title(view, day, start, end),
        "weeks": [[(d, by_day.get(d, [])) for d in week] for week in weeks],
        "days": [(d, by_day.get(d, [])) for d in days],
        "weekdays": WEEKDAYS,
        "today": today,
        "month": day.month,
        "nav": nav,
        "sources": sources,
        "all_sources": available_sources(actor),
        "chosen_keys": {s.key for s in sources},
        "color_options": [
            (s, [f for f in visible_fields(actor, s.table) if f.type == "choice"]) for s in sources
        ],
        "users": get_user_model().objects.filter(is_active=True).order_by("last_name", "username"),
        "user_param": user_param,
        "feed": services.active_feed(actor),
        "move_url": reverse("calendar:move"),
        "item_count": len(items),
    }
    if request.htmx and request.htmx.target == "calendar-body":
        return render(request, "calendar/calendar.html#body", context)
    return render(request, "calendar/calendar.html", context)


@login_required
@require_POST
def move(request: HttpRequest) -> HttpResponse:
    """Reschedule an item dropped on another day; the records service runs rules and history."""
    actor = _actor(request)
    try:
        table = get_table(actor, request.POST.get("table", ""))
        pk = int(request.POST.get("pk", ""))
        day = dt.date.fromisoformat(request.POST.get("date", ""))
    except (NotFound, ValueError):
        return JsonResponse({"ok": False, "error": _("Неверный запрос.")}, status=400)
    try:
        services.move_item(actor, table, pk, request.POST.get("field", ""), day)
    except NotFound:
        raise Http404 from None
    except PermissionDenied as exc:
        return JsonResponse({"ok": False, "error": exc.message}, status=403)
    except KartotekaError as exc:
        return JsonResponse({"ok": False, "error": exc.message}, status=400)
    return JsonResponse({"ok": True})


@login_required
def counts(request: HttpRequest) -> HttpResponse:
    """Today's and tomorrow's open items of the user (the header badge, loaded by HTMX)."""
    today = timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    by_day = count_by_day(_actor(request), request.user.pk, [today, tomorrow])
    return render(
        request,
        "calendar/_counts.html",
        {"today_count": by_day[today], "tomorrow_count": by_day[tomorrow]},
    )


@login_required
@require_POST
def feed_create(request: HttpRequest) -> HttpResponse:
    services.create_feed(_actor(request))
    messages.success(request, _("Создана новая ссылка на календарь; прежняя больше не работает."))
    return redirect(reverse("calendar:page") + "#feed")


@login_required
@require_POST
def feed_revoke(request: HttpRequest) -> HttpResponse:
    services.revoke_feed(_actor(request))
    messages.success(request, _("Ссылка на календарь отозвана."))
    return redirect(reverse("calendar:page") + "#feed")


def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The ICS feed: no log-in, the secret token is the credential."""
    try:
        found = services.feed_by_token(token)
    except NotFound:
        raise Http404 from None
    body = build_feed(found.user, request.build_absolute_uri("/"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="kartoteka.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
