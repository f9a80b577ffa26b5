"""The grid of any table: tabs, search, sort, filters, saved views, columns, totals, keyset pages,
selection and bulk actions. Reads go through the selectors, writes through the services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kartoteka.access import rights
from kartoteka.access.models import VERBS
from kartoteka.access.rights import editable_fields, visible_fields
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import (
    KartotekaError,
    NotFound,
    PermissionDenied,
    RecordValidationError,
)
from kartoteka.grids import selectors as grid_selectors
from kartoteka.grids import services as grid_services
from kartoteka.records import selectors, services
from kartoteka.records.actions import allowed_actions, run_action
from kartoteka.records.paging import count_rows, keyset_page
from kartoteka.tables.fieldtypes.base import OPERATOR_LABELS, VALUELESS_OPERATORS
from kartoteka.tables.fieldtypes.choice import choices_of
from kartoteka.tables.fieldtypes.link import MAX_ID
from kartoteka.tables.modelfactory import fields_of
from kartoteka.tables.models import Field, Table
from kartoteka.web.forms import apply_errors, record_form_class
from kartoteka.web.gridstate import GridState, parse_state
from kartoteka.web.present import grid_row_html

TAB_LABELS = [
    ("active", gettext_lazy("Активные")),
    ("archived", gettext_lazy("Архив")),
    ("deleted", gettext_lazy("Удалённые")),
    ("all", gettext_lazy("Все")),
]
#: How many records one bulk operation changes per service call (all in one transaction).
BULK_CHUNK = 1000


def _actor(request: HttpRequest, source: str = "form") -> Actor:
    return Actor.for_user(request.user, source=source)


def _table(request: HttpRequest, key: str) -> Table:
    try:
        return selectors.get_table(_actor(request), key)
    except NotFound:
        raise Http404 from None


def _apply_view(request: HttpRequest, table: Table, state: GridState) -> GridState:
    """Opening a saved view (``?view=N`` alone) loads its filter into the grid state."""
    if state.view and not (state.conditions or state.quick or state.search):
        try:
            view = grid_selectors.get_view(_actor(request), table, state.view)
        except NotFound:
            raise Http404 from None
        state.conditions = grid_services.view_conditions(view)
        state.match = view.match
        state.search = view.search
        if view.ordering and "o" not in request.GET:
            state.order = view.ordering
    return state


def filtered_queryset(actor: Actor, table: Table, state: GridState) -> Any:
    fields = {f.key: f for f in fields_of(table)}
    return selectors.list_records(
        actor,
        table,
        state=state.db_state,
        conditions=state.all_conditions(fields),
        match=state.match,
        search=state.search,
        ordering=[state.order],
    )


def _sort(table: Table, order: str) -> tuple[str, bool]:
    key = order.lstrip("-")
    desc = order.startswith("-")
    if key in ("id", "created_at", "updated_at"):
        return key, desc
    for f in fields_of(table):
        if f.key == key and f.field_type.sortable:
            return (f"{key}_id" if f.field_type.is_relation else key), desc
    return "id", True


def _summable(columns: list[Field]) -> list[Field]:
    return [f for f in columns if f.field_type.summable]


def _page_totals(columns: list[Field], page_rows: list[Any]) -> dict[str, str]:
    """Sums of the summable columns over the rows on the page (already read: no query)."""
    out = {}
    for f in _summable(columns):
        page_sum = sum((getattr(r, f.key) or 0 for r in page_rows), Decimal(0))
        out[f.key] = f.field_type.display(f, page_sum)
    return out


def _filter_totals(qs: Any, columns: list[Field]) -> dict[str, str]:
    """Sums of the summable columns over the whole filter: one SUM over every matching row, so
    the grid loads it separately (``?part=totals``) and its first response never waits for it."""
    summable = _summable(columns)
    if not summable:
        return {}
    overall = qs.order_by().aggregate(**{f.key: Sum(f.key) for f in summable})
    return {f.key: f.field_type.display(f, overall[f.key] or 0) for f in summable}


def _grid_totals(request: HttpRequest, table: Table) -> HttpResponse:
    """The «Всего» row of the grid's footer: the same state, columns and access rights as the
    grid itself, fetched by HTMX once the grid is shown."""
    actor = _actor(request)
    state = _apply_view(request, table, parse_state(request.GET))
    columns = grid_selectors.grid_fields(actor, table)
    status = 200
    try:
        totals = _filter_totals(filtered_queryset(actor, table, state), columns)
    except RecordValidationError as exc:
        totals = {}
        if any(e.code == "hidden_field" for e in exc.errors):
            status = 403
    context = {"table": table, "columns": columns, "filter_totals": totals}
    return render(request, "web/table_list.html#filter-totals", context, status=status)


def _condition_rows(table: Table, state: GridState) -> list[dict[str, Any]]:
    rows = []
    for cond in state.conditions:
        value, value2 = cond.value, ""
        if cond.op == "between" and isinstance(value, list | tuple):
            value, value2 = value
        rows.append({"field": cond.field, "op": cond.op, "value": value or "", "value2": value2})
    return rows


def _filter_fields(actor: Actor, table: Table) -> list[dict[str, Any]]:
    """Fields and their operators for the filter builder (never a field hidden from him)."""
    return [{"field": f} for f in visible_fields(actor, table) if f.field_type.operators]


def _filter_meta(actor: Actor, table: Table) -> dict[str, Any]:
    """Per field: its operators (key, label), its options and its type — read by kartoteka.js."""
    from django.contrib.auth import get_user_model

    from kartoteka.tables.fieldtypes.user import user_display

    users = [[str(u.pk), user_display(u)] for u in get_user_model().objects.filter(is_active=True)]
    meta = {}
    for f in visible_fields(actor, table):
        options: list[list[str]] = []
        if f.type in ("choice", "multi_choice"):
            options = [[c.key, c.label] for c in choices_of(f)]
        elif f.type == "user":
            options = users
        elif f.type == "boolean":
            options = [["да", str(_("Да"))], ["нет", str(_("Нет"))]]
        meta[f.key] = {
            "type": f.type,
            "ops": [[op, str(OPERATOR_LABELS.get(op, op))] for op in f.field_type.operators],
            "options": options,
        }
    return meta


def _share_groups(actor: Actor) -> list[Any]:
    """Groups an administrator may share a saved view with."""
    if not actor.is_admin:
        return []
    from django.contrib.auth.models import Group

    return list(Group.objects.order_by("name"))


def _users_for_filter(columns: list[Field]) -> list[tuple[int, str]]:
    if not any(f.type == "user" for f in columns):
        return []
    from django.contrib.auth import get_user_model

    from kartoteka.tables.fieldtypes.user import user_display

    users = get_user_model().objects.filter(is_active=True).order_by("last_name", "username")
    return [(u.pk, user_display(u)) for u in users]


@login_required
def table_list(request: HttpRequest, key: str) -> HttpResponse:
    table = _table(request, key)
    if request.GET.get("part") == "totals":
        return _grid_totals(request, table)
    actor = _actor(request)
    state = _apply_view(request, table, parse_state(request.GET))
    columns = grid_selectors.grid_fields(actor, table)
    error = ""
    status = 200
    try:
        qs = filtered_queryset(actor, table, state)
        column, desc = _sort(table, state.order)
        page = keyset_page(
            qs,
            column=column,
            descending=desc,
            size=table.page_size,
            cursor=state.cursor or None,
            direction=state.direction,
        )
        total, exactness = count_rows(qs, filtered=state.filtered)
        totals = _page_totals(columns, page.rows)
    except RecordValidationError as exc:
        error = "; ".join(e.message for e in exc.errors)
        page, total, exactness, totals = None, 0, "exact", {}
        if any(e.code == "hidden_field" for e in exc.errors):
            status = 403
    base_url = reverse("table", args=[table.key])
    shown = selectors.mask_unreadable_links(actor, table, list(page.rows) if page else [])
    rows = [(record, grid_row_html(record, columns, f"{base_url}{record.pk}/")) for record in shown]
    context = {
        "table": table,
        "columns": columns,
        "all_fields": visible_fields(actor, table),
        "can_mail": any(f.type in ("email", "phone") for f in visible_fields(actor, table)),
        "rows": rows,
        "page": page,
        "total": total,
        "exactness": exactness,
        "totals": totals,
        "grid": state,
        "query": state.query(),
        "tabs": TAB_LABELS,
        "error": error,
        "views": grid_selectors.list_views(actor, table),
        "filter_fields": _filter_fields(actor, table),
        "filter_meta": _filter_meta(actor, table),
        "users_for_filter": _users_for_filter(columns),
        "condition_rows": _condition_rows(table, state),
        "valueless": sorted(VALUELESS_OPERATORS),
        "is_admin": actor.is_admin,
        "can": {verb: rights.can(actor, table, verb) for verb in VERBS},
        "many_actions": [a for a in allowed_actions(actor, table) if a.many],
        "share_groups": _share_groups(actor),
    }
    template = (
        "web/table_list.html#grid"
        if request.htmx and request.htmx.target == "grid"
        else ("web/table_list.html")
    )
    return render(request, template, context, status=status)


@login_required
@require_POST
def save_view(request: HttpRequest, key: str) -> HttpResponse:
    table = _table(request, key)
    state = parse_state(QueryDict(request.POST.get("query", "")))
    fields = {f.key: f for f in fields_of(table)}
    from django.contrib.auth.models import Group

    group_ids = posted_ids(request.POST.getlist("groups"))
    groups = list(Group.objects.filter(pk__in=group_ids)) if group_ids else None
    try:
        view = grid_services.save_view(
            _actor(request),
            table,
            name=request.POST.get("name", ""),
            conditions=state.all_conditions(fields),
            match=state.match,
            search=state.search,
            ordering=state.order,
            groups=groups,
        )
    except KartotekaError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("table", args=[table.key]) + "?" + request.POST.get("query", ""))
    messages.success(request, _("Фильтр «%(name)s» сохранён.") % {"name": view.name})
    return redirect(reverse("table", args=[table.key]) + f"?view={view.pk}")


@login_required
@require_POST
def delete_view(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    table = _table(request, key)
    actor = _actor(request)
    try:
        grid_services.delete_view(actor, grid_selectors.get_view(actor, table, pk))
    except NotFound:
        raise Http404 from None
    except KartotekaError as exc:
        messages.error(request, exc.message)
    return redirect("table", key=table.key)


@login_required
def columns(request: HttpRequest, key: str) -> HttpResponse:
    """Choose and order the grid's columns (remembered per user)."""
    table = _table(request, key)
    actor = _actor(request)
    if request.method == "POST":
        if request.POST.get("reset"):
            grid_services.reset_columns(actor, table)
        else:
            chosen = request.POST.getlist("col")
            order = {k: i for i, k in enumerate(request.POST.getlist("order"))}
            chosen.sort(key=lambda k: order.get(k, 10**6))
            try:
                grid_services.set_columns(actor, table, chosen)
            except KartotekaError as exc:
                messages.error(request, exc.message)
        return redirect(reverse("table", args=[table.key]) + "?" + request.POST.get("query", ""))
    shown = grid_selectors.grid_fields(actor, table)
    shown_keys = [f.key for f in shown]
    rest = [f for f in rights.grid_fields_allowed(actor, table) if f.key not in shown_keys]
    return render(
        request,
        "web/columns.html",
        {"table": table, "shown": shown, "rest": rest, "query": request.GET.get("query", "")},
    )


