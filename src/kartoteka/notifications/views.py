"""Pages of notifications (the bell, the list, marking read, the e-mail setting) and the
administrator's reminder settings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, NotFound
from kartoteka.notifications import reminder_services, selectors, services
from kartoteka.notifications.forms import ReminderForm
from kartoteka.notifications.models import Reminder
from kartoteka.records.selectors import get_table, list_tables
from kartoteka.tables.modelfactory import fields_of

PAGE = 50


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user)


@login_required
def bell(request: HttpRequest) -> HttpResponse:
    """The bell with the unread count; the menu polls it with HTMX."""
    return render(
        request, "notifications/_bell.html", {"unread": selectors.unread_count(_actor(request))}
    )


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    notes = list(selectors.list_notifications(actor)[:PAGE])
    return render(
        request,
        "notifications/list.html",
        {
            "notes": notes,
            "unread": selectors.unread_count(actor),
            "by_email": selectors.wants_email(actor),
        },
    )


@login_required
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one read and go to its record (or back to the list when it names none)."""
    actor = _actor(request)
    note = selectors.get_notification(actor, pk)
    if note is None:
        raise Http404
    services.mark_read(actor, [note.pk])
    if note.table_id and note.record_id:
        return redirect("record", key=note.table.key, pk=note.record_id)
    return redirect("notifications:list")


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()]
    services.mark_read(actor, ids or None)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return redirect("notifications:list")


@login_required
@require_POST
def email_setting(request: HttpRequest) -> HttpResponse:
    services.set_email_preference(_actor(request), request.POST.get("by_email") == "on")
    messages.success(request, _("Настройка сохранена."))
    return redirect("notifications:list")


# -- reminders (administrators) -----------------------------------------------------------------


def _admin(request: HttpRequest) -> Actor:
    actor = _actor(request)
    if not actor.is_admin:
        raise DjangoPermissionDenied
    return actor


@login_required
def reminder_list(request: HttpRequest) -> HttpResponse:
    _admin(request)
    reminders = list(
        Reminder.objects.select_related("table", "group", "saved_view").prefetch_related("users")
    )
    for reminder in reminders:
        labels = {f.key: f.label for f in fields_of(reminder.table)}
        reminder.date_label = labels.get(reminder.date_field, reminder.date_field)
        reminder.offset_text = offset_words(reminder.offset_minutes)
        reminder.recipient_label = labels.get(reminder.recipient_field, reminder.recipient_field)
    return render(
        request,
        "notifications/reminders.html",
        {"reminders": reminders, "tables": list_tables(_actor(request))},
    )


def offset_words(minutes: int) -> str:
    """``-1440`` → «за 1 день до срока», ``90`` → «через 90 минут после срока», ``0`` → «в срок»."""
    if not minutes:
        return _("в срок")
    amount = abs(minutes)
    if amount % 1440 == 0:
        n = amount // 1440
        span = ngettext("%(n)s день", "%(n)s дней", n) % {"n": n}
    elif amount % 60 == 0:
        n = amount // 60
        span = ngettext("%(n)s час", "%(n)s часов", n) % {"n": n}
    else:
        span = ngettext("%(n)s минуту", "%(n)s минут", amount) % {"n": amount}
    if minutes < 0:
        return _("за %(span)s до срока") % {"span": span}
    return _("через %(span)s после срока") % {"span": span}


@login_required
def reminder_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor = _admin(request)
    reminder = None
    if pk is not None:
        reminder = Reminder.objects.filter(pk=pk).select_related("table").first()
        if reminder is None:
            raise Http404
        table = reminder.table
    else:
        try:
            table = get_table(actor, request.GET.get("table") or request.POST.get("table", ""))
        except NotFound:
            raise Http404 from None
    form = ReminderForm(table, request.POST or None, instance=reminder)
    if request.method == "POST" and form.is_valid():
        try:
            saved = reminder_services.save_reminder(actor, table, form.values(), reminder)
        except KartotekaError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Напоминание «%(name)s» сохранено.") % {"name": saved})
            return redirect("notifications:reminders")
    return render(
        request,
        "notifications/reminder_form.html",
        {"form": form, "table": table, "reminder": reminder},
    )


@login_required
@require_POST
def reminder_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _admin(request)
    try:
        reminder_services.delete_reminder(actor, pk)
    except NotFound:
        raise Http404 from None
    messages.success(request, _("Напоминание удалено."))
    return redirect(reverse("notifications:reminders"))
