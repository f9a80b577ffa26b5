"""Pages of the web UI. Views are thin and generic: one set serves every table.

A view parses input, calls a selector or a service, and renders. With HTMX a view returns just a
named partial of its template (django-template-partials: ``"record.html#subtable"``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kartoteka.access import rights
from kartoteka.access.models import VERBS
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, NotFound, PermissionDenied
from kartoteka.records import selectors, services
from kartoteka.records.rules import rules_for
from kartoteka.tables.modelfactory import STATE_ACTIVE
from kartoteka.tables.models import Table
from kartoteka.web import files
from kartoteka.web.forms import (
    apply_errors,
    default_initial,
    record_form_class,
    submitted_values,
)
from kartoteka.web.present import cells, grid_columns, history_lines, record_groups

STATE_LABELS = {
    "active": gettext_lazy("Активные"),
    "archived": gettext_lazy("Архив"),
    "deleted": gettext_lazy("Удалённые"),
}


def _actor(request: HttpRequest, source: str = "form") -> Actor:
    return Actor.for_user(request.user, source=source)


def _table(request: HttpRequest, key: str) -> Table:
    try:
        return selectors.get_table(_actor(request), key)
    except NotFound:
        raise Http404 from None


def _require(request: HttpRequest, table: Table, verb: str) -> None:
    """403 before a form is even shown when the group lacks the right (the service would refuse
    the write anyway)."""
    if not rights.can(_actor(request), table, verb):
        raise PermissionDenied(
            _("Нет права на это действие в таблице «%(t)s».") % {"t": table.label}
        )


def _record(request: HttpRequest, table: Table, pk: int) -> Any:
    try:
        return selectors.get_record(_actor(request), table, pk)
    except NotFound:
        raise Http404 from None


@login_required
def home(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    # The desktop's frame: the table list without its counts (``home_counts`` fills them in
    # once the page is shown: a count of a million rows must not hold the page).
    tables = [(t, None) for t in selectors.list_tables(actor)]
    from kartoteka.reports.desktop_views import desktop_context

    return render(request, "web/home.html", {"tables": tables, **desktop_context(request)})


@login_required
def home_counts(request: HttpRequest) -> HttpResponse:
    """The home page's table counts, swapped into their badges out of band."""
    actor = _actor(request)
    tables = [(t, selectors.base_queryset(actor, t).count()) for t in selectors.list_tables(actor)]
    return render(request, "web/home.html#counts", {"tables": tables})