# -- bulk actions --------------------------------------------------------------------------------

BULK_ACTIONS = {
    "edit": gettext_lazy("Изменить поля"),
    "archive": gettext_lazy("В архив"),
    "trash": gettext_lazy("Удалить"),
    "restore": gettext_lazy("Восстановить"),
    "purge": gettext_lazy("Удалить навсегда"),
}


def posted_ids(values: list[str]) -> list[int]:
    """Record ids from a form, leaving out anything that is no id: ``"²"`` passes ``isdigit``
    but not ``int``, and a number beyond 64 bits no database can even bind."""
    return [int(v) for v in values if v.isascii() and v.isdigit() and 0 < int(v) <= MAX_ID]


def _selected_ids(request: HttpRequest, table: Table) -> tuple[list[int], GridState]:
    """The ids a bulk action applies to: the ticked rows, or every row of the grid's filter."""
    state = parse_state(QueryDict(request.POST.get("query", "")))
    if request.POST.get("all") == "1":
        qs = filtered_queryset(_actor(request), table, state)
        return list(qs.order_by("id").values_list("id", flat=True)), state
    ids = posted_ids(request.POST.getlist("ids"))
    return sorted(set(ids)), state


@login_required
@require_POST
def bulk(request: HttpRequest, key: str) -> HttpResponse:
    """Two steps: the confirmation (how many records will change, and for an edit which fields
    and values), then the change through the records service in one transaction."""
    table = _table(request, key)
    actor = _actor(request, source="bulk")
    action = request.POST.get("action", "")
    if action not in BULK_ACTIONS:
        raise Http404
    if not rights.can(actor, table, "bulk_edit"):
        raise PermissionDenied(_("Нет права на групповые операции в этой таблице."))
    ids, state = _selected_ids(request, table)
    back = reverse("table", args=[table.key]) + "?" + state.query()
    if not ids:
        messages.error(request, _("Не выбрано ни одной записи."))
        return redirect(back)
    fields = [f for f in editable_fields(actor, table) if not f.read_only and f.type != "file"]
    form_class = record_form_class(fields, mode="edit", actor=actor)
    form = form_class(request.POST if request.POST.get("confirm") else None, prefix="bulk")
    for f in form.fields.values():
        f.required = False
    chosen = [k for k in request.POST.getlist("set") if k in form.fields]
    if request.POST.get("confirm"):
        if action == "edit" and not chosen:
            form.add_error(None, _("Отметьте поля, которые нужно изменить."))
        elif action != "edit" or form.is_valid():
            try:
                changed = _run_bulk(actor, table, action, ids, form, chosen)
            except KartotekaError as exc:
                apply_errors(form, exc)
                if not form.errors:
                    form.add_error(None, exc.message)
            else:
                messages.success(request, _("Изменено записей: %(n)s.") % {"n": changed})
                return redirect(back)
    return render(
        request,
        "web/bulk.html",
        {
            "table": table,
            "action": action,
            "action_label": BULK_ACTIONS[action],
            "count": len(ids),
            "ids": ids if request.POST.get("all") != "1" else [],
            "all": request.POST.get("all") == "1",
            "query": request.POST.get("query", ""),
            "form": form,
            "chosen": chosen,
            "back": back,
        },
    )


def _run_bulk(
    actor: Actor, table: Table, action: str, ids: list[int], form: Any, chosen: list[str]
) -> int:
    from django.db import transaction

    with transaction.atomic():
        if action == "edit":
            values = {k: form.cleaned_data.get(k) for k in chosen}
            for start in range(0, len(ids), BULK_CHUNK):
                chunk = ids[start : start + BULK_CHUNK]
                services.update_records(actor, table, [(pk, values) for pk in chunk])
            return len(ids)
        service = {
            "archive": services.archive_records,
            "trash": services.trash_records,
            "restore": services.restore_records,
            "purge": services.purge_records,
        }[action]
        return sum(
            service(actor, table, ids[start : start + BULK_CHUNK])
            for start in range(0, len(ids), BULK_CHUNK)
        )


@login_required
@require_POST
def grid_action(request: HttpRequest, key: str, action: str) -> HttpResponse:
    """Run a table action that takes several records (e.g. «Счёт оплачен») on the selection."""
    from kartoteka.records.actions import get_action

    table = _table(request, key)
    found = get_action(table, action)
    if found is None or not found.many:
        raise Http404
    ids, state = _selected_ids(request, table)
    back = reverse("table", args=[table.key]) + "?" + state.query()
    if not ids:
        messages.error(request, _("Не выбрано ни одной записи."))
        return redirect(back)
    try:
        result = run_action(_actor(request, source=f"action:{action}"), table, found, ids, {})
    except PermissionDenied:
        raise
    except KartotekaError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, result.message)
    return redirect(back)