@login_required
def record_add(request: HttpRequest, key: str) -> HttpResponse:
    table = _table(request, key)
    _require(request, table, "add")
    fields = rights.editable_fields(_actor(request), table)
    form_class = record_form_class(fields, mode="add", actor=_actor(request))
    initial = default_initial(fields, request.user)
    # «Назначить задание» and similar buttons open the form with some fields filled in.
    known = {f.key for f in fields}
    initial.update({k: v for k, v in request.GET.items() if k in known and v})
    form = form_class(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.create_record(_actor(request), table, submitted_values(form, fields))
        except KartotekaError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Запись «%(title)s» добавлена.") % {"title": record})
            return redirect("record", key=table.key, pk=record.pk)
    return render(request, "web/record_form.html", {"table": table, "form": form, "record": None})


@login_required
def record_detail(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    table = _table(request, key)
    record = _record(request, table, pk)
    actor = _actor(request)
    selectors.mask_unreadable_links(actor, table, [record])
    subtables = [
        _subtable_context(request, link, record)
        for link in selectors.visible_subtables(actor, table)
    ]
    history = _history(actor, table, pk)
    from kartoteka.records.actions import allowed_actions

    return render(
        request,
        "web/record_detail.html",
        {
            "table": table,
            "record": record,
            "groups": record_groups(record, rights.visible_fields(actor, table)),
            "can": {verb: rights.can(actor, table, verb) for verb in VERBS},
            "subtables": subtables,
            "history": history,
            "state_label": STATE_LABELS[record.record_state],
            "actions": [(a, a.link(record)) for a in allowed_actions(actor, table)],
        },
    )


def _subtable_context(
    request: HttpRequest, link: Any, parent: Any, form: Any = None, editing: Any = None
) -> dict[str, Any]:
    sub = link.table
    actor = _actor(request)
    allowed = {f.key for f in rights.grid_fields_allowed(actor, sub)}
    columns = [c for c in grid_columns(sub) if c.key != link.key and c.key in allowed]
    qs = selectors.list_records(actor, sub, parent=(link.key, parent.pk), ordering=["id"])
    shown = selectors.mask_unreadable_links(actor, sub, list(qs[:200]))
    locked = rules_for(sub).locked_rows(actor, shown)
    rows = [(r, cells(r, columns), locked.get(r.pk)) for r in shown]
    if form is None:
        fields = rights.editable_fields(actor, sub)
        form = record_form_class(fields, mode="add", actor=actor, exclude=(link.key,))(
            prefix=f"sub-{sub.key}", initial=default_initial(fields, request.user)
        )
    base = [parent_key(link), parent.pk, sub.key]
    return {
        "table": sub,
        "link": link,
        "columns": columns,
        "rows": rows,
        "form": form,
        "parent": parent,
        "add_url": reverse("subtable_add", args=base),
        "row_url": reverse("subtable_add", args=base).rsplit("add/", 1)[0],
        "editing": editing,
        "can_add": rights.can(actor, sub, "add"),
        "can_edit": rights.can(actor, sub, "edit"),
        "can_delete": rights.can(actor, sub, "delete"),
    }


def parent_key(link: Any) -> str:
    return link.link_table.key


@login_required
@require_POST
def subtable_add(request: HttpRequest, key: str, pk: int, sub: str) -> HttpResponse:
    """Add a row to a subtable from the card; with HTMX only the subtable is re-rendered."""
    table = _table(request, key)
    parent = _record(request, table, pk)
    link = _subtable_link(request, table, sub)
    _require(request, link.table, "add")
    fields = rights.editable_fields(_actor(request), link.table)
    form_class = record_form_class(fields, mode="add", actor=_actor(request), exclude=(link.key,))
    form = form_class(request.POST, request.FILES or None, prefix=f"sub-{sub}")
    if form.is_valid():
        values = submitted_values(form, fields)
        values[link.key] = parent.pk
        try:
            services.create_record(_actor(request), link.table, values)
        except KartotekaError as exc:
            apply_errors(form, exc)
        else:
            form = None
            if not request.htmx:
                messages.success(request, _("Строка добавлена."))
                return redirect("record", key=table.key, pk=parent.pk)
    if request.htmx:
        return _render_subtable(request, table, _subtable_context(request, link, parent, form))
    return redirect("record", key=table.key, pk=parent.pk)


def _subtable_link(request: HttpRequest, table: Table, sub: str) -> Any:
    actor = _actor(request)
    link = next((f for f in selectors.visible_subtables(actor, table) if f.table.key == sub), None)
    if link is None:
        raise Http404
    return link


def _subtable_row(request: HttpRequest, link: Any, parent: Any, row: int) -> Any:
    """An active row of the parent's subtable; a row of another parent, or one archived or deleted
    meanwhile (say, from another tab), is not found."""
    record = _record(request, link.table, row)
    if getattr(record, f"{link.key}_id") != parent.pk or record.record_state != STATE_ACTIVE:
        raise Http404
    return record


def _render_subtable(request: HttpRequest, table: Table, context: dict[str, Any]) -> HttpResponse:
    """The subtable, and beside it (out of band) the parent's fields and history read afresh: a
    row written may have moved the parent's status, sums or dates."""
    response = render(request, "web/record_detail.html#subtable", {"sub": context, "table": table})
    actor = _actor(request)
    parent = _record(request, table, context["parent"].pk)
    selectors.mask_unreadable_links(actor, table, [parent])
    parent_context = {
        "table": table,
        "record": parent,
        "groups": record_groups(parent, rights.visible_fields(actor, table)),
        "history": _history(actor, table, parent.pk),
        "oob": True,
    }
    for part in ("fields", "history"):
        response.write(render_to_string(f"web/record_detail.html#{part}", parent_context, request))
    response["HX-Trigger"] = "recordChanged"
    return response


def _history(actor: Actor, table: Table, pk: int) -> list[Any]:
    return history_lines(table, selectors.get_history(actor, table, pk, limit=100), actor)


@login_required
def subtable_view(request: HttpRequest, key: str, pk: int, sub: str) -> HttpResponse:
    """The subtable section of a card alone (HTMX refresh, e.g. after cancelling an edit)."""
    table = _table(request, key)
    parent = _record(request, table, pk)
    link = _subtable_link(request, table, sub)
    if not request.htmx:
        return redirect("record", key=table.key, pk=parent.pk)
    return _render_subtable(request, table, _subtable_context(request, link, parent))


@login_required
def subtable_row_edit(request: HttpRequest, key: str, pk: int, sub: str, row: int) -> HttpResponse:
    """Edit one subtable row in place: GET shows its form in the subtable, POST saves it."""
    table = _table(request, key)
    parent = _record(request, table, pk)
    link = _subtable_link(request, table, sub)
    record = _subtable_row(request, link, parent, row)
    _require(request, link.table, "edit")
    fields = rights.editable_fields(_actor(request), link.table)
    form_class = record_form_class(fields, mode="edit", actor=_actor(request), exclude=(link.key,))
    initial = services.current_values(record, fields)
    form = form_class(
        request.POST if request.method == "POST" else None,
        request.FILES or None,
        initial=initial,
        prefix=f"edit-{sub}",
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_record(_actor(request), link.table, record.pk, submitted_values(form))
        except KartotekaError as exc:
            apply_errors(form, exc)
        else:
            if not request.htmx:
                return redirect("record", key=table.key, pk=parent.pk)
            return _render_subtable(request, table, _subtable_context(request, link, parent))
    context = _subtable_context(request, link, parent, editing={"record": record, "form": form})
    if not request.htmx:
        return redirect("record", key=table.key, pk=parent.pk)
    return _render_subtable(request, table, context)


@login_required
@require_POST
def subtable_row_delete(
    request: HttpRequest, key: str, pk: int, sub: str, row: int
) -> HttpResponse:
    """Move a subtable row to the trash from the card (it can be restored from its table)."""
    table = _table(request, key)
    parent = _record(request, table, pk)
    link = _subtable_link(request, table, sub)
    record = _subtable_row(request, link, parent, row)
    _require(request, link.table, "delete")
    try:
        services.trash_records(_actor(request), link.table, [record.pk])
    except KartotekaError as exc:
        messages.error(request, exc.message)
    if not request.htmx:
        return redirect("record", key=table.key, pk=parent.pk)
    return _render_subtable(request, table, _subtable_context(request, link, parent))


@login_required
@require_POST
def record_action(request: HttpRequest, key: str, pk: int, action: str) -> HttpResponse:
    """Run one of the table's actions on this record (e.g. «Выписать счёт»)."""
    from kartoteka.records.actions import get_action, run_action

    table = _table(request, key)
    record = _record(request, table, pk)
    found = get_action(table, action)
    if found is None:
        raise Http404
    params = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
    actor = _actor(request, source=f"action:{action}")
    try:
        result = run_action(actor, table, found, [record.pk], params)
    except PermissionDenied:
        raise
    except KartotekaError as exc:
        messages.error(request, exc.message)
        return redirect("record", key=table.key, pk=record.pk)
    messages.success(request, result.message)
    return redirect(result.redirect_to or reverse("record", args=[table.key, record.pk]))


@login_required
def record_edit(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    table = _table(request, key)
    record = _record(request, table, pk)
    _require(request, table, "edit")
    fields = rights.editable_fields(_actor(request), table)
    form_class = record_form_class(fields, mode="edit", actor=_actor(request))
    initial = services.current_values(record, fields)
    form = form_class(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_record(_actor(request), table, record.pk, submitted_values(form))
        except KartotekaError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Изменения сохранены."))
            return redirect("record", key=table.key, pk=record.pk)
    return render(request, "web/record_form.html", {"table": table, "form": form, "record": record})


STATE_ACTIONS = {
    "archive": (services.archive_records, gettext_lazy("Запись перемещена в архив.")),
    "trash": (services.trash_records, gettext_lazy("Запись перемещена в удалённые.")),
    "restore": (services.restore_records, gettext_lazy("Запись восстановлена.")),
    "purge": (services.purge_records, gettext_lazy("Запись удалена навсегда.")),
}


@login_required
@require_POST
def record_state(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    table = _table(request, key)
    record = _record(request, table, pk)
    action = request.POST.get("action", "")
    if action not in STATE_ACTIONS:
        raise Http404
    service, done = STATE_ACTIONS[action]
    try:
        service(_actor(request), table, [record.pk])
    except PermissionDenied:
        raise
    except KartotekaError as exc:
        messages.error(request, exc.message)
        return redirect("record", key=table.key, pk=record.pk)
    messages.success(request, done)
    if action == "purge":
        return redirect("table", key=table.key)
    return redirect("record", key=table.key, pk=record.pk)


@login_required
def record_file(request: HttpRequest, key: str, pk: int, field: str) -> HttpResponse:
    """The file in ``field`` of a record: the reader must be able to read the record (row
    filter) and see the field; served as ``web/files.py`` says (a download unless an image
    or a PDF by its bytes)."""
    table = _table(request, key)
    record = _record(request, table, pk)
    visible = rights.visible_fields(_actor(request), table)
    if not any(f.key == field and f.type == "file" for f in visible):
        raise Http404
    name = getattr(record, field)
    if not name:
        raise Http404
    return files.file_response(name)