EXPORT_FORMATS = {
    "excel": {"fmt": "csv", "encoding": "cp1251", "delimiter": ";"},
    "csv": {"fmt": "csv", "encoding": "utf-8", "delimiter": ","},
    "xlsx": {"fmt": "xlsx", "encoding": "utf-8", "delimiter": ";"},
}


@login_required
@require_POST
def export(request: HttpRequest, key: str) -> HttpResponse:
    """Download the ticked rows — or, with none ticked or «все записи фильтра», the whole filter —
    as CSV for Russian Excel (Windows-1251, «;»), CSV UTF-8 or XLSX. Streamed: a million rows
    export in constant memory."""
    from django.http import StreamingHttpResponse

    from kartoteka.exports.services import export_records

    table = _table(request, key)
    actor = _actor(request, source="export")
    state = parse_state(QueryDict(request.POST.get("query", "")))
    options = EXPORT_FORMATS.get(request.POST.get("format", ""), EXPORT_FORMATS["excel"])
    ids = None
    if request.POST.get("all") != "1":
        ids = posted_ids(request.POST.getlist("ids")) or None
    fields = {f.key: f for f in fields_of(table)}
    exportable = {f.key for f in rights.export_fields(actor, table)}
    columns = [f.key for f in grid_selectors.grid_fields(actor, table) if f.key in exportable]
    if not rights.can(actor, table, "export"):
        raise PermissionDenied(_("Нет права выгружать эту таблицу."))
    try:
        result = export_records(
            actor,
            table,
            ids=ids,
            conditions=state.all_conditions(fields),
            match=state.match,
            search=state.search,
            state=state.db_state,
            ordering=[state.order],
            fields=["id", *columns],
            **options,
        )
    except KartotekaError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("table", args=[table.key]) + "?" + state.query())
    response = StreamingHttpResponse(result.chunks, content_type=result.content_type)
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    return response


@login_required
def lookup(request: HttpRequest, key: str) -> HttpResponse:
    """Type-ahead search for link pickers: up to 20 records of a table matching ``q``."""
    actor = _actor(request)
    query = request.GET.get("q", "").strip()
    if key == "_users":
        from django.contrib.auth import get_user_model
        from django.db.models import Q

        from kartoteka.tables.fieldtypes.user import user_display

        users = get_user_model().objects.filter(is_active=True)
        for word in query.split():
            users = users.filter(
                Q(username__icontains=word)
                | Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__icontains=word)
            )
        items = [(u.pk, user_display(u)) for u in users.order_by("last_name", "username")[:20]]
    else:
        table = _table(request, key)
        qs = selectors.list_records(actor, table, search=query, ordering=["-id"])
        items = [(r.pk, str(r)) for r in qs[:20]]
    return render(request, "web/lookup.html", {"items": items, "query": query})
